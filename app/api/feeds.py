"""Atom feeds (SPEC §12) of conflicts opened, cleared and resolved and of claims retracted."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request, Response

from app.api import conditional
from app.api.deps import Reader, ReadSessionDep, SessionDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.api.paging import NameFilter
from app.config import Settings
from app.domain.model import ConflictKind
from app.domain.newsroom import FEED_EVENTS, ChangeFilter
from app.services import changes, feeds
from app.services.share_links import SHARE

router = APIRouter(prefix="/v1", tags=["feeds"], responses=ERROR_RESPONSES)

ATOM: dict[int | str, dict[str, Any]] = {
    200: {"content": {feeds.ATOM_TYPE: {}}, "description": "An Atom 1.0 feed, newest first"},
    **conditional.NOT_MODIFIED,
}


@router.get("/feeds/conflicts.atom", response_class=Response, responses=ATOM)
def conflicts_feed(
    request: Request,
    session: ReadSessionDep,
    settings: SettingsDep,
    _: Reader,
    event: NameFilter = None,
    kind: ConflictKind | None = None,
    metric: NameFilter = None,
) -> Response:
    """Conflicts opened, cleared and resolved, and claims retracted, across the ledger."""
    filters = ChangeFilter(FEED_EVENTS, event, metric, kind.value if kind else None)
    query = urlencode({"event": event} if event else {})
    desk = f"{settings.base_url}/conflicts" + (f"?{query}" if query else "")
    feeds.check_filters(session, filters)
    feed = feeds.Feed("Tally: conflicts", _own_url(request, settings), desk, filters)
    return _answer(request, session, settings, feed)


@router.get("/events/{slug}/feed.atom", response_class=Response, responses=ATOM)
def event_feed(
    slug: str, request: Request, session: ReadSessionDep, settings: SettingsDep, _: Reader
) -> Response:
    """The event's conflicts opened, cleared and resolved, and its claims retracted."""
    feeds.check_event(session, slug)
    filters = ChangeFilter(FEED_EVENTS, event=slug)
    desk = f"{settings.base_url}/events/{slug}"
    feed = feeds.Feed(f"Tally: {slug}", _own_url(request, settings), desk, filters)
    return _answer(request, session, settings, feed)


def _answer(
    request: Request, session: SessionDep, settings: Settings, feed: feeds.Feed
) -> Response:
    version = changes.feed_version(session, feed.filters)
    tag = conditional.etag(request, version)
    unchanged = conditional.not_modified(request, tag, version.at)
    if unchanged is not None:
        return unchanged
    body = feeds.atom(session, feed, settings.base_url, settings.feed_entries)
    return conditional.fresh(Response(body, media_type=feeds.ATOM_TYPE), tag, version.at)


def _own_url(request: Request, settings: Settings) -> str:
    """The feed's public URL, without a share token: its id and its `self` link."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != SHARE]
    own = f"{settings.base_url}{request.scope['path']}"
    return f"{own}?{urlencode(kept)}" if kept else own
