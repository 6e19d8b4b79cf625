"""Events, sources, metrics and populations."""

from __future__ import annotations

from fastapi import APIRouter, status

from app import models, repository
from app.api.deps import Admin, Editor, Reader
from app.api.errors import ERROR_RESPONSES
from app.api.paging import Cursor, Limit, after_id, to_page
from app.db import SessionDep
from app.schemas import (
    EventCreate,
    EventRead,
    EventUpdate,
    MetricCreate,
    MetricRead,
    MetricUpdate,
    Page,
    PopulationCreate,
    PopulationRead,
    SourceCreate,
    SourceRead,
    SourceUpdate,
)
from app.services import resources

router = APIRouter(prefix="/v1", responses=ERROR_RESPONSES)
CREATED = status.HTTP_201_CREATED


@router.post("/events", status_code=CREATED, tags=["events"])
def create_event(body: EventCreate, session: SessionDep, _: Editor) -> EventRead:
    return EventRead.model_validate(resources.create_event(session, body.model_dump()))


@router.get("/events", tags=["events"])
def list_events(
    session: SessionDep, _: Reader, limit: Limit = 50, cursor: Cursor = None
) -> Page[EventRead]:
    rows = repository.common.page(session, models.Event, after_id(cursor), limit)
    return to_page(rows, limit, EventRead.model_validate)


@router.get("/events/{slug}", tags=["events"])
def read_event(slug: str, session: SessionDep, _: Reader) -> EventRead:
    return EventRead.model_validate(repository.resources.get_event(session, slug))


@router.patch("/events/{slug}", tags=["events"])
def update_event(slug: str, body: EventUpdate, session: SessionDep, _: Editor) -> EventRead:
    changes = body.model_dump(exclude_unset=True)
    return EventRead.model_validate(resources.update_event(session, slug, changes))


@router.post("/sources", status_code=CREATED, tags=["sources"])
def create_source(body: SourceCreate, session: SessionDep, _: Editor) -> SourceRead:
    return SourceRead.model_validate(resources.create_source(session, body.model_dump(mode="json")))


@router.get("/sources", tags=["sources"])
def list_sources(
    session: SessionDep, _: Reader, limit: Limit = 50, cursor: Cursor = None
) -> Page[SourceRead]:
    rows = repository.common.page(session, models.Source, after_id(cursor), limit)
    return to_page(rows, limit, SourceRead.model_validate)


@router.get("/sources/{slug}", tags=["sources"])
def read_source(slug: str, session: SessionDep, _: Reader) -> SourceRead:
    return SourceRead.model_validate(repository.resources.get_source(session, slug))


@router.patch("/sources/{slug}", tags=["sources"])
def update_source(slug: str, body: SourceUpdate, session: SessionDep, _: Editor) -> SourceRead:
    changes = body.model_dump(mode="json", exclude_unset=True)
    return SourceRead.model_validate(resources.update_source(session, slug, changes))


@router.post("/metrics", status_code=CREATED, tags=["metrics"])
def create_metric(body: MetricCreate, session: SessionDep, _: Admin) -> MetricRead:
    return MetricRead.model_validate(resources.create_metric(session, body.model_dump(mode="json")))


@router.get("/metrics", tags=["metrics"])
def list_metrics(
    session: SessionDep, _: Reader, limit: Limit = 50, cursor: Cursor = None
) -> Page[MetricRead]:
    rows = repository.common.page(session, models.Metric, after_id(cursor), limit)
    return to_page(rows, limit, MetricRead.model_validate)


@router.get("/metrics/{name}", tags=["metrics"])
def read_metric(name: str, session: SessionDep, _: Reader) -> MetricRead:
    return MetricRead.model_validate(repository.resources.get_metric(session, name))


@router.patch("/metrics/{name}", tags=["metrics"])
def update_metric(name: str, body: MetricUpdate, session: SessionDep, _: Admin) -> MetricRead:
    changes = body.model_dump(exclude_unset=True)
    return MetricRead.model_validate(resources.update_metric(session, name, changes))


@router.post("/populations", status_code=CREATED, tags=["populations"])
def create_population(body: PopulationCreate, session: SessionDep, _: Admin) -> PopulationRead:
    row = resources.create_population(session, body.name, body.parent, body.description)
    return PopulationRead(name=row.name, parent=body.parent, description=row.description)


@router.get("/populations", tags=["populations"])
def list_populations(
    session: SessionDep, _: Reader, limit: Limit = 50, cursor: Cursor = None
) -> Page[PopulationRead]:
    rows = repository.common.page(session, models.Population, after_id(cursor), limit)
    tree = resources.population_tree(session)
    return to_page(
        rows,
        limit,
        lambda r: PopulationRead(name=r.name, parent=tree[r.name], description=r.description),
    )


@router.get("/populations/{name}", tags=["populations"])
def read_population(name: str, session: SessionDep, _: Reader) -> PopulationRead:
    row = repository.resources.get_population(session, name)
    tree = resources.population_tree(session)
    return PopulationRead(name=row.name, parent=tree[row.name], description=row.description)
