"""Readiness and migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[2]


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (idempotent)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def readiness_problem(session: Session) -> str | None:
    """None when the database answers and is at the newest migration, else why not."""
    try:
        current = MigrationContext.configure(session.connection()).get_current_heads()
    except SQLAlchemyError as error:
        return f"database unreachable: {type(error).__name__}"
    finally:
        session.rollback()
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    if set(current) != set(heads):
        return "database is not migrated; run `tally migrate`"
    return None
