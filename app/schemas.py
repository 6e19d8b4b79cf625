"""Pydantic request and response models. Input models forbid unknown fields."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
)

from app.domain.model import (
    MAX_COUNT,
    Claim,
    ConflictKind,
    MetricKind,
    Qualifier,
    Revision,
    StoredConflict,
)
from app.domain.newsroom import AlertFormat, Change
from app.domain.records import Role
from app.domain.watch import State, StoredCheck

T = TypeVar("T")

Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=1, max_length=100)
]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=100)]
Text300 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
Url = Annotated[AnyHttpUrl, Field(max_length=2000)]
Id = Annotated[str, BeforeValidator(str)]  # ids are opaque strings to clients
FIRST_DAY, LAST_DAY = date(1800, 1, 1), date(2200, 12, 31)
Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
ISO_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?", re.ASCII
)


def _iso_only(value: Any) -> Any:
    """Timestamps are ISO 8601 text, not numbers (which pydantic would read as Unix time)."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not ISO_MOMENT.fullmatch(value):
        raise ValueError("must be an ISO 8601 timestamp such as 2022-01-10T08:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    """The moment in UTC (a timestamp without a zone is UTC)."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-05:00 is past the last moment Python knows
        raise ValueError("is out of range") from None


def _kept(value: datetime) -> datetime:
    """A moment Tally stores: within the years of its dates (Day)."""
    if not FIRST_DAY <= value.date() <= LAST_DAY:
        raise ValueError(f"must fall between {FIRST_DAY} and {LAST_DAY}")
    return value


Moment = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]
KeptMoment = Annotated[Moment, AfterValidator(_kept)]  # stored: published_at, retracted_at


class Schema(BaseModel):
    """Fields are described by the docstring under them (in /openapi.json)."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class Input(Schema):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL cannot store NUL in text, and no figure or name needs one.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


def not_null(*fields: str) -> Any:
    """A validator refusing an explicit null for fields that can be changed but not cleared."""

    def refuse_null(value: Any) -> Any:
        if value is None:
            raise ValueError("may be changed but not cleared (null)")
        return value

    return field_validator(*fields, mode="before")(staticmethod(refuse_null))


class Output(Schema):
    model_config = ConfigDict(from_attributes=True)


class Page(Schema, Generic[T]):
    items: list[T]
    """The items of this page."""
    next_cursor: str | None
    """Pass as `cursor` to read the next page; null on the last page."""


class EventCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "slug": "kazakhstan-unrest-2022",
                    "title": "Unrest in Kazakhstan, January 2022",
                    "location": "Kazakhstan",
                    "started_on": "2022-01-02",
                }
            ]
        }
    )

    slug: Slug
    """The event's short name in URLs: lowercase words and digits joined by hyphens."""
    title: Text300
    """The event's title, as a headline would give it."""
    description: LongText | None = None
    """What the story is about."""
    location: Place | None = None
    """Where it happens: the place the event's figures cover unless a claim says otherwise."""
    started_on: Day | None = None
    """The day it began (YYYY-MM-DD)."""


class EventUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "description": "Protests over fuel prices turned into nationwide unrest; "
                    "the CSTO sent troops."
                }
            ]
        }
    )

    _required = not_null("title", "published")
    title: Text300 | None = None
    """A new title (cannot be cleared)."""
    description: LongText | None = None
    """A new description; null clears it."""
    location: Place | None = None
    """A new location; null clears it."""
    started_on: Day | None = None
    """A new first day (YYYY-MM-DD); null clears it."""
    published: bool | None = None
    """Whether stories may embed the event's figures (`/embed/events/{slug}`, `/oembed`)
    without a key."""


class EventRead(Output):
    slug: str
    """The event's short name in URLs."""
    title: str
    """The event's title."""
    description: str | None
    """What the story is about."""
    location: str | None
    """Where it happens."""
    started_on: date | None
    """The day it began."""
    created_at: datetime
    """When the ledger recorded the event."""
    updated_at: datetime
    """When it last changed."""
    published: bool
    """Whether stories may embed its figures without a key (SPEC §12)."""


class SourceKind(StrEnum):
    NEWS_AGENCY = "news_agency"
    NEWSPAPER = "newspaper"
    BROADCASTER = "broadcaster"
    GOVERNMENT = "government"
    NGO = "ngo"
    INTERNATIONAL_ORG = "international_org"
    SOCIAL_MEDIA = "social_media"
    OTHER = "other"


class SourceCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"slug": "dpa", "name": "Deutsche Presse-Agentur", "kind": "news_agency"}]
        }
    )

    slug: Slug
    """The source's short name, which claims refer to: lowercase words and digits joined by
    hyphens."""
    name: Text300
    """The publisher's full name."""
    kind: SourceKind = SourceKind.OTHER
    """What kind of publisher it is."""
    url: Url | None = None
    """The publisher's home page."""


class SourceUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "Khabar 24 (state television)", "kind": "broadcaster"}]
        }
    )

    _required = not_null("name", "kind")
    name: Text300 | None = None
    """A new name (cannot be cleared)."""
    kind: SourceKind | None = None
    """A new kind (cannot be cleared)."""
    url: Url | None = None
    """A new home page; null clears it."""


class SourceRead(Output):
    slug: str
    """The source's short name, which claims refer to."""
    name: str
    """The publisher's full name."""
    kind: SourceKind
    """What kind of publisher it is."""
    url: str | None
    """The publisher's home page."""
    created_at: datetime
    """When the ledger recorded the source."""
    updated_at: datetime
    """When it last changed."""


class MetricCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "buildings_damaged",
                    "kind": "cumulative",
                    "unit": "buildings",
                    "description": "Public buildings set on fire or damaged",
                }
            ]
        }
    )

    name: Name
    """The metric's name, which claims refer to: lowercase letters, digits and underscores."""
    kind: MetricKind
    """`cumulative`: the true value never falls as time passes (deaths); `stock`: a level at a
    moment (displaced)."""
    unit: Annotated[str, StringConstraints(min_length=1, max_length=50)] = "people"
    """What is counted."""
    description: LongText | None = None
    """What the metric counts, and what it leaves out."""


class MetricUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"description": "People detained by the authorities, whether or not charged"}
            ]
        }
    )

    _required = not_null("unit")
    unit: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    """A new unit (cannot be cleared)."""
    description: LongText | None = None
    """A new description; null clears it."""


class MetricRead(Output):
    name: str
    """The metric's name, which claims refer to."""
    kind: MetricKind
    """`cumulative` (never falls over time) or `stock` (a level at a moment)."""
    unit: str
    """What is counted."""
    description: str | None
    """What the metric counts."""


class PopulationCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"name": "police", "parent": "security_forces", "description": "Police officers"}
            ]
        }
    )

    name: Name
    """The population's name, which claims refer to: lowercase letters, digits and underscores."""
    parent: Name = "all"
    """The population this one is a part of (`all` by default): Tally flags a part counted larger
    than its whole."""
    description: LongText | None = None
    """Who is counted."""


class PopulationRead(Schema):
    name: str
    """The population's name, which claims refer to."""
    parent: str | None
    """The population this one is a part of; null for `all`."""
    description: str | None
    """Who is counted."""


class KeyCreate(Input):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "desk", "role": "editor"}]})

    name: Text300
    """Who or what uses the key; revisions name it as their actor."""
    role: Role
    """`reader` reads; `editor` also writes claims, disputes and resolutions; `admin` also manages
    keys, metrics, populations and webhooks."""


class KeyRead(Output):
    id: Id
    """The key's id (to revoke it)."""
    name: str
    """Who or what uses the key."""
    role: Role
    """What the key may do."""
    prefix: str
    """The first characters of the key, to recognise it."""
    created_at: datetime
    """When the key was created."""
    revoked_at: datetime | None
    """When it was revoked; null while it works."""


class KeyCreated(KeyRead):
    key: str = Field(description="The key itself. It is shown this once and never again.")


Count = Annotated[int, Field(ge=0, le=MAX_COUNT, strict=True)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Claimant = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ClaimId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,18}$")]


class FigureValue(Input):
    """A figure as a value and qualifier: `{"value": 164, "qualifier": "at_least"}`."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"value": 164, "qualifier": "at_least"}]}
    )

    value: Count
    """The number stated."""
    qualifier: Qualifier = Qualifier.EXACT
    """How the number is qualified (`at_least`: 164 or more …)."""


class FigureBounds(Input):
    """A figure as bounds: `{"low": 100, "high": 300, "point": 200}`; high null = open."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"low": 7200, "high": 8000, "point": 8000}]}
    )

    low: Count
    """The lowest value the figure allows."""
    high: Count | None = None
    """The highest value it allows; null when it has no upper bound."""
    point: Count | None = None
    """A point estimate within the bounds, if the source gave one."""


