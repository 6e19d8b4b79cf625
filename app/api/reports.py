"""Event reports (JSON, CSV, Markdown) and the discrepancy report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app.api import conditional, formats
from app.api.deps import Reader, ReadFactoryDep, ReadSessionDep, ReportCacheDep
from app.api.errors import ERROR_RESPONSES
from app.api.ledger_time import LedgerMoment
from app.api.paging import NameFilter
from app.domain.model import ConflictFilter
from app.schemas import Discrepancy, EventReport, Moment, Page
from app.services import changes, reports
from app.services.reports import ReportCache
from app.services.sessions import Session

router = APIRouter(prefix="/v1", tags=["reports"], responses=ERROR_RESPONSES)

FORMATS = {
    200: {
        "content": {"text/csv": {}, "text/markdown": {}},
        "description": "The report, in the format asked for",
    },
    **conditional.NOT_MODIFIED,
}


@router.get("/events/{slug}/report", response_model=EventReport, responses=FORMATS)
async def event_report(
    slug: str,
    request: Request,
    response: Response,
    sessions: ReadFactoryDep,
    cache: ReportCacheDep,
    _: Reader,
    at: LedgerMoment,
    format: Annotated[
        Literal["json", "csv", "markdown"],
        Query(description="json, csv (a row per claim) or markdown (for an editor's note)"),
    ] = "json",
) -> Response:
    """Each group of the event's claims (metric, population, location) with its latest figure
    per claimant, range, consensus and conflicts; with `?recorded_at=`, as the ledger stood
    then."""
    # One trip through the thread pool for the whole read (the session's opening and closing
    # included): what desks, sheets and charts poll all day costs little more than its bytes.
    return await run_in_threadpool(_report, slug, request, response, sessions, cache, at, format)


def _report(
    slug: str,
    request: Request,
    response: Response,
    sessions: Callable[[], Session],
    cache: ReportCache,
    at: datetime | None,
    format: str,
) -> Response:
    with sessions() as session:
        version = changes.report_version(session, slug)
        unchanged = conditional.check(request, response, version)
        if unchanged is not None:
            return unchanged
        if at is None:  # the same report until the event changes: kept, rendered once a format
            body = reports.current_report(session, slug, version, cache).rendered(
                format, RENDER[format]
            )
        else:
            body = RENDER[format](reports.event_report(session, slug, at))
    return conditional.carry(response, Response(body, media_type=MEDIA_TYPES[format]))


def _json(report: dict[str, Any]) -> bytes:
    return EventReport.model_validate(report, from_attributes=True).model_dump_json().encode()


def _dumped(report: dict[str, Any]) -> dict[str, Any]:
    return EventReport.model_validate(report, from_attributes=True).model_dump(mode="json")


RENDER: dict[str, Callable[[dict[str, Any]], bytes]] = {
    "json": _json,
    "csv": lambda report: formats.report_csv(_dumped(report)).encode(),
    "markdown": lambda report: formats.report_markdown(_dumped(report)).encode(),
}
MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
}


@router.get(
    "/reports/discrepancies",
    response_model=Page[Discrepancy],
    responses=conditional.NOT_MODIFIED,
)
def discrepancies(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    _: Reader,
    event: NameFilter = None,
    metric: NameFilter = None,
    since: Moment | None = None,
) -> Page[Discrepancy] | Response:
    unchanged = conditional.check(request, response, changes.conflicts_version(session, event))
    if unchanged is not None:
        return unchanged
    found = reports.discrepancies(session, ConflictFilter(event, metric, since=since))
    items = [Discrepancy.model_validate(d, from_attributes=True) for d in found]
    return Page[Discrepancy](items=items, next_cursor=None)
