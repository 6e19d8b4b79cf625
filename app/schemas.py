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
from app.domain.records import Role

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


class Input(BaseModel):
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


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class EventCreate(Input):
    slug: Slug
    title: Text300
    description: LongText | None = None
    location: Place | None = None
    started_on: Day | None = None


class EventUpdate(Input):
    _required = not_null("title")
    title: Text300 | None = None
    description: LongText | None = None
    location: Place | None = None
    started_on: Day | None = None


class EventRead(Output):
    slug: str
    title: str
    description: str | None
    location: str | None
    started_on: date | None
    created_at: datetime
    updated_at: datetime


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
    slug: Slug
    name: Text300
    kind: SourceKind = SourceKind.OTHER
    url: Url | None = None


class SourceUpdate(Input):
    _required = not_null("name", "kind")
    name: Text300 | None = None
    kind: SourceKind | None = None
    url: Url | None = None


class SourceRead(Output):
    slug: str
    name: str
    kind: SourceKind
    url: str | None
    created_at: datetime
    updated_at: datetime


class MetricCreate(Input):
    name: Name
    kind: MetricKind
    unit: Annotated[str, StringConstraints(min_length=1, max_length=50)] = "people"
    description: LongText | None = None


class MetricUpdate(Input):
    _required = not_null("unit")
    unit: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    description: LongText | None = None


class MetricRead(Output):
    name: str
    kind: MetricKind
    unit: str
    description: str | None


class PopulationCreate(Input):
    name: Name
    parent: Name = "all"
    description: LongText | None = None


class PopulationRead(BaseModel):
    name: str
    parent: str | None
    description: str | None


class KeyCreate(Input):
    name: Text300
    role: Role


class KeyRead(Output):
    id: Id
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyRead):
    key: str = Field(description="The key itself. It is shown this once and never again.")


Count = Annotated[int, Field(ge=0, le=MAX_COUNT, strict=True)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Claimant = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ClaimId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,18}$")]


class FigureValue(Input):
    """A figure as a value and qualifier: `{"value": 164, "qualifier": "at_least"}`."""

    value: Count
    qualifier: Qualifier = Qualifier.EXACT


class FigureBounds(Input):
    """A figure as bounds: `{"low": 100, "high": 300, "point": 200}`; high null = open."""

    low: Count
    high: Count | None = None
    point: Count | None = None


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


class FigureOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    text: str
    low: int
    high: int | None
    point: int | None
    qualifier: Qualifier


class ClaimFields(Input):
    location: Place | None = None
    as_of: Day | None = None
    url: Url | None = None
    quote: LongText | None = None
    published_at: KeptMoment | None = None
    cites: ClaimId | None = None
    note: LongText | None = None


class ClaimCreate(ClaimFields):
    event: Slug
    metric: Name
    population: Name = "all"
    figure: FigureIn
    claimant: Claimant
    source: Slug


class ClaimUpdate(ClaimFields):
    """The fields to change, and why. Omitted fields keep their value; null clears optional ones."""

    _required = not_null("event", "metric", "population", "figure", "claimant", "source", "as_of")
    reason: Reason
    event: Slug | None = None
    metric: Name | None = None
    population: Name | None = None
    figure: FigureIn | None = None
    claimant: Claimant | None = None
    source: Slug | None = None


