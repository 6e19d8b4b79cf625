"""Events, sources, metrics and populations: the nouns claims refer to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app import models, repository
from app.db import Base, begin_write
from app.domain.model import AlreadyExists
from app.models import utcnow

R = TypeVar("R", bound=Base)


def _create(session: Session, row: R, find: Callable[[Session, str], R | None], key: str) -> R:
    """Insert `row`; AlreadyExists naming `key` when another row has its value."""
    begin_write(session)
    value = getattr(row, key)
    if find(session, value):
        noun = type(row).__tablename__
        raise AlreadyExists(f'A {noun} with {key} "{value}" already exists.', field=key)
    session.add(row)
    session.commit()
    return row


def _update(
    session: Session, get: Callable[[Session, str], R], name: str, changes: dict[str, Any]
) -> R:
    """Apply `changes` to the row named `name` (NotFound when there is none)."""
    begin_write(session)
    row = get(session, name)
    for field, value in changes.items():
        setattr(row, field, value)
    if hasattr(row, "updated_at"):
        row.updated_at = utcnow()
    session.commit()
    return row


def create_event(session: Session, fields: dict[str, Any]) -> models.Event:
    return _create(session, models.Event(**fields), repository.resources.event_by_slug, "slug")


def update_event(session: Session, slug: str, changes: dict[str, Any]) -> models.Event:
    return _update(session, repository.resources.get_event, slug, changes)


def create_source(session: Session, fields: dict[str, Any]) -> models.Source:
    return _create(session, models.Source(**fields), repository.resources.source_by_slug, "slug")


def update_source(session: Session, slug: str, changes: dict[str, Any]) -> models.Source:
    return _update(session, repository.resources.get_source, slug, changes)


def create_metric(session: Session, fields: dict[str, Any]) -> models.Metric:
    """A new metric; its kind is fixed for life, since conflict rules depend on it."""
    return _create(session, models.Metric(**fields), repository.resources.metric_by_name, "name")


def update_metric(session: Session, name: str, changes: dict[str, Any]) -> models.Metric:
    return _update(session, repository.resources.get_metric, name, changes)


def create_population(
    session: Session, name: str, parent: str, description: str | None
) -> models.Population:
    """A new population, a part of `parent`; the tree can only grow, so it has no cycles."""
    begin_write(session)
    if repository.resources.population_by_name(session, name):
        raise AlreadyExists(f'A population named "{name}" already exists.', field="name")
    parent_row = repository.resources.get_population(session, parent, field="parent")
    population = models.Population(name=name, parent_id=parent_row.id, description=description)
    session.add(population)
    session.commit()
    return population


def population_tree(session: Session) -> dict[str, str | None]:
    """Each population's name and its parent's name."""
    rows = repository.resources.all_populations(session)
    names = {row.id: row.name for row in rows}
    return {row.name: names.get(row.parent_id) if row.parent_id else None for row in rows}
