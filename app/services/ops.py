"""Readiness, migrations, and what a database error says about the database."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from app.db import applied_migrations, migrate, newest_migrations, write_problem

__all__ = ["migrate", "readiness_problem", "unavailability"]  # migrate: for the CLI and tests

Unavailability = Literal["busy", "unavailable"]
# SQLite's primary result codes (the low byte of an extended code).
SQLITE_CODES: dict[int, Unavailability] = {
    5: "busy",  # SQLITE_BUSY: the busy timeout passed
    6: "busy",  # SQLITE_LOCKED
    7: "unavailable",  # SQLITE_NOMEM
    8: "unavailable",  # SQLITE_READONLY
    10: "unavailable",  # SQLITE_IOERR
    13: "unavailable",  # SQLITE_FULL: the disk is full
    14: "unavailable",  # SQLITE_CANTOPEN
    15: "unavailable",  # SQLITE_PROTOCOL
}
# PostgreSQL's SQLSTATEs, whole classes first: connection exception, insufficient resources
# (disk full, out of memory, too many connections), system error (I/O).
PG_CLASSES: dict[str, Unavailability] = {
    "08": "unavailable",
    "53": "unavailable",
    "58": "unavailable",
}
PG_STATES: dict[str, Unavailability] = {
    "57P01": "unavailable",  # admin_shutdown: the server is stopping or restarting
    "57P02": "unavailable",  # crash_shutdown
    "57P03": "unavailable",  # cannot_connect_now: starting up or in recovery
    "25006": "unavailable",  # read_only_sql_transaction: a standby, or read-only by setting
    "55P03": "busy",  # lock_not_available
    "57014": "busy",  # query_canceled (statement timeout)
    "40001": "busy",  # serialization_failure
    "40P01": "busy",  # deadlock_detected
}


def unavailability(error: Exception) -> Unavailability | None:
    """Why the database cannot serve now — "busy" (locked, timed out, no connection free)
    or "unavailable" (unreachable, restarting, read-only, out of space) — or None for any
    other error, which a retry would meet again (a bug: it stays a logged 500)."""
    if isinstance(error, PoolTimeout):
        return "busy"
    if not isinstance(error, DBAPIError):
        return None
    if error.connection_invalidated:  # SQLAlchemy saw the connection drop
        return "unavailable"
    code = getattr(error.orig, "sqlite_errorcode", None)
    if code is not None:
        return SQLITE_CODES.get(code & 0xFF)
    state = getattr(error.orig, "sqlstate", None)
    if state is not None:
        return PG_STATES.get(state) or PG_CLASSES.get(state[:2])
    # No code at all: psycopg failing to connect, or a connection lost under the driver.
    return "unavailable" if isinstance(error, OperationalError | InterfaceError) else None


def readiness_problem(session: Session, min_free_bytes: int = 0) -> str | None:
    """None when the database answers, is at the newest migration and could take a write
    now (see db.write_problem), else why not. Writes nothing: the probe is rolled back."""
    try:
        return _migration_problem(session) or _write_problem(session, min_free_bytes)
    finally:
        session.rollback()


def _migration_problem(session: Session) -> str | None:
    try:
        current = applied_migrations(session)
    except SQLAlchemyError as error:
        return f"database unreachable: {type(error).__name__}"
    if current != newest_migrations():
        return "database is not migrated; run `tally migrate`"
    return None


def _write_problem(session: Session, min_free_bytes: int) -> str | None:
    try:
        problem = write_problem(session, min_free_bytes)
    except SQLAlchemyError as error:
        problem = f"a write was refused ({type(error).__name__})"
    return None if problem is None else f"database cannot take writes: {problem}"