FigureText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _figure_form(value: Any) -> str | None:
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "value" if "value" in value or "qualifier" in value else "bounds"
    if isinstance(value, FigureValue):
        return "value"
    return "bounds" if isinstance(value, FigureBounds) else None


FigureIn = Annotated[
    Annotated[FigureText, Tag("text")]
    | Annotated[FigureValue, Tag("value")]
    | Annotated[FigureBounds, Tag("bounds")],
    Discriminator(
        _figure_form,
        custom_error_type="figure_form",
        custom_error_message="a figure is a string or an object with value or low",
    ),
]


class FigureOut(Schema):
    model_config = ConfigDict(from_attributes=True)
    text: str
    """The figure as the source stated it (or as Tally writes a structured one)."""
    low: int
    """The lowest value the figure allows."""
    high: int | None
    """The highest value it allows; null when it has no upper bound."""
    point: int | None
    """The point estimate, if any."""
    qualifier: Qualifier
    """How the number was qualified: exact, at_least, more_than, at_most, fewer_than,
    approximately, almost, range or vague."""


class ClaimFields(Input):
    location: Place | None = None
    """The place the figure covers (`Almaty`); omitted: the whole event."""
    as_of: Day | None = None
    """The date (YYYY-MM-DD) the count refers to: by default the date of `published_at`, else
    today. Not the time the ledger recorded the claim."""
    url: Url | None = None
    """Where the figure was published."""
    quote: LongText | None = None
    """The sentence that states the figure, as published."""
    published_at: KeptMoment | None = None
    """When it was published (ISO 8601)."""
    cites: ClaimId | None = None
    """The id of the claim this one relays (an outlet repeating a ministry's announcement)."""
    note: LongText | None = None
    """The newsroom's own note."""


class ClaimCreate(ClaimFields):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "event": "kazakhstan-unrest-2022",
                    "metric": "deaths",
                    "figure": "at least 164",
                    "claimant": "Kazakhstan Ministry of Health",
                    "source": "khabar24",
                    "as_of": "2022-01-09",
                    "quote": "The media also reported at least 164 deaths on Sunday, citing the "
                    "Ministry of Health.",
                }
            ]
        }
    )

    event: Slug
    """The slug of the event the figure is about."""
    metric: Name
    """What is counted: deaths, injuries, arrests, evacuated (cumulative); missing, displaced,
    troops_deployed, protesters, hospitalized (stock), or one an admin added."""
    population: Name = "all"
    """Who is counted: all (default), civilians, security_forces, children, or one an admin
    added."""
    figure: FigureIn
    """The figure: text as published ("at least 164", "almost 8,000", "hundreds") or structured
    ({"value": 164, "qualifier": "at_least"}, {"low": 100, "high": 300})."""
    claimant: Claimant
    """Who states the figure (a ministry, a spokesperson, an NGO); compared case- and space-
    insensitively."""
    source: Slug
    """The slug of the source that published it."""


