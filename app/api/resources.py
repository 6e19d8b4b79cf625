"""Events, sources, metrics and populations."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import Admin, Editor, Reader, ReadSessionDep, SessionDep
from app.api.errors import ERROR_RESPONSES
from app.api.paging import Cursor, Limit, after_id, to_page
from app.domain.records import Population
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
    return EventRead.model_validate(resources.create_event(session, body))


@router.get("/events", tags=["events"])
def list_events(
    session: ReadSessionDep, _: Reader, limit: Limit = 50, cursor: Cursor = None
) -> Page[EventRead]:
    events = resources.list_events(session, after_id(cursor), limit)
    return to_page(events, limit, EventRead.model_validate)


@router.get("/events/{slug}", tags=["events"])
def read_event(slug: str, session: SessionDep, _: Reader) -> EventRead:
    return EventRead.model_validate(resources.get_event(session, slug))


@router.patch("/events/{slug}", tags=["events"])
def update_event(slug: str, body: EventUpdate, session: SessionDep, _: Editor) -> EventRead:
    return EventRead.model_validate(resources.update_event(session, slug, body))


@router.post("/sources", status_code=CREATED, tags=["sources"])
def create_source(body: SourceCreate, session: SessionDep, _: Editor) -> SourceRead:
    return SourceRead.model_validate(resources.create_source(session, body))


@router.get("/sources", tags=["sources"])
def list_sources(
    session: ReadSessionDep, _: Reader, limit: Limit = 50, cursor: Cursor = None
) -> Page[SourceRead]:
    sources = resources.list_sources(session, after_id(cursor), limit)
    return to_page(sources, limit, SourceRead.model_validate)


@router.get("/sources/{slug}", tags=["sources"])
def read_source(slug: str, session: SessionDep, _: Reader) -> SourceRead:
    return SourceRead.model_validate(resources.get_source(session, slug))


@router.patch("/sources/{slug}", tags=["sources"])
def update_source(slug: str, body: SourceUpdate, session: SessionDep, _: Editor) -> SourceRead:
    return SourceRead.model_validate(resources.update_source(session, slug, body))


@router.post("/metrics", status_code=CREATED, tags=["metrics"])
def create_metric(body: MetricCreate, session: SessionDep, _: Admin) -> MetricRead:
    return MetricRead.model_validate(resources.create_metric(session, body))


@router.get("/metrics", tags=["metrics"])
def list_metrics(
    session: ReadSessionDep, _: Reader, limit: Limit = 50, cursor: Cursor = None
) -> Page[MetricRead]:
    metrics = resources.list_metrics(session, after_id(cursor), limit)
    return to_page(metrics, limit, MetricRead.model_validate)


@router.get("/metrics/{name}", tags=["metrics"])
def read_metric(name: str, session: SessionDep, _: Reader) -> MetricRead:
    return MetricRead.model_validate(resources.get_metric(session, name))


@router.patch("/metrics/{name}", tags=["metrics"])
def update_metric(name: str, body: MetricUpdate, session: SessionDep, _: Admin) -> MetricRead:
    return MetricRead.model_validate(resources.update_metric(session, name, body))


@router.post("/populations", status_code=CREATED, tags=["populations"])
def create_population(body: PopulationCreate, session: SessionDep, _: Admin) -> PopulationRead:
    return _population(resources.create_population(session, body))


@router.get("/populations", tags=["populations"])
def list_populations(
    session: ReadSessionDep, _: Reader, limit: Limit = 50, cursor: Cursor = None
) -> Page[PopulationRead]:
    populations = resources.list_populations(session, after_id(cursor), limit)
    return to_page(populations, limit, _population)


@router.get("/populations/{name}", tags=["populations"])
def read_population(name: str, session: SessionDep, _: Reader) -> PopulationRead:
    return _population(resources.get_population(session, name))


def _population(population: Population) -> PopulationRead:
    # PopulationRead is not an Output model: it reads attributes only when asked to.
    return PopulationRead.model_validate(population, from_attributes=True)
