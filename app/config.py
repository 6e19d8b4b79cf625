"""Settings from the environment (prefix TALLY_) and an optional .env file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Tally's folder (pyproject.toml, alembic.ini, app/): the default database lives there, so
# that the server and the `tally` command find the same one from whatever folder they start.
HOME = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    # `.env` in Tally's folder, then in the current folder (whose values win).
    model_config = SettingsConfigDict(
        env_prefix="TALLY_", env_file=(HOME / ".env", ".env"), extra="ignore"
    )

    database_url: str = f"sqlite:///{HOME / 'tally.db'}"
    # A streaming replica of the PostgreSQL primary for reads that may trail the latest writes
    # (lists, reports, exports, feeds, the desk's read pages); see app.db.ReadSessions. Reads
    # go to the primary while the replica is down or more than read_max_lag_seconds behind.
    read_database_url: str | None = None
    read_max_lag_seconds: float = Field(default=5.0, gt=0)
    admin_key: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # Sized together: every request thread can hold a connection, so the pool never runs
    # dry while threads wait (FastAPI #3205); past that, requests wait for a thread.
    threads: int = Field(default=32, ge=1, le=1024)
    # Requests in flight beyond which Tally answers 503 with Retry-After instead of queueing.
    max_in_flight: int = Field(default=256, ge=1)
    # How long a valid API key is remembered without asking the database (see KeyCache).
    key_cache_seconds: float = Field(default=5.0, ge=0, le=3600)
    # Event reports kept in memory until their event changes, counted in claims (ReportCache).
    report_cache_claims: int = Field(default=20_000, ge=0, le=1_000_000)
    # The desk's event pages kept until their event changes, per desk session, in MiB.
    page_cache_mb: int = Field(default=32, ge=0, le=4096)
    db_timeout_seconds: float = Field(default=10.0, gt=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # A body must keep arriving: at most this long between two reads, and this long in all
    # (408 beyond); a request still waiting for its body holds none of the `threads` slots.
    body_idle_timeout_seconds: float = Field(default=10.0, gt=0)
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    bulk_max_bytes: int = Field(default=20_971_520, ge=1024)
    # One bulk request is one transaction: this bounds how long it holds the write lock.
    bulk_max_rows: int = Field(default=5_000, ge=1)
    # Where readers reach Tally (links in ClaimReview documents, alerts and feeds); without
    # it, Tally names its own address, http://TALLY_HOST:TALLY_PORT.
    public_url: AnyHttpUrl | None = None
    # The `author` of the ClaimReview documents Tally publishes.
    claimreview_author: str = Field(default="Tally", min_length=1, max_length=200)
    claimreview_author_url: str | None = None
    figure_tolerance: float = Field(default=0.1, ge=0, lt=1)
    idempotency_ttl_hours: float = Field(default=24, gt=0)
    # A request holding an Idempotency-Key renews its lease every third of this; a retry takes
    # the key over once the lease has lapsed (its first request's process died).
    idempotency_lease_seconds: float = Field(default=30.0, gt=0)
    # Larger answers are not kept: a retry is told the request was handled (409).
    idempotency_max_response_bytes: int = Field(default=1_048_576, ge=0)
    # How often the worker deletes expired Idempotency-Key records.
    idempotency_purge_seconds: float = Field(default=600.0, gt=0)
    # /readyz says not ready when the SQLite database's file system has less free space.
    sqlite_min_free_bytes: int = Field(default=16_777_216, ge=0)
    webhook_allow_private: bool = False
    # The delivery worker runs inside `tally serve` unless this is false (then run `tally worker`).
    run_worker: bool = True
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # Failed deliveries are retried with exponential backoff for this long, then given up.
    webhook_retry_hours: float = Field(default=24.0, gt=0)
    webhook_retry_base_seconds: float = Field(default=5.0, gt=0)
    # After a secret is rotated, deliveries are signed with the old secret too for this long.
    webhook_rotation_hours: float = Field(default=24.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    webhook_concurrency: int = Field(default=4, ge=1, le=64)
    # Source watch (SPEC §13): each claim's url is checked soon after it is recorded, then about
    # every watch_interval_hours (0 turns the watch off: no page is fetched, not even asked).
    watch_interval_hours: float = Field(default=6.0, ge=0)
    # A url that fails every check (an error or a 5xx) for this long is source_unavailable.
    watch_grace_hours: float = Field(default=24.0, gt=0)
    # Connecting, and each read of the answer, time out after this; a whole check after three.
    watch_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # A page is read up to this many bytes; the rest is not fetched.
    watch_max_bytes: int = Field(default=5_242_880, ge=1024)
    # Two requests to one host are at least this far apart, and never at the same time.
    watch_host_delay_seconds: float = Field(default=2.0, ge=0)
    watch_concurrency: int = Field(default=4, ge=1, le=64)  # hosts checked at once
    watch_poll_seconds: float = Field(default=5.0, gt=0)  # how often the watcher looks for work
    watch_keep_checks: int = Field(default=50, ge=1)  # checks kept per claim, besides changes
    # SPEC §12: entries in an Atom feed (the newest); how often a waiting GET /v1/changes
    # looks for new changes (at most: it starts at a quarter of this).
    feed_entries: int = Field(default=50, ge=1, le=1000)
    change_poll_seconds: float = Field(default=0.5, gt=0, le=5)

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if not url.startswith(("sqlite", "postgresql")):
            raise ValueError("must be sqlite:///… or postgresql+psycopg://…")
        return url

    @field_validator("read_database_url")
    @classmethod
    def _postgres_replica(cls, url: str | None) -> str | None:
        if not url:  # unset, or set to nothing
            return None
        if not url.startswith("postgresql"):
            raise ValueError("must be postgresql+psycopg://… (a streaming replica)")
        return url

    @model_validator(mode="after")
    def _replica_of_postgres(self) -> Settings:
        if self.read_database_url is not None and self.is_sqlite:
            raise ValueError("TALLY_READ_DATABASE_URL needs a PostgreSQL TALLY_DATABASE_URL")
        return self

    @property
    def base_url(self) -> str:
        """Tally's public address, without a trailing slash."""
        return str(self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