class ClaimUpdate(ClaimFields):
    """The fields to change, and why. Omitted fields keep their value; null clears optional ones."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "checked with the desk", "reason": "annotation"}]}
    )

    _required = not_null("event", "metric", "population", "figure", "claimant", "source", "as_of")
    reason: Reason
    """Why the claim changes; kept with the new revision."""
    event: Slug | None = None
    """A new event slug."""
    metric: Name | None = None
    """A new metric."""
    population: Name | None = None
    """A new population."""
    figure: FigureIn | None = None
    """A new figure, as text or structured."""
    claimant: Claimant | None = None
    """A new claimant."""
    source: Slug | None = None
    """A new source slug."""


class Retraction(Schema):
    model_config = ConfigDict(from_attributes=True)
    reason: str
    """Why the claim was retracted."""
    url: str | None
    """Where the retraction is documented."""
    retracted_at: datetime
    """When the claim was retracted."""


class RetractBody(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reason": "The announcement was deleted without giving reasons."}]
        }
    )

    reason: Reason
    """Why the claim is retracted (the announcement was deleted, the source withdrew it)."""
    url: Url | None = None
    """Where the retraction is documented."""
    retracted_at: KeptMoment | None = None
    """When it was retracted (ISO 8601); default: now."""


class ClaimRead(Schema):
    id: str
    """The claim's id."""
    version: int
    """The claim's version, raised by each change; its ETag is this number in quotes."""
    status: Literal["active", "retracted"]
    """`retracted` once the source withdrew it; `active` otherwise."""
    disputed: bool
    """Whether a dispute of the claim is open."""
    superseded_by: str | None
    """The id of the same claimant's next active claim in the group (a later `as_of`, or the same
    `as_of` recorded later); null for the claimant's current figure."""
    event: str
    """The slug of the event."""
    metric: str
    """What is counted."""
    population: str
    """Who is counted."""
    location: str | None
    """The place the figure covers; null: the whole event."""
    figure: FigureOut
    """The figure, normalised to an interval."""
    as_of: date
    """The date the count refers to."""
    claimant: str
    """Who states the figure."""
    source: str
    """The slug of the source that published it."""
    url: str | None
    """Where the figure was published."""
    quote: str | None
    """The sentence that states the figure."""
    published_at: datetime | None
    """When it was published."""
    cites: str | None
    """The id of the claim this one relays."""
    note: str | None
    """The newsroom's own note."""
    retraction: Retraction | None
    """How and why it was retracted; null while active."""
    created_at: datetime
    """When the ledger recorded the claim."""
    updated_at: datetime
    """When the ledger recorded its latest change."""

    @classmethod
    def of(cls, claim: Claim) -> ClaimRead:
        """The claim as clients see it: in answers, exports and webhook payloads alike."""
        return cls.model_validate(claim, from_attributes=True)


class RevisionRead(Schema):
    version: int
    """The version this revision made."""
    recorded_at: datetime
    """When the ledger recorded it."""
    actor: str
    """The name of the API key that made the change."""
    reason: str | None
    """Why (null for the first version)."""
    changes: dict[str, Any]
    """The fields that changed, with their new values."""
    claim: ClaimRead
    """The whole claim as it was after this change."""

    @classmethod
    def of(cls, revision: Revision) -> RevisionRead:
        """The revision, its claim as it was then (superseded_by is not kept in history)."""
        return cls.model_validate(revision, from_attributes=True)


class CheckRead(Schema):
    """A check of a claim's url by the source watch (SPEC §13)."""

    id: Id
    claim: Id
    """The claim whose url was checked."""
    checked_at: datetime
    url: str
    """The url requested (redirects, at most 3, were followed from it)."""
    status: int | None
    """The HTTP status of the answer (304: unchanged since the check before); null when no
    answer came (see `error`)."""
    error: str | None
    """Why the check failed: a timeout, a refused address, too many redirects …"""
    content_hash: str | None
    """SHA-256 of the page read (of its first bytes, when it was cut at the size cap)."""
    figure_found: bool | None
    """Whether the page shows the claim's figure or quote (case, spaces and thousands
    separators aside); null when no page could be read."""
    truncated: bool
    """The page was larger than the size cap and was cut there."""
    state: State
    """The watch state after this check: `unavailable` (source_unavailable is open),
    `figure_missing` (figure_not_in_source is open), `failing` (failed within the grace
    period), `found`, `not_found` (never found: nothing to compare) or `unchecked`."""
    changed: bool
    """The state differs from the one before this check."""

    @classmethod
    def of(cls, check: StoredCheck) -> CheckRead:
        return cls.model_validate(check, from_attributes=True)


class DisputeCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "by": "Deutsche Presse-Agentur",
                    "reason": "It is unclear whether the numbers are correct.",
                }
            ]
        }
    )

    by: Claimant
    """Who disputes the figure."""
    reason: Reason
    """Why they dispute it."""
    url: Url | None = None
    """Where the dispute was published."""


class DisputeClose(Input):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"note": "The ministry confirmed its figure."}]}
    )

    note: Reason | None = None
    """How the dispute ended."""


class DisputeRead(Output):
    id: Id
    """The dispute's id."""
    claim: Id
    """The id of the disputed claim."""
    by: str
    """Who disputes the figure."""
    reason: str
    """Why they dispute it."""
    url: str | None
    """Where the dispute was published."""
    status: Literal["open", "closed"]
    """`open` until someone closes it."""
    created_at: datetime
    """When it was recorded."""
    closed_at: datetime | None
    """When it was closed."""
    close_note: str | None
    """How it ended."""


class GapRead(Schema):
    model_config = ConfigDict(from_attributes=True)
    absolute: int
    """How far apart the figures are, in the metric's unit."""
    relative: float
    """The gap as a share of the larger figure (0.25 = 25 %)."""


