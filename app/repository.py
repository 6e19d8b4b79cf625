"""Every query: ORM rows in and out, lookups by the names clients use."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app import models
from app.db import Base
from app.domain.model import InvalidInput, NotFound

M = TypeVar("M", bound=Base)


def page(
    session: Session, model: type[M], after: int, limit: int, *where: ColumnElement[bool]
) -> list[M]:
    """Up to limit+1 rows with id > after, by id: the extra row tells that more follow."""
    id_column: Any = model.id  # type: ignore[attr-defined]
    query = select(model).where(id_column > after, *where).order_by(id_column).limit(limit + 1)
    return list(session.scalars(query))


def event_by_slug(session: Session, slug: str) -> models.Event | None:
    return session.scalar(select(models.Event).where(models.Event.slug == slug))


def source_by_slug(session: Session, slug: str) -> models.Source | None:
    return session.scalar(select(models.Source).where(models.Source.slug == slug))


def metric_by_name(session: Session, name: str) -> models.Metric | None:
    return session.scalar(select(models.Metric).where(models.Metric.name == name))


def population_by_name(session: Session, name: str) -> models.Population | None:
    return session.scalar(select(models.Population).where(models.Population.name == name))


def all_populations(session: Session) -> list[models.Population]:
    return list(session.scalars(select(models.Population).order_by(models.Population.id)))


def api_key_by_hash(session: Session, key_hash: str) -> models.ApiKey | None:
    return session.scalar(select(models.ApiKey).where(models.ApiKey.key_hash == key_hash))


def get_event(session: Session, slug: str, *, field: str | None = None) -> models.Event:
    """The event with that slug; NotFound, or InvalidInput naming `field` when it is a reference."""
    return _found(event_by_slug(session, slug), "event", slug, field)


def get_source(session: Session, slug: str, *, field: str | None = None) -> models.Source:
    return _found(source_by_slug(session, slug), "source", slug, field)


def get_metric(session: Session, name: str, *, field: str | None = None) -> models.Metric:
    return _found(metric_by_name(session, name), "metric", name, field)


def get_population(session: Session, name: str, *, field: str | None = None) -> models.Population:
    return _found(population_by_name(session, name), "population", name, field)


def _found(row: M | None, noun: str, name: str, field: str | None) -> M:
    if row is not None:
        return row
    if field is None:
        raise NotFound(f'No {noun} named "{name}".')
    raise InvalidInput(f'Unknown {noun} "{name}".', field=field)
