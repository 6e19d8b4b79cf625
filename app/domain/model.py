"""Value objects shared by the domain, and the DomainError tree."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from app.domain.watch import WatchState


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
    SOURCE_UNAVAILABLE = "source_unavailable"  # SPEC §13
    FIGURE_NOT_IN_SOURCE = "figure_not_in_source"  # SPEC §13


MAX_COUNT = 10**12


@dataclass(frozen=True)
class Figure:
    """A count as an interval [low, high] of non-negative integers; high None = open."""

    text: str
    low: int
    high: int | None
    point: int | None
    qualifier: Qualifier


MAX_ID = 2**63 - 1  # the largest row id of either database


def parse_id(text: str) -> int | None:
    """The row id a client's opaque id stands for: ASCII digits within range, else None
    (superscript or other-script digits are not ids)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def ancestors(tree: dict[str, str | None], name: str) -> tuple[str, ...]:
    """The populations `name` is a strict part of, nearest first, in a tree of parents."""
    chain: list[str] = []
    parent = tree.get(name)
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = tree.get(parent)
    return tuple(chain)


def utcnow() -> datetime:
    """Now, in UTC: every timestamp Tally records."""
    return datetime.now(UTC)


def normalise(text: str | None) -> str:
    """The comparison key of a claimant or location (SPEC §4): the same for every way of
    writing the same name — case, spaces, composed or decomposed letters, fullwidth forms,
    invisible format characters (zero-width space, soft hyphen, BOM), Turkish dotted İ."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(c for c in text if unicodedata.category(c) != "Cf").casefold()
    # casefold turns İ into i + combining dot above, which NFKC keeps apart from a plain i.
    text = unicodedata.normalize("NFKC", text).replace("i\u0307", "i")
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Retraction:
    reason: str
    url: str | None
    retracted_at: datetime


@dataclass(frozen=True, slots=True)
class Claim:
    """One claim as the ledger holds it (SPEC §3): the one shape every layer passes on.

    References are by name (event slug, metric, population, source slug); ids are opaque
    strings. `superseded_by` is decided by the claimant's other claims (conflicts.superseded_by).
    """

    id: str
    version: int
    status: str  # active or retracted
    disputed: bool
    event: str
    metric: str
    population: str
    location: str | None
    figure: Figure
    as_of: date
    claimant: str
    source: str
    url: str | None
    quote: str | None
    published_at: datetime | None
    cites: str | None
    note: str | None
    retraction: Retraction | None
    created_at: datetime
    updated_at: datetime
    superseded_by: str | None = None

    @property
    def retracted(self) -> bool:
        return self.status == "retracted"

    @property
    def location_key(self) -> str:
        return normalise(self.location)

    @property
    def claimant_key(self) -> str:
        return normalise(self.claimant)

    @property
    def recorded_at(self) -> datetime:
        return self.created_at


@dataclass(frozen=True, slots=True)
class Dispute:
    id: str
    claim: str
    by: str
    reason: str
    url: str | None
    created_at: datetime
    closed_at: datetime | None
    close_note: str | None

    @property
    def status(self) -> str:
        return "closed" if self.closed_at else "open"


@dataclass(frozen=True, slots=True)
class Revision:
    """A claim after one change: who made it, why, and which fields it changed."""

    version: int
    recorded_at: datetime
    actor: str
    reason: str | None
    changes: dict[str, Any]
    claim: Claim


@dataclass(frozen=True, slots=True)
class OpenDispute:
    """An open dispute as conflict sentences name it."""

    id: str
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class SeriesEntry:
    """A claim as succession reads it (app.domain.conflicts.Succession): its series (claimant,
    group, population) and its place in time, without its figure or any text."""

    id: str
    event: str
    metric: str
    location_key: str
    population: str
    claimant_key: str
    as_of: date
    recorded_at: datetime
    retracted: bool


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
    source: str = ""  # the name of the source that published it, for sentences
    # Who disputes it and why, for sentences (open disputes not named here read "disputed").
    dispute_notes: tuple[OpenDispute, ...] = ()
    location: str | None = None  # as given, for the conflicts it opens
    watch: WatchState | None = None  # what the checks of its url showed (SPEC §13); None: none

    @classmethod
    def of(
        cls,
        claim: Claim,
        metric_kind: MetricKind,
        ancestors: tuple[str, ...],
        open_disputes: tuple[OpenDispute, ...] = (),
        source: str = "",
        watch: WatchState | None = None,
    ) -> ClaimFacts:
        """What the rules need of `claim`, in its place in the metric and population tree."""
        return cls(
            id=claim.id,
            event=claim.event,
            metric=claim.metric,
            metric_kind=metric_kind,
            population=claim.population,
            population_ancestors=ancestors,
            location_key=normalise(claim.location),
            figure=claim.figure,
            as_of=claim.as_of,
            claimant=claim.claimant,
            claimant_key=normalise(claim.claimant),
            recorded_at=claim.created_at,
            retracted=claim.retracted,
            cites=claim.cites,
            open_disputes=tuple(d.id for d in open_disputes),
            source=source or claim.source,
            dispute_notes=open_disputes,
            location=claim.location,
            watch=watch,
        )


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


@dataclass(frozen=True, slots=True)
class StoredConflict:
    """A conflict as Tally stored it (SPEC §5): a finding with an id, a status and a history."""

    id: str
    key: str
    kind: ConflictKind
    claims: tuple[str, ...]
    event: str
    metric: str
    population: str
    location: str | None
    dispute: str | None
    detail: str
    gap: Gap | None
    status: str  # open, cleared or resolved
    opened_at: datetime
    closed_at: datetime | None
    resolution_note: str | None
    resolved_by: str | None


@dataclass(frozen=True)
class ClaimFilter:
    """The claims list's filters (None: any); names are checked when the filter is applied."""

    event: str | None = None
    metric: str | None = None
    population: str | None = None
    source: str | None = None
    claimant: str | None = None  # compared as normalise() does
    status: str | None = None


@dataclass(frozen=True)
class ConflictFilter:
    """The conflicts list's filters (None: any); names are checked when it is applied."""

    event: str | None = None
    metric: str | None = None
    kind: str | None = None
    status: str | None = None
    since: datetime | None = None  # opened at or after


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
