"""ORM tables. Rows here are storage; the domain's value objects live in app.domain."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from app.db import Base


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is UTC:  # PostgreSQL sessions run in UTC (app.db)
            return value
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(Base):
    __tablename__ = "event"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    started_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published: Mapped[bool] = mapped_column(default=False, server_default=false())


class Source(Base):
    __tablename__ = "source"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(30))
    url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Metric(Base):
    __tablename__ = "metric"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(50), default="people")
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Population(Base):
    __tablename__ = "population"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("population.id"))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


SERIES = ("event_id", "metric_id", "location_key", "population_id", "claimant_key")


class Claim(Base):
    """The head row of a claim: its current state. History lives in claim_revision."""

    __tablename__ = "claim"
    __table_args__ = (
        # A claimant's series in time (SPEC §5); its first three columns find a group.
        Index("ix_claim_series", *SERIES, "as_of", "created_at", "id"),
        # The claims current at their own date, by group: what detection compares (issue 14).
        Index(
            "ix_claim_last_of_day",
            *SERIES[:3],
            sqlite_where=text("last_of_day = 1"),  # as SQLAlchemy writes a boolean test there
            postgresql_where=text("last_of_day"),
        ),
        Index("ix_claim_claimant_key", "claimant_key"),
        Index("ix_claim_cites_id", "cites_id"),
        Index("ix_claim_source_id", "source_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    metric_id: Mapped[int] = mapped_column(ForeignKey("metric.id"))
    population_id: Mapped[int] = mapped_column(ForeignKey("population.id"))
    location: Mapped[str | None] = mapped_column(String(200))
    location_key: Mapped[str] = mapped_column(String(200), default="")
    figure_text: Mapped[str] = mapped_column(String(200))
    low: Mapped[int] = mapped_column(BigInteger)
    high: Mapped[int | None] = mapped_column(BigInteger)
    point: Mapped[int | None] = mapped_column(BigInteger)
    qualifier: Mapped[str] = mapped_column(String(20))
    as_of: Mapped[date] = mapped_column(Date)
    claimant: Mapped[str] = mapped_column(String(300))
    claimant_key: Mapped[str] = mapped_column(String(300))
    source_id: Mapped[int] = mapped_column(ForeignKey("source.id"))
    url: Mapped[str | None] = mapped_column(String(2000))
    quote: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cites_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="active")
    disputed: Mapped[bool] = mapped_column(default=False)
    # Active and the last claim of its series on its as_of: its claimant's current figure at
    # its own date. Kept by repository.claims on every write (_mark_last_of_day).
    last_of_day: Mapped[bool] = mapped_column(default=False, server_default=false())
    retraction: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    version: Mapped[int] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship(lazy="joined", innerjoin=True)
    metric: Mapped[Metric] = relationship(lazy="joined", innerjoin=True)
    population: Mapped[Population] = relationship(lazy="joined", innerjoin=True)
    source: Mapped[Source] = relationship(lazy="joined", innerjoin=True)

    # Every UPDATE checks and bumps the version: two writers of one version cannot both win.
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class ClaimRevision(Base):
    """An immutable snapshot of a claim after one change; never updated, never deleted."""

    __tablename__ = "claim_revision"
    __table_args__ = (UniqueConstraint("claim_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))
    version: Mapped[int]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)


class Dispute(Base):
    __tablename__ = "dispute"
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    by: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    close_note: Mapped[str | None] = mapped_column(Text)

    @property
    def status(self) -> str:
        return "closed" if self.closed_at else "open"


class Conflict(Base):
    __tablename__ = "conflict"
    __table_args__ = (
        Index("ix_conflict_event_status", "event_id", "status"),
        # The same pair of claims and kind never has two open conflicts.
        Index(
            "uq_conflict_open_key",
            "key",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id"))
    metric_id: Mapped[int] = mapped_column(ForeignKey("metric.id"))
    population_id: Mapped[int] = mapped_column(ForeignKey("population.id"))
    location: Mapped[str | None] = mapped_column(String(200))
    claim_a_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), index=True)
    claim_b_id: Mapped[int | None] = mapped_column(ForeignKey("claim.id"), index=True)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("dispute.id"))
    detail: Mapped[str] = mapped_column(Text)
    gap_absolute: Mapped[int | None] = mapped_column(BigInteger)
    gap_relative: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[str | None] = mapped_column(String(100))

    event: Mapped[Event] = relationship(lazy="joined", innerjoin=True)
    metric: Mapped[Metric] = relationship(lazy="joined", innerjoin=True)
    population: Mapped[Population] = relationship(lazy="joined", innerjoin=True)


class IdempotencyRecord(Base):
    """The first response to a POST with an Idempotency-Key, replayed to retries."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(100))  # the API key that sent it
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[str] = mapped_column(Text)
    headers: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Webhook(Base):
    """A subscription of a newsroom tool to Tally's events (SPEC §7)."""

    __tablename__ = "webhook"
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str | None] = mapped_column(Text)
    # Kept in clear: signing needs the secret itself, not a hash of it.
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active, disabled, deleted
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # SPEC §12: standard, slack or teams; and the event, metric and conflict kinds it follows.
    format: Mapped[str] = mapped_column(String(20), default="standard")
    event: Mapped[str | None] = mapped_column(String(100))
    metric: Mapped[str | None] = mapped_column(String(100))
    kinds: Mapped[list[str] | None] = mapped_column(JSON)


