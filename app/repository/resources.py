"""Events, sources, metrics and populations: the names claims refer to."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session, aliased

from app import models
from app.domain.model import ancestors
from app.domain.records import Event, Metric, Population, Source
from app.repository.common import M, _found, page, unknown


def _event(row: models.Event) -> Event:
    return Event(
        id=row.id,
        slug=row.slug,
        title=row.title,
        description=row.description,
        location=row.location,
        started_on=row.started_on,
        created_at=row.created_at,
        updated_at=row.updated_at,
        published=row.published,
    )


def _source(row: models.Source) -> Source:
    return Source(
        id=row.id,
        slug=row.slug,
        name=row.name,
        kind=row.kind,
        url=row.url,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _metric(row: models.Metric) -> Metric:
    return Metric(
        id=row.id,
        name=row.name,
        kind=row.kind,
        unit=row.unit,
        description=row.description,
        created_at=row.created_at,
    )


def _population(row: models.Population, parent: str | None) -> Population:
    return Population(
        id=row.id,
        name=row.name,
        parent=parent,
        description=row.description,
        created_at=row.created_at,
    )


def event_by_slug(session: Session, slug: str) -> Event | None:
    row = _named(session, models.Event, models.Event.slug, slug)
    return None if row is None else _event(row)


def source_by_slug(session: Session, slug: str) -> Source | None:
    row = _named(session, models.Source, models.Source.slug, slug)
    return None if row is None else _source(row)


def metric_by_name(session: Session, name: str) -> Metric | None:
    row = _named(session, models.Metric, models.Metric.name, name)
    return None if row is None else _metric(row)


def population_by_name(session: Session, name: str) -> Population | None:
    found = _populations(session, models.Population.name == name)
    return found[0] if found else None


def _named(session: Session, model: type[M], column: Any, name: str) -> M | None:
    return session.scalar(select(model).where(column == name))


# The column of each kind of reference that clients name it by.
NAMES = {
    "event": models.Event.slug,
    "metric": models.Metric.name,
    "population": models.Population.name,
    "source": models.Source.slug,
}


def ids_by_name(session: Session, kind: str, names: set[str]) -> dict[str, int]:
    """The ids of the references of `kind` (a key of NAMES) named `names`; unknown ones left out.

    Remembered with the database connection (for its lifetime), as names are never changed,
    reused or removed: looking a batch's names up as rows was a tenth of a new claim's cost
    (bench/changes.md). Only for references created by earlier transactions: a name inserted
    by the caller's own transaction could be remembered and then rolled back. Names not found
    are asked again next time.
    """
    column = NAMES[kind]
    known: dict[str, int] = session.connection().info.setdefault(f"tally_{kind}_ids", {})
    missing = names - known.keys()
    if missing:
        id_column = column.class_.id
        rows = session.execute(select(column, id_column).where(column.in_(missing))).all()
        known.update(dict(rows))
    return {name: known[name] for name in names if name in known}


def all_metrics(session: Session) -> list[Metric]:
    return [_metric(row) for row in session.scalars(select(models.Metric))]


def source_names(session: Session, slugs: set[str]) -> dict[str, str]:
    """The names of the sources with those slugs, by slug."""
    s = models.Source
    rows = session.execute(select(s.slug, s.name).where(s.slug.in_(slugs)))
    return {row.slug: row.name for row in rows}


def population_ancestors(session: Session, names: set[str]) -> dict[str, tuple[str, ...]]:
    """The populations each of `names` is a strict part of, nearest first.

    The tree is remembered with the database connection, like ids_by_name: populations are
    only ever added, never changed or removed; a name not in it has the tree read again.
    (Reading it for every write cost a write a tenth more, bench/changes.md.)
    """
    info = session.connection().info
    tree: dict[str, str | None] = info.get("tally_population_tree", {})
    if not names <= tree.keys():
        tree = info["tally_population_tree"] = population_tree(session)
    return {name: ancestors(tree, name) for name in names}


def population_tree(session: Session) -> dict[str, str | None]:
    """Each population's name and its parent's name (None for the root)."""
    p, parent = models.Population, aliased(models.Population)
    query = select(p.name, parent.name).outerjoin(parent, parent.id == p.parent_id)
    return dict(session.execute(query.order_by(p.id)).all())


def get_event(session: Session, slug: str, *, field: str | None = None) -> Event:
    """The event with that slug; NotFound, or InvalidInput naming `field` when it is a reference."""
    return _found(event_by_slug(session, slug), "event", slug, field, session)


def get_source(session: Session, slug: str, *, field: str | None = None) -> Source:
    return _found(source_by_slug(session, slug), "source", slug, field, session)


def get_metric(session: Session, name: str, *, field: str | None = None) -> Metric:
    return _found(metric_by_name(session, name), "metric", name, field, session)


def get_population(session: Session, name: str, *, field: str | None = None) -> Population:
    return _found(population_by_name(session, name), "population", name, field, session)


def event_page(session: Session, after: int, limit: int) -> list[Event]:
    """Up to limit+1 events with id > after, by id (see common.page)."""
    return [_event(row) for row in page(session, models.Event, after, limit)]


def source_page(session: Session, after: int, limit: int) -> list[Source]:
    return [_source(row) for row in page(session, models.Source, after, limit)]


def metric_page(session: Session, after: int, limit: int) -> list[Metric]:
    return [_metric(row) for row in page(session, models.Metric, after, limit)]


def population_page(session: Session, after: int, limit: int) -> list[Population]:
    return _populations(session, models.Population.id > after, limit=limit + 1)


def _populations(
    session: Session, *where: ColumnElement[bool], limit: int | None = None
) -> list[Population]:
    """Populations matching `where`, by id, each with its parent's name."""
    p, parent = models.Population, aliased(models.Population)
    query = select(p, parent.name).outerjoin(parent, parent.id == p.parent_id).where(*where)
    rows = session.execute(query.order_by(p.id).limit(limit))
    return [_population(row, parent_name) for row, parent_name in rows]


