"""The `tally` command."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from app.config import Settings, get_settings

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
        err.print(f"tally: invalid configuration: {name}: {first['msg']}", markup=False)
        raise typer.Exit(2) from None


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Run the service (migrating the embedded SQLite database first)."""
    import uvicorn

    from app.db import make_engine
    from app.logs import configure_logging
    from app.main import create_app
    from app.services.ops import migrate

    settings = settings_or_exit()
    configure_logging(settings.log_level)
    if settings.is_sqlite:
        migrate(make_engine(settings))
    uvicorn.run(
        create_app(settings),
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
    from app.services.ops import migrate as run

    run(make_engine(settings_or_exit()))
    err.print("tally: database migrated")


@keys_cli.command("create")
def create_key(
    name: Annotated[str, typer.Option(help="Who or what uses the key")],
    role: Annotated[str, typer.Option(help="reader, editor or admin")],
) -> None:
    """Create an API key and print it once."""
    from app.db import make_engine, make_sessionmaker
    from app.services import keys
    from app.services.ops import migrate as run

    settings = settings_or_exit()
    if role not in {r.value for r in keys.Role}:
        err.print("tally: --role must be reader, editor or admin")
        raise typer.Exit(2)
    engine = make_engine(settings)
    if settings.is_sqlite:
        run(engine)
    with make_sessionmaker(engine)() as session:
        _, key = keys.create_key(session, name, keys.Role(role))
    print(key)


def main() -> None:
    sys.exit(cli())
