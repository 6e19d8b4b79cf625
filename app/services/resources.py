"""Events, sources, metrics and populations: the nouns claims refer to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app import models, repository
from app.db import begin_write
from app.domain.model import AlreadyExists
from app.models import utcnow


def _update(row: Any, changes: dict[str, Any]) -> None:
    for name, value in changes.items():
        setattr(row, name, value)
    if hasattr(row, "updated_at"):
        row.updated_at = utcnow()


def create_event(session: Session, fields: dict[str, Any]) -> models.Event:
    """A new event; AlreadyExists when the slug is taken."""
    begin_write(session)
    if repository.event_by_slug(session, fields["slug"]):
        raise AlreadyExists(f'An event with slug "{fields["slug"]}" already exists.', field="slug")
    event = models.Event(**fields)
    session.add(event)
    session.commit()
    return event


def update_event(session: Session, slug: str, changes: dict[str, Any]) -> models.Event:
    begin_write(session)
    event = repository.get_event(session, slug)
    _update(event, changes)
    session.commit()
    return event


def create_source(session: Session, fields: dict[str, Any]) -> models.Source:
    """A new source; AlreadyExists when the slug is taken."""
    begin_write(session)
    if repository.source_by_slug(session, fields["slug"]):
        raise AlreadyExists(f'A source with slug "{fields["slug"]}" already exists.', field="slug")
    source = models.Source(**fields)
    session.add(source)
    session.commit()
    return source


def update_source(session: Session, slug: str, changes: dict[str, Any]) -> models.Source:
    begin_write(session)
    source = repository.get_source(session, slug)
    _update(source, changes)
    session.commit()
    return source


def create_metric(session: Session, fields: dict[str, Any]) -> models.Metric:
    """A new metric; its kind is fixed for life, since conflict rules depend on it."""
    begin_write(session)
    if repository.metric_by_name(session, fields["name"]):
        raise AlreadyExists(f'A metric named "{fields["name"]}" already exists.', field="name")
    metric = models.Metric(**fields)
    session.add(metric)
    session.commit()
    return metric


def update_metric(session: Session, name: str, changes: dict[str, Any]) -> models.Metric:
    begin_write(session)
    metric = repository.get_metric(session, name)
    _update(metric, changes)
    session.commit()
    return metric


def create_population(
    session: Session, name: str, parent: str, description: str | None
) -> models.Population:
    """A new population, a part of `parent`; the tree can only grow, so it has no cycles."""
    begin_write(session)
    if repository.population_by_name(session, name):
        raise AlreadyExists(f'A population named "{name}" already exists.', field="name")
    parent_row = repository.get_population(session, parent, field="parent")
    population = models.Population(name=name, parent_id=parent_row.id, description=description)
    session.add(population)
    session.commit()
    return population


def population_tree(session: Session) -> dict[str, str | None]:
    """Each population's name and its parent's name."""
    rows = repository.all_populations(session)
    names = {row.id: row.name for row in rows}
    return {row.name: names.get(row.parent_id) if row.parent_id else None for row in rows}
