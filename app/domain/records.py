"""Records: the stored nouns around claims (references, keys, webhooks) as plain values.

The repository returns these instead of ORM rows, so that what a service or a route holds
can neither lazy-load nor be flushed behind its back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    slug: str
    title: str
    description: str | None
    location: str | None
    started_on: date | None
    created_at: datetime
    updated_at: datetime
    published: bool = False  # embeddable in stories without a key (SPEC §12)


@dataclass(frozen=True, slots=True)
class Source:
    id: int
    slug: str
    name: str
    kind: str
    url: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Metric:
    id: int
    name: str
    kind: str  # a MetricKind value; fixed for life, since conflict rules depend on it
    unit: str
    description: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Population:
    id: int
    name: str
    parent: str | None  # the name of the population this one is a part of; None for "all"
    description: str | None
    created_at: datetime


class Role(StrEnum):
    READER = "reader"
    EDITOR = "editor"
    ADMIN = "admin"

    def admits(self, needed: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the name of their key, and its role."""

    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A key as it is listed: never the key itself, nor its hash."""

    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    url: str
    events: tuple[str, ...]
    description: str | None
    status: str  # active, disabled or deleted
    disabled_reason: str | None
    # Signing needs the secrets themselves; kept out of repr so that they never reach a log.
    secret: str = field(repr=False)
    previous_secret: str | None = field(repr=False)
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    # SPEC §12: the body sent (standard, slack or teams) and what narrows the subscription.
    format: str = "standard"
    event: str | None = None  # an event's slug
    metric: str | None = None
    kinds: tuple[str, ...] | None = None  # conflict kinds; conflict events of others are not sent


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message of the outbox for one webhook, and how its attempts went."""

    id: int
    webhook_id: int
    message_id: str
    event_type: str
    body: str  # the exact text signed and sent
    status: str  # pending, delivered, failed or cancelled
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    response_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response to a POST with an Idempotency-Key, replayed to its retries."""

    status_code: int
    headers: dict[str, str]
    body: str


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """An Idempotency-Key's request, and its response once the request was handled."""

    request_hash: str
    response: StoredResponse | None  # None while the first request is still being handled
