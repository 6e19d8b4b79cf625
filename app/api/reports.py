"""Event reports (JSON, CSV, Markdown) and the discrepancy report."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app.api import conditional, formats
from app.api.deps import Reader, ReadSessionDep
from app.api.errors import ERROR_RESPONSES
from app.api.ledger_time import LedgerMoment
from app.api.paging import NameFilter
from app.domain.model import ConflictFilter
from app.schemas import Discrepancy, EventReport, Moment, Page
from app.services import changes, reports

router = APIRouter(prefix="/v1", tags=["reports"], responses=ERROR_RESPONSES)

FORMATS = {
    200: {
        "content": {"text/csv": {}, "text/markdown": {}},
        "description": "The report, in the format asked for",
    },
    **conditional.NOT_MODIFIED,
}


@router.get("/events/{slug}/report", response_model=EventReport, responses=FORMATS)
def event_report(
    slug: str,
    request: Request,
    response: Response,
    session: ReadSessionDep,
    _: Reader,
    at: LedgerMoment,
    format: Annotated[
        Literal["json", "csv", "markdown"],
        Query(description="json, csv (a row per claim) or markdown (for an editor's note)"),
    ] = "json",
) -> EventReport | Response:
    """Each group of the event's claims (metric, population, location) with its latest figure
    per claimant, range, consensus and conflicts; with `?recorded_at=`, as the ledger stood
    then."""
    unchanged = conditional.check(request, response, changes.report_version(session, slug))
    if unchanged is not None:
        return unchanged
    report = EventReport.model_validate(
        reports.event_report(session, slug, at), from_attributes=True
    )
    if format == "csv":
        body = formats.report_csv(report.model_dump(mode="json"))
        return conditional.carry(response, Response(body, media_type="text/csv; charset=utf-8"))
    if format == "markdown":
        body = formats.report_markdown(report.model_dump(mode="json"))
        markdown = Response(body, media_type="text/markdown; charset=utf-8")
        return conditional.carry(response, markdown)
    return report


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
