"""Event reports (JSON, CSV, Markdown) and the discrepancy report."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response

from app.api import formats
from app.api.deps import Reader, SessionDep
from app.api.errors import ERROR_RESPONSES
from app.api.paging import NameFilter
from app.domain.model import ConflictFilter
from app.schemas import Discrepancy, EventReport, Moment, Page
from app.services import reports

router = APIRouter(prefix="/v1", tags=["reports"], responses=ERROR_RESPONSES)

FORMATS = {
    200: {
        "content": {"text/csv": {}, "text/markdown": {}},
        "description": "The report, in the format asked for",
    }
}


@router.get("/events/{slug}/report", response_model=EventReport, responses=FORMATS)  # type: ignore[arg-type]
def event_report(
    slug: str,
    session: SessionDep,
    _: Reader,
    as_of: Moment | None = None,
    format: Literal["json", "csv", "markdown"] = "json",
) -> EventReport | Response:
    report = EventReport.model_validate(
        reports.event_report(session, slug, as_of), from_attributes=True
    )
    if format == "csv":
        body = formats.report_csv(report.model_dump(mode="json"))
        return Response(body, media_type="text/csv; charset=utf-8")
    if format == "markdown":
        body = formats.report_markdown(report.model_dump(mode="json"))
        return Response(body, media_type="text/markdown; charset=utf-8")
    return report


@router.get("/reports/discrepancies")
def discrepancies(
    session: SessionDep,
    _: Reader,
    event: NameFilter = None,
    metric: NameFilter = None,
    since: Moment | None = None,
) -> Page[Discrepancy]:
    found = reports.discrepancies(session, ConflictFilter(event, metric, since=since))
    items = [Discrepancy.model_validate(d, from_attributes=True) for d in found]
    return Page[Discrepancy](items=items, next_cursor=None)
