"""Embeds (SPEC §12): a published event's figures in a story's iframe, and oEmbed for CMSs.

No key, no cookie: an embed shows only what an editor published. An unpublished or unknown
event is the same 404, so an embed never tells that an event exists.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from app.api.deps import ReadSessionDep, SessionDep, SettingsDep
from app.domain.model import NotFound
from app.domain.records import Event
from app.services import reports, resources
from app.web.pages import templates
from app.web.views import conflicts_by_group, group_view

router = APIRouter(include_in_schema=False)

Name = Annotated[str | None, Query(min_length=1, max_length=200)]
WIDTH, HEIGHT = 680, 560
# Any site may frame an embed; it runs no script and loads only Tally's stylesheet.
EMBED_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors *; "
    "base-uri 'none'; form-action 'none'"
)
EMBED_HEADERS = {
    "Content-Security-Policy": EMBED_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cache-Control": "public, max-age=60",
}


def published_event(session: SessionDep, slug: str) -> Event:
    """The event if it is published; else the 404 an unknown event gets."""
    try:
        event = resources.get_event(session, slug)
    except NotFound:
        event = None
    if event is None or not event.published:
        raise HTTPException(404, "No published event at this address.")
    return event


@router.get("/embed/events/{slug}")
def embed_event(
    request: Request,
    slug: str,
    session: ReadSessionDep,
    metric: Name = None,
    population: Name = None,
    location: Name = None,
) -> Response:
    """The figure box: each matching group's chart, latest figures, range, conflict flags."""
    event = published_event(session, slug)
    report = reports.event_report(session, event.slug, None)
    homes = conflicts_by_group(report["groups"])
    wanted = {"metric": metric, "population": population, "location": location}
    groups = [
        group_view(group, i, conflicts, "auto")
        for i, (group, conflicts) in enumerate(zip(report["groups"], homes, strict=True), 1)
        if all(value is None or group[key] == value for key, value in wanted.items())
    ]
    names = {s.slug: s.name for s in resources.list_sources(session, 0, 1000)}
    sources = sorted({names.get(c.source, c.source) for g in groups for c in g.claims})
    updated = max((c.updated_at for g in groups for c in g.claims), default=event.updated_at)
    context = {"event": event, "groups": groups, "sources": sources, "updated": updated}
    response = templates.TemplateResponse(request, "embed.html", context)
    response.headers.update(EMBED_HEADERS)
    return response


@router.get("/oembed")
def oembed(
    session: ReadSessionDep,
    settings: SettingsDep,
    url: Annotated[str, Query(min_length=1, max_length=2000)],
    format: Literal["json", "xml"] = "json",
    maxwidth: Annotated[int | None, Query(ge=100, le=4000)] = None,
    maxheight: Annotated[int | None, Query(ge=100, le=4000)] = None,
) -> JSONResponse:
    """oEmbed 1.0 (type rich) for an embed's or an event page's address."""
    if format != "json":
        raise HTTPException(501, "Only format=json is served.")
    event = published_event(session, _slug_of(url, settings.base_url))
    width, height = min(WIDTH, maxwidth or WIDTH), min(HEIGHT, maxheight or HEIGHT)
    query = urlsplit(url).query
    src = f"{settings.base_url}/embed/events/{event.slug}" + (f"?{query}" if query else "")
    title = _attribute(f"{event.title} — figures")
    html = (
        f'<iframe src="{_attribute(src)}" width="{width}" height="{height}" title="{title}"'
        ' style="border:0" loading="lazy"></iframe>'
    )
    body = {
        "version": "1.0",
        "type": "rich",
        "title": event.title,
        "provider_name": "Tally",
        "provider_url": settings.base_url,
        "html": html,
        "width": width,
        "height": height,
        "cache_age": 60,
    }
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=60"})


def _slug_of(url: str, base: str) -> str:
    """The event slug of Tally's own embed or event page address; 404 for any other."""
    parts, home = urlsplit(url), urlsplit(base)
    path = parts.path.removeprefix(home.path.rstrip("/"))
    for prefix in ("/embed/events/", "/events/"):
        slug = path.removeprefix(prefix)
        same_site = (parts.scheme, parts.netloc) == (home.scheme, home.netloc)
        if same_site and slug != path and slug and "/" not in slug:
            return slug
    raise HTTPException(404, "Not an address of one of Tally's published events.")


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
