"""The `tally` command."""

from __future__ import annotations

import contextlib
import gc
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from pydantic import ValidationError
from rich.console import Console

from app.config import Settings, get_settings

if TYPE_CHECKING:
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


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Run the service (migrating the embedded SQLite database first)."""
    import uvicorn

    from app.db import make_engine, migrate
    from app.logs import configure_logging
    from app.main import create_app

    settings = settings_or_exit()
    configure_logging(settings.log_level)
    if settings.is_sqlite:
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
    """Apply the database migrations to the configured database."""
    from app.db import make_engine
    from app.db import migrate as run

    run(make_engine(settings_or_exit()))
    err.print("tally: database migrated")


@cli.command()
def worker() -> None:
    """Send webhook deliveries (for deployments whose servers run with TALLY_RUN_WORKER=false)."""
    import signal

    from app.db import make_engine, make_sessionmaker
    from app.db import migrate as run
    from app.logs import configure_logging
    from app.worker import Worker

    settings = settings_or_exit()
    configure_logging(settings.log_level)
    engine = make_engine(settings)
    if settings.is_sqlite:
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
    """Create an API key and print it once."""
    from app.db import make_engine, make_sessionmaker
    from app.db import migrate as run
    from app.domain.records import Role
    from app.services import keys

    settings = settings_or_exit()
    if role not in {r.value for r in Role}:
        err.print("tally: --role must be reader, editor or admin")
        raise typer.Exit(2)
    engine = make_engine(settings)
    if settings.is_sqlite:
        run(engine)
    with make_sessionmaker(engine)() as session:
        _, key = keys.create_key(session, name, Role(role))
    print(key)


@cli.command("import")
def import_claims(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="NDJSON or CSV")],
    format: Annotated[str | None, typer.Option(help="ndjson or csv (default: by name)")] = None,
    actor: Annotated[str, typer.Option(help="The name the revisions record")] = "tally import",
) -> None:
    """Record each valid row of FILE as a new claim, like POST /v1/claims/bulk."""
    from rich.progress import Progress

    from app.db import make_engine, make_sessionmaker
    from app.db import migrate as run
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
    engine = make_engine(settings)
    if settings.is_sqlite:
        run(engine)
    outcomes: list[Outcome] = []
    tolerance = settings.figure_tolerance
    with make_sessionmaker(engine)() as session, Progress(console=err) as progress:
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
