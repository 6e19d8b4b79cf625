"""Events, sources, metrics and populations: the nouns claims refer to."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import repository
from app.db import begin_write
from app.domain.model import AlreadyExists
from app.domain.records import Event, Metric, Population, Source
from app.schemas import (
    EventCreate,
    EventUpdate,
    MetricCreate,
    MetricUpdate,
    PopulationCreate,
    SourceCreate,
    SourceUpdate,
)


def _refuse_taken(found: object | None, noun: str, key: str, value: str) -> None:
    """AlreadyExists naming `key` when another `noun` (`found`) has the value."""
    if found is not None:
        raise AlreadyExists(f'A {noun} with {key} "{value}" already exists.', field=key)


def create_event(session: Session, body: EventCreate) -> Event:
    """A new event; AlreadyExists when its slug is taken."""
    begin_write(session)
    _refuse_taken(
        repository.resources.event_by_slug(session, body.slug), "event", "slug", body.slug
    )
    event = repository.resources.insert_event(session, **body.model_dump())
    session.commit()
    return event


def get_event(session: Session, slug: str) -> Event:
    return repository.resources.get_event(session, slug)


def list_events(session: Session, after: int, limit: int) -> list[Event]:
    """Up to limit+1 events after the id `after`: the extra one tells that more follow."""
    return repository.resources.event_page(session, after, limit)


def update_event(session: Session, slug: str, body: EventUpdate) -> Event:
    """The event with the fields `body` sets changed; NotFound when there is none."""
    begin_write(session)
    changes = body.model_dump(exclude_unset=True)
    event = repository.resources.update_event(session, slug, changes)
    session.commit()
    return event


def create_source(session: Session, body: SourceCreate) -> Source:
    """A new source; AlreadyExists when its slug is taken."""
    begin_write(session)
    taken = repository.resources.source_by_slug(session, body.slug)
    _refuse_taken(taken, "source", "slug", body.slug)
    source = repository.resources.insert_source(session, **body.model_dump(mode="json"))
    session.commit()
    return source


def get_source(session: Session, slug: str) -> Source:
    return repository.resources.get_source(session, slug)


def list_sources(session: Session, after: int, limit: int) -> list[Source]:
    """Up to limit+1 sources after the id `after`: the extra one tells that more follow."""
    return repository.resources.source_page(session, after, limit)


def update_source(session: Session, slug: str, body: SourceUpdate) -> Source:
    """The source with the fields `body` sets changed; NotFound when there is none."""
    begin_write(session)
    changes = body.model_dump(mode="json", exclude_unset=True)
    source = repository.resources.update_source(session, slug, changes)
    session.commit()
    return source


def create_metric(session: Session, body: MetricCreate) -> Metric:
    """A new metric; its kind is fixed for life, since conflict rules depend on it."""
    begin_write(session)
    taken = repository.resources.metric_by_name(session, body.name)
    _refuse_taken(taken, "metric", "name", body.name)
    metric = repository.resources.insert_metric(session, **body.model_dump(mode="json"))
    session.commit()
    return metric


def get_metric(session: Session, name: str) -> Metric:
    return repository.resources.get_metric(session, name)


def list_metrics(session: Session, after: int, limit: int) -> list[Metric]:
    """Up to limit+1 metrics after the id `after`: the extra one tells that more follow."""
    return repository.resources.metric_page(session, after, limit)


def update_metric(session: Session, name: str, body: MetricUpdate) -> Metric:
    """The metric with the fields `body` sets changed (never its kind); NotFound when none."""
    begin_write(session)
    changes = body.model_dump(exclude_unset=True)
    metric = repository.resources.update_metric(session, name, changes)
    session.commit()
    return metric


def create_population(session: Session, body: PopulationCreate) -> Population:
    """A new population, a part of `parent`; the tree can only grow, so it has no cycles."""
    begin_write(session)
    if repository.resources.population_by_name(session, body.name) is not None:
        raise AlreadyExists(f'A population named "{body.name}" already exists.', field="name")
    parent = repository.resources.get_population(session, body.parent, field="parent")
    population = repository.resources.insert_population(
        session, name=body.name, parent=parent, description=body.description
    )
    session.commit()
    return population


def get_population(session: Session, name: str) -> Population:
    return repository.resources.get_population(session, name)


def list_populations(session: Session, after: int, limit: int) -> list[Population]:
    """Up to limit+1 populations after the id `after`: the extra one tells that more follow."""
    return repository.resources.population_page(session, after, limit)
