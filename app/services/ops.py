"""Readiness and migrations."""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.db import applied_migrations, migrate, newest_migrations

__all__ = ["migrate", "readiness_problem"]  # migrate: for the CLI and tests, as before


def readiness_problem(session: Session) -> str | None:
    """None when the database answers and is at the newest migration, else why not."""
    try:
        current = applied_migrations(session)
    except SQLAlchemyError as error:
        return f"database unreachable: {type(error).__name__}"
    finally:
        session.rollback()
    if current != newest_migrations():
        return "database is not migrated; run `tally migrate`"
    return None
