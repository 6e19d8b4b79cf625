"""Engine, sessions, migrations and the transaction rules of each database."""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


log = structlog.get_logger("tally.db")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


WRITE_OPTION = "tally_write"


def make_engine(settings: Settings) -> Engine:
    """An engine whose pool holds a connection for every request thread."""
    pool = {"pool_size": settings.threads + 4, "max_overflow": 4}
    timeout = settings.db_timeout_seconds
    if settings.is_sqlite:
        engine = create_engine(
            settings.database_url, **pool, pool_timeout=timeout, connect_args={"timeout": timeout}
        )
        _configure_sqlite(engine, busy_ms=int(timeout * 1000))
        return engine
    return _postgres_engine(settings.database_url, settings, max(1, int(timeout)))


REPLICA_CONNECT_SECONDS = 2  # libpq's least connect_timeout
REPLICA_RETRY_SECONDS = 5.0  # a replica that failed is not asked again for this long


def make_read_engine(settings: Settings) -> Engine | None:
    """An engine on the streaming replica, or None when none is set. It gives up connecting
    after REPLICA_CONNECT_SECONDS: a read then goes to the primary instead of waiting."""
    if settings.read_database_url is None:
        return None
    return _postgres_engine(settings.read_database_url, settings, REPLICA_CONNECT_SECONDS)


def _postgres_engine(url: str, settings: Settings, connect_seconds: int) -> Engine:
    return create_engine(
        url,
        pool_size=settings.threads + 4,
        max_overflow=4,
        pool_timeout=settings.db_timeout_seconds,
        pool_pre_ping=True,
        # Sessions in UTC: timestamps come back in Tally's own zone, with no conversion.
        connect_args={"connect_timeout": connect_seconds, "options": "-c TimeZone=UTC"},
    )


def _configure_sqlite(engine: Engine, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand BEGIN to SQLAlchemy's "begin" event below instead of pysqlite's own.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the 2xx leaves (acknowledged means durable).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    # One writer at a time in this process, queued on a lock held until the connection goes
    # back to the pool (after COMMIT or ROLLBACK): SQLite's busy handler polls with sleeps of
    # up to 100 ms, so writers contending inside SQLite waited seconds at the p99 (see
    # bench/RESULTS.md). Other processes still meet the busy timeout.
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that reads and then
        # writes fails with SQLITE_BUSY at once instead of waiting for busy_timeout.
        if not conn.get_execution_options().get(WRITE_OPTION, False):
            conn.exec_driver_sql("BEGIN")
            return
        owner = conn.connection.record_info
        if not owner.get(WRITER) and not writer.acquire(timeout=busy_ms / 1000):
            raise OperationalError("BEGIN IMMEDIATE", None, _sqlite_busy())
        owner[WRITER] = True
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.record_info.pop(WRITER, False):
            writer.release()


WRITER = "tally_writer_lock"


def _sqlite_busy() -> sqlite3.OperationalError:
    """The error SQLite itself gives when its busy timeout passes (SQLITE_BUSY)."""
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = 5
    return error


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# How far the replica is behind the primary, in seconds; NULL when it cannot tell. Zero when it
# is no standby, or when its WAL receiver is connected and it has replayed all it received (a
# quiet primary sends no commits, so the last one replayed grows old while the replica is
# current); else the age of the last commit replayed. Any role may call these functions.
REPLICA_LAG = text(
    """
    SELECT CASE
        WHEN NOT pg_is_in_recovery() THEN 0
        WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()
            AND EXISTS (SELECT FROM pg_stat_wal_receiver) THEN 0
        ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())
    END::float8
    """
)


class ReadSessions:
    """Sessions for reads that may trail the latest writes a little (lists, reports, exports,
    feeds): on the streaming replica while it answers and is at most `max_lag` seconds behind
    the primary, else on the primary. Without a replica, always on the primary."""

    def __init__(
        self, primary: sessionmaker[Session], replica: Engine | None, max_lag: float
    ) -> None:
        self.primary = make_sessionmaker(_statement_by_statement(primary.kw["bind"]))
        self.max_lag = max_lag
        self.replica = (
            None if replica is None else make_sessionmaker(_statement_by_statement(replica))
        )
        self.down_until = 0.0  # time.monotonic() before which the replica is not asked again
        self.state, self.detail = "up", ""

    def __call__(self) -> Session:
        """A session on the replica, whose first statement found it close enough; else one on
        the primary. Never raises for the replica's sake."""
        if self.replica is None or time.monotonic() < self.down_until:
            return self.primary()
        return self._probe(self.replica) or self.primary()

    def replica_status(self) -> tuple[str, str] | None:
        """None without a replica, else its state ("up", "lagging" or "down") and why."""
        if self.replica is None:
            return None
        if time.monotonic() >= self.down_until:
            session = self._probe(self.replica)
            if session is not None:
                session.close()
        return self.state, self.detail

    def _probe(self, replica: sessionmaker[Session]) -> Session | None:
        """A session on the replica whose first statement found it close enough, else None."""
        session = replica()
        try:
            lag = session.execute(REPLICA_LAG).scalar_one()
        except SQLAlchemyError as error:
            session.close()
            self.down_until = time.monotonic() + REPLICA_RETRY_SECONDS
            self._is("down", f"unreachable ({type(error).__name__})")
            return None
        if lag is None or lag > self.max_lag:
            session.close()
            behind = "an unknown time" if lag is None else f"{lag:.1f} s"
            self._is("lagging", f"{behind} behind the primary, more than {self.max_lag:g} s")
            return None
        self._is("up", f"{lag:.1f} s behind the primary")
        return session

    def _is(self, state: str, detail: str) -> None:
        if state != self.state:
            log.warning("read replica", state=state, detail=detail)
        self.state, self.detail = state, detail


def _statement_by_statement(engine: Engine) -> Engine:
    """PostgreSQL: reads without BEGIN and ROLLBACK, two round trips of three for a report's
    version (bench/changes.md). A transaction would not make them more consistent: at READ
    COMMITTED each statement reads its own snapshot anyway. SQLite: unchanged (in-process)."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def begin_write(session: Session) -> None:
    """Open the session's transaction as a writer (BEGIN IMMEDIATE on SQLite)."""
    session.connection(execution_options={WRITE_OPTION: True})


def write_problem(session: Session, min_free_bytes: int) -> str | None:
    """None when a write could succeed now, else why not. SQLite: the database file and its
    directory are writable and their file system has `min_free_bytes` free (a rolled-back
    write would not touch the disk). PostgreSQL: a write statement is accepted in the
    session's transaction (refused while the server is a standby or read-only); the caller
    rolls it back."""
    engine = session.get_bind().engine
    if engine.dialect.name != "sqlite":
        session.execute(text("DELETE FROM alembic_version WHERE 1 = 0"))
        return None
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    path = Path(database)
    if not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
        return "the database file is read-only"
    free = shutil.disk_usage(path.parent).free
    if free < min_free_bytes:
        return f"{free} bytes free on the database's disk, fewer than {min_free_bytes}"
    return None


ROOT = Path(__file__).resolve().parents[1]


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


def applied_migrations(session: Session) -> set[str]:
    """The heads of the migrations the database is at (SQLAlchemyError when it is away)."""
    return set(MigrationContext.configure(session.connection()).get_current_heads())


def newest_migrations() -> set[str]:
    """The heads of the migrations this code ships."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())
