"""The events list, an event's page with its charts, and its report as files."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from app.api import formats
from app.api.deps import ReadSessionDep, ReportCacheDep
from app.schemas import EventReport
from app.services import changes, desk, reports, resources
from app.web.deps import PageCacheDep, User
from app.web.pages import DeskRoute, render
from app.web.views import (
    by_attention,
    claim_dates,
    claim_labels,
    conflicts_by_group,
    group_view,
)

router = APIRouter(route_class=DeskRoute, include_in_schema=False)

PER_PAGE = 50
Slug = Annotated[str, Query(max_length=100)]
NOTICES = {
    "resolved": "The conflict is resolved, with your note.",
}


@router.get("/")
def events_page(
    request: Request,
    session: ReadSessionDep,
    user: User,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    found = desk.events_by_activity(session, page, PER_PAGE)
    context = {"events": found[:PER_PAGE], "page": page, "more": len(found) > PER_PAGE}
    return render(request, "events.html", context)


@router.get("/events/{slug}")
def event_page(
    request: Request,
    slug: str,
    session: ReadSessionDep,
    cache: ReportCacheDep,
    pages: PageCacheDep,
    user: User,
    scale: Literal["auto", "linear", "log"] = "auto",
    done: Annotated[str | None, Query(max_length=20)] = None,
    recorded: Annotated[int | None, Query(ge=0, le=10_000)] = None,
    refused: Annotated[int | None, Query(ge=0, le=10_000)] = None,
) -> Response:
    event = resources.get_event(session, slug)
    version = changes.report_version(session, event.slug)
    # The same page for the same version, query and desk session (whose CSRF token it holds).
    key = (request.url.path, request.url.query, version.key, user.csrf)
    kept = pages.get(key)
    if kept is not None:
        return HTMLResponse(kept)
    report = reports.current_report(session, event.slug, version, cache).report
    homes = conflicts_by_group(report["groups"])
    groups = [
        group_view(g, i, conflicts, scale)
        for i, (g, conflicts) in enumerate(zip(report["groups"], homes, strict=True), 1)
    ]
    sources = {s.slug: s.name for s in resources.list_sources(session, 0, 1000)}
    context = {
        "event": event,
        "groups": by_attention(groups),
        "sources": sources,
        "labels": claim_labels(report["groups"], sources),
        "dated": claim_dates(report["groups"]),
        "open_by_kind": report["open_conflicts"],
        "scale": scale,
        "notice": NOTICES.get(done or ""),
        "recorded": recorded,
        "refused": refused,
    }
    page = render(request, "event.html", context)
    pages.put(key, bytes(page.body))
    return page


@router.get("/events/{slug}/report.{suffix}")
def event_report(
    slug: str,
    suffix: Literal["json", "csv", "md"],
    session: ReadSessionDep,
    cache: ReportCacheDep,
    user: User,
) -> Response:
    """The event's report as the API gives it, for a browser signed in to the desk (the one
    kept for its version, as the API's and the event page's)."""
    version = changes.report_version(session, slug)
    kept = reports.current_report(session, slug, version, cache).report
    report = EventReport.model_validate(kept, from_attributes=True)
    name = f"{report.event}-report.{suffix}"
    if suffix == "csv":
        body = formats.report_csv(report.model_dump(mode="json"))
        headers = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(body, media_type="text/csv; charset=utf-8", headers=headers)
    if suffix == "md":  # shown as text, for copying into a story
        body = formats.report_markdown(report.model_dump(mode="json"))
        return Response(body, media_type="text/plain; charset=utf-8")
    return Response(report.model_dump_json(indent=2), media_type="application/json")