class Retraction(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    reason: str
    url: str | None
    retracted_at: datetime


class RetractBody(Input):
    reason: Reason
    url: Url | None = None
    retracted_at: KeptMoment | None = None


class ClaimRead(BaseModel):
    id: str
    version: int
    status: Literal["active", "retracted"]
    disputed: bool
    superseded_by: str | None
    event: str
    metric: str
    population: str
    location: str | None
    figure: FigureOut
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

    @classmethod
    def of(cls, claim: Claim) -> ClaimRead:
        """The claim as clients see it: in answers, exports and webhook payloads alike."""
        return cls.model_validate(claim, from_attributes=True)


class RevisionRead(BaseModel):
    version: int
    recorded_at: datetime
    actor: str
    reason: str | None
    changes: dict[str, Any]
    claim: ClaimRead

    @classmethod
    def of(cls, revision: Revision) -> RevisionRead:
        """The revision, its claim as it was then (superseded_by is not kept in history)."""
        return cls.model_validate(revision, from_attributes=True)


class DisputeCreate(Input):
    by: Claimant
    reason: Reason
    url: Url | None = None


class DisputeClose(Input):
    note: Reason | None = None


class DisputeRead(Output):
    id: Id
    claim: Id
    by: str
    reason: str
    url: str | None
    status: Literal["open", "closed"]
    created_at: datetime
    closed_at: datetime | None
    close_note: str | None


class GapRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    absolute: int
    relative: float


class ConflictRead(BaseModel):
    id: str
    kind: ConflictKind
    claims: list[str]
    event: str
    metric: str
    population: str
    location: str | None
    dispute: str | None
    detail: str
    gap: GapRead | None
    status: Literal["open", "cleared", "resolved"]
    opened_at: datetime
    closed_at: datetime | None
    resolution_note: str | None
    resolved_by: str | None

    @classmethod
    def of(cls, conflict: StoredConflict) -> ConflictRead:
        """The stored conflict as clients see it."""
        return cls.model_validate(conflict, from_attributes=True)


class ResolveBody(Input):
    note: Reason


class Interval(BaseModel):
    low: int
    high: int | None


class LatestClaim(BaseModel):
    claimant: str
    claim: str
    figure: FigureOut
    as_of: date


class ReportGroup(BaseModel):
    metric: str
    population: str
    location: str | None
    kind: MetricKind
    unit: str
    claims: list[ClaimRead]
    latest_by_claimant: list[LatestClaim]
    range: Interval | None
    consensus: Interval | None
    independent_origins: int
    conflicts: list[ConflictRead]


class EventReport(BaseModel):
    event: str
    as_of: datetime | None
    generated_at: datetime
    groups: list[ReportGroup]
    open_conflicts: dict[str, int]


class Discrepancy(BaseModel):
    event: str
    metric: str
    population: str
    location: str | None
    largest_gap: GapRead | None
    conflicts: list[ConflictRead]


class WebhookEvent(StrEnum):
    """The event types of SPEC §7."""

    CLAIM_CREATED = "claim.created"
    CLAIM_UPDATED = "claim.updated"
    CLAIM_RETRACTED = "claim.retracted"
    CLAIM_DISPUTED = "claim.disputed"
    CONFLICT_OPENED = "conflict.opened"
    CONFLICT_CLEARED = "conflict.cleared"
    CONFLICT_RESOLVED = "conflict.resolved"


class WebhookCreate(Input):
    url: Url
    events: Annotated[list[WebhookEvent], Field(min_length=1, max_length=len(WebhookEvent))]
    description: LongText | None = None


class WebhookRead(Output):
    id: Id
    url: str
    events: list[WebhookEvent]
    description: str | None
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then, deliveries also carry a signature made with the previous secret."
    )
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    secret: str = Field(description="The signing secret. It is shown this once and never again.")


class DeliveryRead(Output):
    id: Id
    message_id: str = Field(description="The `webhook-id` header, the same on every attempt.")
    event_type: WebhookEvent
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int
    response_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime


MAX_ARTICLE_CHARS = 50_000  # about 8,000 words: longer than any news article
MAX_CANDIDATES = 200  # candidates in one answer: far more than any news article states


class ExtractBody(Input):
    """An article to read for claims, and what is known of it."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_ARTICLE_CHARS)] = Field(
        description="The article as plain text; spans count its characters (code points)."
    )
    source: Slug | None = None
    published_at: datetime | None = Field(
        default=None, description="When it was published: dates `on Sunday`, `yesterday`"
    )
    event: Slug | None = None

    @field_validator("text")
    @classmethod
    def _has_words(cls, text: str) -> str:
        if text.isspace():
            raise ValueError("the text is only whitespace")
        return text


class CandidateRead(BaseModel):
    """A claim the article seems to state, for a person to check before posting it."""

    figure: FigureOut
    metric: str | None = Field(description="null when no built-in metric clearly applies")
    population: str
    claimant: str | None = Field(description="as written in the article; null when unattributed")
    as_of: date | None
    quote: str = Field(
        description="The whole sentence: text[span[0]:span[1]]. A sentence over 1,000 "
        "characters is quoted in pieces cut at a space, each with its own span."
    )
    span: tuple[int, int]
    confidence: float = Field(ge=0, le=1)
    why: str = Field(description="The cue words the candidate was read from")
    event: str | None
    source: str | None
    published_at: datetime | None


class Extraction(BaseModel):
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
