"""Events, sources, metrics and populations: the names claims refer to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import models
from app.repository.common import M, _found


def event_by_slug(session: Session, slug: str) -> models.Event | None:
    return _named(session, models.Event, models.Event.slug, slug)


def source_by_slug(session: Session, slug: str) -> models.Source | None:
    return _named(session, models.Source, models.Source.slug, slug)


def metric_by_name(session: Session, name: str) -> models.Metric | None:
    return _named(session, models.Metric, models.Metric.name, name)


def population_by_name(session: Session, name: str) -> models.Population | None:
    return _named(session, models.Population, models.Population.name, name)


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


def all_populations(session: Session) -> list[models.Population]:
    return list(session.scalars(select(models.Population).order_by(models.Population.id)))


def all_metrics(session: Session) -> list[models.Metric]:
    return list(session.scalars(select(models.Metric)))


def get_event(session: Session, slug: str, *, field: str | None = None) -> models.Event:
    """The event with that slug; NotFound, or InvalidInput naming `field` when it is a reference."""
    return _found(event_by_slug(session, slug), "event", slug, field)


def get_source(session: Session, slug: str, *, field: str | None = None) -> models.Source:
    return _found(source_by_slug(session, slug), "source", slug, field)


def get_metric(session: Session, name: str, *, field: str | None = None) -> models.Metric:
    return _found(metric_by_name(session, name), "metric", name, field)


def get_population(session: Session, name: str, *, field: str | None = None) -> models.Population:
    return _found(population_by_name(session, name), "population", name, field)


def event_claims(session: Session, event_id: int) -> list[models.Claim]:
    c = models.Claim
    return list(session.scalars(select(c).where(c.event_id == event_id).order_by(c.id)))
