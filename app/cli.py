"""The `tally` command."""

from __future__ import annotations

import contextlib
import gc
import logging
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from pydantic import ValidationError
from rich.console import Console

from app.config import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from app.domain.records import ApiKey
    from app.schemas import Extraction
    from app.services.bulk import Outcome

cli = typer.Typer(help="Tally: a ledger of the numbers in the news.", no_args_is_help=True)
keys_cli = typer.Typer(help="Manage API keys.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")
err = Console(stderr=True)


def settings_or_exit() -> Settings:
    """The settings, or one clear line and exit code 2 when they are invalid."""
    try:
        return get_settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = "TALLY_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        print(f"tally: invalid configuration: {name}: {first['msg']}", file=sys.stderr)
        raise typer.Exit(2) from None


def say(line: str) -> None:
    """One line for the person at the terminal, on stderr (stdout carries what was asked for)."""
    print(line, file=sys.stderr, flush=True)


def database_label(settings: Settings) -> str:
    """The configured database as a person reads it: the SQLite file's full path, or the URL
    with its password hidden."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(settings.database_url)
    except ArgumentError:
        return "(an unreadable TALLY_DATABASE_URL)"
    path = _sqlite_path(settings)
    if path is not None:
        return f"{path} (SQLite)"
    if url.get_backend_name() == "sqlite":
        return "an in-memory SQLite database"
    return url.render_as_string(hide_password=True)


def _sqlite_path(settings: Settings) -> Path | None:
    """The SQLite database's file, resolved from the current folder; None for other databases."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).resolve()


