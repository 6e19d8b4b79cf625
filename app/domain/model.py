"""Value objects shared by the domain, and the DomainError tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class Qualifier(StrEnum):
    EXACT = "exact"
    AT_LEAST = "at_least"
    MORE_THAN = "more_than"
    AT_MOST = "at_most"
    FEWER_THAN = "fewer_than"
    APPROXIMATELY = "approximately"
    ALMOST = "almost"
    RANGE = "range"
    VAGUE = "vague"


class MetricKind(StrEnum):
    CUMULATIVE = "cumulative"
    STOCK = "stock"


class ConflictKind(StrEnum):
    VALUE_MISMATCH = "value_mismatch"
    DOWNWARD_REVISION = "downward_revision"
    PART_EXCEEDS_WHOLE = "part_exceeds_whole"
    RETRACTED_FIGURE = "retracted_figure"
    CITES_RETRACTED = "cites_retracted"
    DISPUTED = "disputed"


MAX_COUNT = 10**12


@dataclass(frozen=True)
class Figure:
    """A count as an interval [low, high] of non-negative integers; high None = open."""

    text: str
    low: int
    high: int | None
    point: int | None
    qualifier: Qualifier


@dataclass(frozen=True)
class ClaimFacts:
    """What conflict detection needs to know of one claim."""

    id: str
    event: str
    metric: str
    metric_kind: MetricKind
    population: str
    # The populations this one is a strict part of, nearest first (`children` -> civilians, all).
    population_ancestors: tuple[str, ...]
    location_key: str  # normalised: casefolded, spaces collapsed; "" = the whole event
    figure: Figure
    as_of: date
    claimant: str  # as given, for sentences
    claimant_key: str  # normalised, for comparison
    recorded_at: datetime  # when the claim was first recorded
    retracted: bool = False
    cites: str | None = None
    open_disputes: tuple[str, ...] = ()  # ids of open disputes


@dataclass(frozen=True)
class Gap:
    absolute: int
    relative: float


@dataclass(frozen=True)
class Finding:
    """A conflict that holds now. `key` identifies it across re-evaluations."""

    kind: ConflictKind
    claims: tuple[str, ...]  # ids; for pairs: A (earlier) then B, or the part then the whole
    detail: str
    gap: Gap | None = None
    dispute: str | None = None  # the dispute id, for `disputed`

    @property
    def key(self) -> str:
        return ":".join((self.kind.value, *self.claims, self.dispute or ""))


class DomainError(Exception):
    """Base of every error the domain and services raise; mapped to problem+json in one place."""

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    """The thing named in the path does not exist."""


class InvalidInput(DomainError):
    """A value is well-formed JSON but not acceptable (unknown slug, unreadable figure …)."""


class InvalidFigure(InvalidInput):
    """A figure text the grammar cannot read exactly, or a structured figure out of bounds."""


class AlreadyExists(DomainError):
    """A resource with that slug or name already exists."""


class StateConflict(DomainError):
    """The request does not fit the current state (retracting a retracted claim …)."""


class PreconditionRequired(DomainError):
    """A write that needs If-Match came without it."""


class StaleVersion(DomainError):
    """If-Match does not name the current version."""


class LimitExceeded(DomainError):
    """A request asks for more than Tally takes at once (rows in one bulk import …)."""


class IdempotencyMismatch(DomainError):
    """An Idempotency-Key was reused with a different request body."""