class WebhookDelivery(Base):
    """The outbox: one message for one webhook, written in the transaction of its change."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)  # webhook-id, every attempt
    event_type: Mapped[str] = mapped_column(String(30))
    body: Mapped[str] = mapped_column(Text)  # the exact bytes signed and sent
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeskSession(Base):
    """A browser signed in to the desk (SPEC §11): only hashes, never a session id or a key."""

    __tablename__ = "desk_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # of the cookie's value
    key_hash: Mapped[str] = mapped_column(String(64))  # of the API key it signed in with
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Change(Base):
    """The change feed (SPEC §12): every event of SPEC §7, written with the change itself.

    `txid` is the writing transaction's id on PostgreSQL (a column default, 0 on SQLite): the
    feed is read in (txid, id) order and only below the oldest running transaction, so that a
    row committed late never slips in behind a cursor (app.repository.changes).
    """

    __tablename__ = "change"
    __table_args__ = (
        Index("ix_change_position", "txid", "id"),
        Index("ix_change_event_position", "event", "txid", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))
    type: Mapped[str] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    subject: Mapped[str] = mapped_column(String(20))  # the claim's or the conflict's id
    event: Mapped[str | None] = mapped_column(String(100))
    metric: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class ShareLink(Base):
    """A read-only link to one path and query (SPEC §12); only the token's hash is kept."""

    __tablename__ = "share_link"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str] = mapped_column(String(2000))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WatchHost(Base):
    """A host whose pages the source watch reads (SPEC §13): one request to it at a time, the
    next not before `next_request_at`. Workers lease a host, not only a claim."""

    __tablename__ = "watch_host"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)  # host:port, lowercase
    busy_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the lease of a check
    next_request_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ClaimWatch(Base):
    """The watch of one claim's url: when it is checked next, and what the checks showed
    (app.domain.watch.WatchState, read by conflict detection)."""

    __tablename__ = "claim_watch"
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"), primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("watch_host.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    next_check_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[int | None]
    unavailable: Mapped[bool] = mapped_column(default=False)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    figure_seen: Mapped[bool] = mapped_column(default=False)
    figure_found: Mapped[bool | None]
    # The validators of the page last read, sent with the next request (a 304 is unchanged).
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # Of the figure text and quote the checks looked for: a correction starts them afresh.
    figure_key: Mapped[str | None] = mapped_column(String(64))


class SourceCheck(Base):
    """One check of a claim's url (SPEC §13); the last few and every change of state are kept."""

    __tablename__ = "source_check"
    __table_args__ = (Index("ix_source_check_claim", "claim_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id"))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    url: Mapped[str] = mapped_column(String(2000))
    status: Mapped[int | None]  # the HTTP status; None when no answer came
    error: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    figure_found: Mapped[bool | None]
    truncated: Mapped[bool] = mapped_column(default=False)  # the page was cut at the size cap
    state: Mapped[str] = mapped_column(String(20))  # the watch state after it
    changed: Mapped[bool] = mapped_column(default=False)  # the state differs from the one before