def insert_event(
    session: Session,
    *,
    slug: str,
    title: str,
    description: str | None,
    location: str | None,
    started_on: date | None,
) -> Event:
    """A new event, flushed so that its id is known; the caller commits."""
    row = models.Event(
        slug=slug,
        title=title,
        description=description,
        location=location,
        started_on=started_on,
    )
    return _event(_flushed(session, row))


def insert_source(session: Session, *, slug: str, name: str, kind: str, url: str | None) -> Source:
    """A new source, flushed so that its id is known; the caller commits."""
    row = models.Source(slug=slug, name=name, kind=kind, url=url)
    return _source(_flushed(session, row))


def insert_metric(
    session: Session, *, name: str, kind: str, unit: str, description: str | None
) -> Metric:
    """A new metric, flushed so that its id is known; the caller commits."""
    row = models.Metric(name=name, kind=kind, unit=unit, description=description)
    return _metric(_flushed(session, row))


def insert_population(
    session: Session, *, name: str, parent: Population, description: str | None
) -> Population:
    """A new population under `parent`, flushed so that its id is known; the caller commits."""
    row = models.Population(name=name, parent_id=parent.id, description=description)
    return _population(_flushed(session, row), parent.name)


def _flushed(session: Session, row: M) -> M:
    session.add(row)
    session.flush()
    return row


def update_event(session: Session, slug: str, changes: Mapping[str, Any]) -> Event:
    """The event named `slug` with `changes` applied (NotFound when there is none)."""
    row = _changed(session, models.Event, models.Event.slug, slug, changes)
    return _event(row)


def update_source(session: Session, slug: str, changes: Mapping[str, Any]) -> Source:
    """The source named `slug` with `changes` applied (NotFound when there is none)."""
    row = _changed(session, models.Source, models.Source.slug, slug, changes)
    return _source(row)


def update_metric(session: Session, name: str, changes: Mapping[str, Any]) -> Metric:
    """The metric named `name` with `changes` applied (NotFound when there is none)."""
    row = _changed(session, models.Metric, models.Metric.name, name, changes)
    return _metric(row)


def _changed(
    session: Session, model: type[M], column: Any, name: str, changes: Mapping[str, Any]
) -> M:
    """The row named `name` with `changes` set (and its updated_at, if it has one), flushed."""
    row = _named(session, model, column, name)
    if row is None:
        raise unknown(model.__tablename__, name, None, session)
    for field, value in changes.items():
        setattr(row, field, value)
    if hasattr(row, "updated_at"):
        row.updated_at = models.utcnow()
    session.flush()
    return row
