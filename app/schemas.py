"""Pydantic request and response models. Input models forbid unknown fields."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Generic, TypeVar

from pydantic import AnyHttpUrl, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from app.domain.model import MetricKind
from app.services.keys import Role

T = TypeVar("T")

Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=1, max_length=100)
]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=100)]
Text300 = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(max_length=10_000)]
Url = Annotated[AnyHttpUrl, Field(max_length=2000)]
Id = Annotated[str, BeforeValidator(str)]  # ids are opaque strings to clients
Day = Annotated[date, Field(ge=date(1800, 1, 1), le=date(2200, 12, 31))]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class EventCreate(Input):
    slug: Slug
    title: Text300
    description: LongText | None = None
    location: Text300 | None = None
    started_on: Day | None = None


class EventUpdate(Input):
    title: Text300 | None = None
    description: LongText | None = None
    location: Text300 | None = None
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