@contextlib.contextmanager
def database_errors(settings: Settings, doing: str) -> Iterator[None]:
    """A database that cannot be reached or refuses: one line naming it (password hidden) and
    what failed, and exit code 1, instead of a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        reason = next((line.strip() for line in str(cause).splitlines() if line.strip()), "")
        say(f"tally: cannot {doing} {database_label(settings)}: {reason or type(cause).__name__}")
        raise typer.Exit(1) from None


def configure_logs(level: str) -> None:
    """JSON logs at `level`; alembic's lines ("Context impl SQLiteImpl" at every readiness
    probe, each migration applied) only at debug."""
    from app.logs import configure_logging

    configure_logging(level)
    logging.getLogger("alembic").setLevel(logging.DEBUG if level == "debug" else logging.WARNING)


def existing_database(settings: Settings) -> Engine:
    """The engine of the configured database, which must exist and be migrated: commands that
    read or add to the ledger never create a new, empty database beside the server's."""
    from app.db import applied_migrations, make_engine, make_sessionmaker, newest_migrations

    label = database_label(settings)
    say(f"tally: database {label}")
    path = _sqlite_path(settings)
    if path is not None and not path.exists():
        say(
            f"tally: there is no database at {path}. Start the server once (scripts/serve) or "
            "run `tally migrate` to create one, or set TALLY_DATABASE_URL to the server's."
        )
        raise typer.Exit(1)
    engine = make_engine(settings)
    with database_errors(settings, "read"), make_sessionmaker(engine)() as s:
        applied = applied_migrations(s)
    if applied != newest_migrations():
        state = "is empty" if not applied else "is not at the newest migration"
        say(f"tally: the database {label} {state}: run `tally migrate` first.")
        raise typer.Exit(1)
    return engine


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Run the service (migrating the embedded SQLite database first)."""
    import uvicorn

    from app.db import make_engine, migrate
    from app.main import create_app

    settings = settings_or_exit()
    configure_logs(settings.log_level)
    say(f"tally: database {database_label(settings)}")
    if settings.is_sqlite:
        with database_errors(settings, "migrate"):
            migrate(make_engine(settings))
    app = create_app(settings)
    # What start-up built (modules, routes, schemas) lives as long as the process: kept out of
    # every collection, and young objects collected every 10,000 allocations instead of 700,
    # a write costs a tenth less CPU and its p99 halved (bench/changes.md).
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    uvicorn.run(
        app,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


@cli.command()
def migrate() -> None:
    """Apply the database migrations to the configured database (creating a SQLite file)."""
    from app.db import applied_migrations, make_engine, make_sessionmaker, newest_migrations
    from app.db import migrate as run

    settings = settings_or_exit()
    engine = make_engine(settings)
    with database_errors(settings, "migrate"):
        with make_sessionmaker(engine)() as session:
            before = applied_migrations(session)
        run(engine)
    after, label = ", ".join(sorted(newest_migrations())), database_label(settings)
    if before == newest_migrations():
        say(f"tally: {label} is at the newest migration ({after}); nothing to do")
    else:
        say(f"tally: migrated {label} from {', '.join(sorted(before)) or 'empty'} to {after}")


@cli.command()
def worker() -> None:
    """Send webhook deliveries (for deployments whose servers run with TALLY_RUN_WORKER=false)."""
    import signal

    from app.db import make_engine, make_sessionmaker
    from app.db import migrate as run
    from app.worker import Worker

    settings = settings_or_exit()
    configure_logs(settings.log_level)
    say(f"tally: database {database_label(settings)}")
    engine = make_engine(settings)
    if settings.is_sqlite:
        with database_errors(settings, "migrate"):
            run(engine)
    loop = Worker(make_sessionmaker(engine), settings)
    signal.signal(signal.SIGTERM, lambda *_: loop.stopping.set())
    err.print("tally: webhook worker started")
    with contextlib.suppress(KeyboardInterrupt):
        loop.run()


@keys_cli.command("create")
def create_key(
    name: Annotated[str, typer.Option(help="Who or what uses the key")],
    role: Annotated[str, typer.Option(help="reader, editor or admin")],
) -> None:
    """Create an API key and print it once (on stdout; the rest goes to stderr)."""
    from app.db import make_sessionmaker
    from app.domain.records import Role
    from app.services import keys

    settings = settings_or_exit()
    if role not in {r.value for r in Role}:
        say("tally: --role must be reader, editor or admin")
        raise typer.Exit(2)
    engine = existing_database(settings)
    with database_errors(settings, "add the key to"), make_sessionmaker(engine)() as session:
        created, key = keys.create_key(session, name, Role(role))
    print(key)
    say(
        f"tally: key {created.id} ({created.name}, {created.role.value}) created. Store it now: "
        "it is shown this once and cannot be shown again (Tally keeps only its hash)."
    )


@keys_cli.command("list")
def list_keys() -> None:
    """List the API keys: id, name, role, prefix, when created and revoked (never the keys)."""
    from app.db import make_sessionmaker
    from app.services import keys

    engine = existing_database(settings := settings_or_exit())
    found: list[ApiKey] = []
    with database_errors(settings, "read the keys of"), make_sessionmaker(engine)() as session:
        while page := keys.list_keys(session, int(found[-1].id) if found else 0, 500):
            found += page[:500]
            if len(page) <= 500:
                break
    if not found:
        say("tally: no API keys yet (`tally keys create --name NAME --role ROLE` makes one)")
        return
    _print_keys(found)


def _print_keys(found: list[ApiKey]) -> None:
    rows = [("id", "name", "role", "prefix", "created", "revoked")]
    rows += [
        (str(k.id), k.name, k.role.value, k.prefix + "…", _when(k.created_at), _when(k.revoked_at))
        for k in found
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _when(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M} UTC"


@keys_cli.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="The key's id, as `tally keys list` shows it")],
) -> None:
    """Revoke an API key: servers refuse it from now on (within TALLY_KEY_CACHE_SECONDS)."""
    from app.db import make_sessionmaker
    from app.domain.model import DomainError
    from app.services import keys

    engine = existing_database(settings := settings_or_exit())
    try:
        with database_errors(settings, "revoke the key in"), make_sessionmaker(engine)() as s:
            revoked = keys.revoke_key(s, key_id, keys.KeyCache(0))
    except DomainError as error:
        say(f"tally: {error.detail}")
        raise typer.Exit(1) from None
    seconds = f"{settings.key_cache_seconds:g}"
    say(
        f"tally: key {revoked.id} ({revoked.name}, {revoked.role.value}) is revoked since "
        f"{_when(revoked.revoked_at)}; running servers refuse it within {seconds} s "
        "(TALLY_KEY_CACHE_SECONDS)."
    )


@cli.command("import")
def import_claims(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON or CSV")],
    format: Annotated[str | None, typer.Option(help="ndjson or csv (default: by name)")] = None,
    actor: Annotated[str, typer.Option(help="The name the revisions record")] = "tally import",
) -> None:
    """Record each valid row of FILE as a new claim, like POST /v1/claims/bulk."""
    from rich.progress import Progress

    from app.db import make_sessionmaker
    from app.domain.model import InvalidInput
    from app.services import bulk

    settings = settings_or_exit()
    kind = _import_kind(file, format)
    try:
        with file.open(encoding="utf-8-sig", newline="") as lines:
            rows = list(bulk.read_rows(lines, kind))
    except (InvalidInput, UnicodeDecodeError) as error:
        err.print(f"tally: {file}: {getattr(error, 'detail', error)}", markup=False)
        raise typer.Exit(2) from None
    engine = existing_database(settings)
    outcomes: list[Outcome] = []
    tolerance = settings.figure_tolerance
    with (
        database_errors(settings, "import into"),
        make_sessionmaker(engine)() as session,
        Progress(console=err) as progress,
    ):
        task = progress.add_task("Importing claims", total=len(rows))
        for start in range(0, len(rows), bulk.BATCH_ROWS):
            batch = rows[start : start + bulk.BATCH_ROWS]
            outcomes += bulk.import_rows(session, batch, actor, tolerance, first=start + 1)
            progress.advance(task, len(batch))
    engine.dispose()
    raise typer.Exit(_import_summary(outcomes))


IMPORT_KINDS: dict[str, Literal["ndjson", "csv"]] = {
    "ndjson": "ndjson", "csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".csv": "csv"
}  # fmt: skip


def _import_kind(file: Path, format: str | None) -> Literal["ndjson", "csv"]:
    kind = IMPORT_KINDS.get(format or file.suffix.lower())
    if kind is None:
        err.print("tally: say --format ndjson or --format csv")
        raise typer.Exit(2)
    return kind


def _import_summary(outcomes: list[Outcome]) -> int:
    """Print what was accepted and why each refused row was; exit code 1 when any was."""
    rejected = [o for o in outcomes if o.rejection is not None]
    print(f"{len(outcomes) - len(rejected)} rows accepted, {len(rejected)} rejected.")
    for outcome in rejected:
        for field, detail in outcome.rejection.errors if outcome.rejection else ():
            print(f"row {outcome.row}: {field}: {detail}")
    return 1 if rejected else 0


@cli.command()
def extract(
    file: Annotated[Path, typer.Argument(help="The article as UTF-8 text; - reads stdin")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print JSON, as POST /v1/extract answers")
    ] = False,
    published_at: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z"],
            help="When it was published: resolves days like 'on Sunday'",
        ),
    ] = None,
) -> None:
    """Propose the claims an article states, for a person to check. Stores nothing."""
    from app.schemas import ExtractBody
    from app.services.extraction import propose

    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8-sig")
        body = ExtractBody(text=text, published_at=published_at)
    except (OSError, UnicodeDecodeError) as error:
        print(f"tally: {file}: {error}", file=sys.stderr)
        raise typer.Exit(2) from None
    except ValidationError as error:
        print(f"tally: {file}: {error.errors()[0]['msg']}", file=sys.stderr)
        raise typer.Exit(2) from None
    result = propose(body, settings_or_exit().figure_tolerance)
    if json_output:
        print(result.model_dump_json(indent=2))
    else:
        _print_candidates(result)


def _print_candidates(result: Extraction) -> None:
    """The candidates as a table, then each one's sentence and the cue words it was read from."""
    from rich.table import Table

    if not result.candidates:
        print("No candidate claims found.")
        return
    table = Table(title=f"{len(result.candidates)} candidate claims: check each before posting")
    for name in ("#", "figure", "range", "metric", "population", "claimant", "as of", "conf."):
        table.add_column(name, overflow="fold", no_wrap=name in ("#", "as of", "conf."))
    for n, c in enumerate(result.candidates, 1):
        bounds = _bounds(c.figure.low, c.figure.high)
        who, when = c.claimant or "-", str(c.as_of or "-")
        cells = [c.figure.text, bounds, c.metric or "?", c.population, who, when]
        table.add_row(str(n), *cells, f"{c.confidence:.2f}")
    console = Console(highlight=False)
    console.print(table)
    for n, c in enumerate(result.candidates, 1):
        console.print(f"{n}. {c.quote}", markup=False)
        console.print(f"   {c.why}", markup=False, style="dim")


def _bounds(low: int, high: int | None) -> str:
    if high is None:
        return f"{low:,} or more"
    return f"{low:,}" if low == high else f"{low:,}-{high:,}"


def main() -> None:
    sys.exit(cli())