class ConflictRead(Schema):
    id: str
    """The conflict's id, stable while it holds."""
    kind: ConflictKind
    """What kind of discrepancy it is."""
    claims: list[str]
    """The ids of the claims involved."""
    event: str
    """The slug of the event."""
    metric: str
    """What is counted."""
    population: str
    """Who is counted (the larger population for a part exceeding its whole)."""
    location: str | None
    """The place the figures cover; null: the whole event."""
    dispute: str | None
    """The id of the dispute, for a `disputed` conflict."""
    detail: str
    """A sentence a journalist can read."""
    gap: GapRead | None
    """How far apart the figures are, where values are compared."""
    status: Literal["open", "cleared", "resolved"]
    """`open`; `cleared` when Tally saw it stop holding; `resolved` when an editor closed it with a
    note."""
    opened_at: datetime
    """When Tally found it."""
    closed_at: datetime | None
    """When it was cleared or resolved."""
    resolution_note: str | None
    """The editor's note when resolved."""
    resolved_by: str | None
    """The name of the key that resolved it."""

    @classmethod
    def of(cls, conflict: StoredConflict) -> ConflictRead:
        """The stored conflict as clients see it."""
        return cls.model_validate(conflict, from_attributes=True)


class ResolveBody(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "note": "The prosecutor general's 225 is the official toll; the early count "
                    "stands as reported."
                }
            ]
        }
    )

    note: Reason
    """Why the conflict needs no further attention."""


class Interval(Schema):
    low: int
    """The lowest value."""
    high: int | None
    """The highest value; null: no upper bound."""


class LatestClaim(Schema):
    claimant: str
    """Who states the figure."""
    claim: str
    """The id of the claimant's latest active claim in the group."""
    figure: FigureOut
    """Its figure."""
    as_of: date
    """The date the count refers to."""


class ReportGroup(Schema):
    metric: str
    """What is counted."""
    population: str
    """Who is counted."""
    location: str | None
    """The place the figures cover; null: the whole event."""
    kind: MetricKind
    """`cumulative` or `stock`."""
    unit: str
    """What is counted, in words."""
    claims: list[ClaimRead]
    """Every claim of the group, retracted ones too."""
    latest_by_claimant: list[LatestClaim]
    """Each claimant's latest active claim."""
    range: Interval | None
    """The lowest low and the highest high of the latest claims."""
    consensus: Interval | None
    """What every latest claim allows (their intersection); null when they cannot all be right."""
    independent_origins: int
    """How many claimants the latest claims go back to, following `cites`."""
    conflicts: list[ConflictRead]
    """The group's open and resolved conflicts."""


class EventReport(Schema):
    event: str
    """The event's slug."""
    title: str
    """The event's title."""
    as_of: datetime | None
    """The moment asked for with `recorded_at` (the ledger as it stood then); null: now."""
    generated_at: datetime
    """When the report was made."""
    groups: list[ReportGroup]
    """One entry per metric, population and location."""
    open_conflicts: dict[str, int]
    """The number of open conflicts, by kind."""


class Discrepancy(Schema):
    event: str
    """The event's slug."""
    metric: str
    """What is counted."""
    population: str
    """Who is counted."""
    location: str | None
    """The place the figures cover; null: the whole event."""
    largest_gap: GapRead | None
    """The largest gap among the group's open conflicts."""
    conflicts: list[ConflictRead]
    """The group's open conflicts."""


class WebhookEvent(StrEnum):
    """The event types of SPEC §7."""

    CLAIM_CREATED = "claim.created"
    CLAIM_UPDATED = "claim.updated"
    CLAIM_RETRACTED = "claim.retracted"
    CLAIM_DISPUTED = "claim.disputed"
    CONFLICT_OPENED = "conflict.opened"
    CONFLICT_CLEARED = "conflict.cleared"
    CONFLICT_RESOLVED = "conflict.resolved"


WebhookEvents = Annotated[list[WebhookEvent], Field(min_length=1, max_length=len(WebhookEvent))]
ConflictKinds = Annotated[list[ConflictKind], Field(min_length=1, max_length=len(ConflictKind))]
FORMAT_DOC = (
    "The body sent: `standard` (Standard Webhooks JSON, signed), `slack` (a Slack incoming-"
    "webhook message) or `teams` (a Microsoft Teams Workflows message with an Adaptive Card)."
)


class WebhookCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "http://127.0.0.1:8080/tally",
                    "events": ["claim.retracted", "claim.disputed", "conflict.opened"],
                    "description": "desk alerts",
                }
            ]
        }
    )

    url: Url
    """Where Tally POSTs the events (a receiver on this machine needs
    TALLY_WEBHOOK_ALLOW_PRIVATE=true)."""
    events: WebhookEvents
    """The event types to send."""
    description: LongText | None = None
    """What the webhook is for."""
    format: AlertFormat = Field(default=AlertFormat.STANDARD, description=FORMAT_DOC)
    event: Slug | None = Field(default=None, description="Only changes of this event")
    metric: Name | None = Field(default=None, description="Only changes of this metric")
    kinds: ConflictKinds | None = Field(
        default=None, description="Only conflict events of these kinds (claim events pass)"
    )


class WebhookUpdate(Input):
    """The fields to change; omitted ones keep their value, null clears a filter."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "events": ["conflict.opened", "conflict.cleared"],
                    "event": "kazakhstan-unrest-2022",
                }
            ]
        }
    )

    _required = not_null("url", "events", "format")
    url: Url | None = None
    """A new receiver URL (cannot be cleared)."""
    events: WebhookEvents | None = None
    """The new event types to send (cannot be cleared)."""
    description: LongText | None = None
    """A new description; null clears it."""
    format: AlertFormat | None = Field(default=None, description=FORMAT_DOC)
    event: Slug | None = None
    """Send only changes of this event; null clears the filter."""
    metric: Name | None = None
    """Send only changes of this metric; null clears the filter."""
    kinds: ConflictKinds | None = None
    """Send only conflict events of these kinds; null clears the filter."""


class WebhookRead(Output):
    id: Id
    """The webhook's id."""
    url: str
    """Where Tally POSTs the events."""
    events: list[WebhookEvent]
    """The event types it sends."""
    description: str | None
    """What the webhook is for."""
    format: AlertFormat
    """The body sent: standard, slack or teams."""
    event: str | None
    """Only changes of this event, if set."""
    metric: str | None
    """Only changes of this metric, if set."""
    kinds: list[ConflictKind] | None
    """Only conflict events of these kinds, if set."""
    status: Literal["active", "disabled"]
    """`disabled` after its receiver answered 410 Gone."""
    disabled_reason: str | None
    """Why it was disabled."""
    previous_secret_expires_at: datetime | None = Field(
        description="Until then, deliveries also carry a signature made with the previous secret."
    )
    created_at: datetime
    """When it was created."""
    updated_at: datetime
    """When it last changed."""


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret. It is shown this once and never again.")


class DeliveryRead(Output):
    id: Id
    """The delivery's id."""
    message_id: str = Field(description="The `webhook-id` header, the same on every attempt.")
    event_type: WebhookEvent
    """The event delivered."""
    status: Literal["pending", "delivered", "failed", "cancelled"]
    """`pending` until the receiver answers 2xx (`delivered`) or the retries run out (`failed`)."""
    attempts: int
    """How many times Tally tried."""
    response_status: int | None
    """The receiver's last HTTP status."""
    last_error: str | None
    """The last error, when the receiver could not be reached."""
    next_attempt_at: datetime | None
    """When Tally tries again."""
    last_attempt_at: datetime | None
    """When Tally last tried."""
    delivered_at: datetime | None
    """When the receiver accepted it."""
    created_at: datetime
    """When the event was queued."""


class ChangeRead(BaseModel):
    """One change of the feed: an event of SPEC §7 as it was committed."""

    seq: str = Field(
        description="The change's place in the feed (opaque): `after=<seq>` resumes after it"
    )
    type: WebhookEvent
    at: datetime
    id: str = Field(description="The id of the claim or conflict it is about")
    data: dict[str, Any] = Field(description="The claim or conflict as the API showed it then")

    @classmethod
    def of(cls, change: Change) -> ChangeRead:
        return cls(
            seq=change.position.cursor,
            type=WebhookEvent(change.type),
            at=change.at,
            id=change.subject,
            data=change.data,
        )


class ChangePage(BaseModel):
    items: list[ChangeRead]
    next_cursor: str = Field(description="Pass as `after` to read on (always given)")


SharePath = Annotated[str, StringConstraints(min_length=2, max_length=2000)]


class ShareLinkCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "path": "/v1/events/kazakhstan-unrest-2022/report?format=csv",
                    "expires_at": "2030-12-31T00:00:00Z",
                    "note": "Datawrapper chart of the death toll",
                }
            ]
        }
    )

    path: SharePath = Field(
        description="The path and query the link opens, e.g. "
        "`/v1/events/kazakhstan-unrest-2022/report?format=csv`"
    )
    expires_at: KeptMoment | None = Field(
        default=None, description="When the link stops opening it (default: until revoked)"
    )
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None
    """What the link is for, and who has it."""


class ShareLinkRead(Output):
    id: Id
    """The share link's id (to revoke it)."""
    path: str
    """The path and query the link opens."""
    note: str | None
    """What the link is for."""
    created_by: str
    """The name of the key that made it."""
    created_at: datetime
    """When it was made."""
    expires_at: datetime | None
    """When it stops opening its path; null: until revoked."""
    revoked_at: datetime | None
    """When it was revoked; null while it works."""


class ShareLinkCreated(ShareLinkRead):
    url: str = Field(description="The link to hand out: the path with `share=<token>`")
    token: str = Field(description="The token. It is shown this once and never again.")


MAX_ARTICLE_CHARS = 50_000  # about 8,000 words: longer than any news article
MAX_CANDIDATES = 200  # candidates in one answer: far more than any news article states


class ExtractBody(Input):
    """An article to read for claims, and what is known of it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "text": "On Sunday, state television gave a death toll of at least 164, citing "
                    "the Ministry of Health. According to the authorities, almost 8,000 people "
                    "were arrested.",
                    "published_at": "2022-01-10T09:00:00Z",
                    "source": "dpa",
                    "event": "kazakhstan-unrest-2022",
                }
            ]
        }
    )

    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_ARTICLE_CHARS)] = Field(
        description="The article as plain text; spans count its characters (code points)."
    )
    source: Slug | None = None
    """The slug of the source that published the article, copied to each candidate."""
    published_at: datetime | None = Field(
        default=None, description="When it was published: dates `on Sunday`, `yesterday`"
    )
    event: Slug | None = None
    """The slug of the event the article is about, copied to each candidate."""

    @field_validator("text")
    @classmethod
    def _has_words(cls, text: str) -> str:
        if text.isspace():
            raise ValueError("the text is only whitespace")
        return text


class CandidateRead(Schema):
    """A claim the article seems to state, for a person to check before posting it. Only a
    candidate of `kind` `count` is ready to post; an `increment` or a `forecast` is shown
    so that no one posts it as a total."""

    figure: FigureOut
    """The figure, normalised like any claim's."""
    kind: Literal["count", "increment", "forecast"] = Field(
        default="count",
        description="`count`: a figure as it stands, ready to check and post. `increment`: a "
        "change of a total ('after two more bodies were found', '604 new deaths', 'rose by "
        "708'); `forecast`: a figure that may come ('the toll could reach 20,000'). Neither "
        "is ready to post as a claim: post the total the article gives instead.",
    )
    metric: str | None = Field(description="null when no built-in metric clearly applies")
    population: str
    """Who is counted."""
    claimant: str | None = Field(description="as written in the article; null when unattributed")
    as_of: date | None
    """The date the count refers to, from `published_at` and words like 'on Sunday'."""
    quote: str = Field(
        description="The whole sentence: text[span[0]:span[1]]. A sentence over 1,000 "
        "characters is quoted in pieces cut at a space, each with its own span."
    )
    span: tuple[int, int]
    """Where `quote` is in the text: [start, end) in characters."""
    confidence: float = Field(ge=0, le=1)
    """How sure the reading is, from 0 to 1."""
    why: str = Field(description="The cue words the candidate was read from")
    event: str | None
    """The event, as sent."""
    source: str | None
    """The source, as sent."""
    published_at: datetime | None
    """When the article was published, as sent."""


class Extraction(Schema):
    """The candidates of an article, in the order of the text, at most MAX_CANDIDATES."""

    candidates: list[CandidateRead] = Field(
        max_length=MAX_CANDIDATES,
        description=f"In the order of the text; at most {MAX_CANDIDATES}.",
    )
    truncated: bool = Field(
        default=False,
        description=f"true when the text holds more than {MAX_CANDIDATES} candidates: these "
        "are the first, up to a sentence's end; send the text from the end of the last "
        "one's span to read on.",
    )
