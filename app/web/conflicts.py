"""The conflict inbox, filtered like GET /v1/conflicts, and resolving a conflict with a note."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import ReadSessionDep, SessionDep
from app.api.paging import Cursor, after_id, next_cursor
from app.domain.model import ConflictFilter, ConflictKind, DomainError, StoredConflict
from app.schemas import ResolveBody
from app.services import conflicts, resources
from app.services.sessions import Session
from app.web.deps import Editor, Form, User, text
from app.web.forms import read
from app.web.pages import DeskRoute, error_page, local_path, redirect, render

router = APIRouter(route_class=DeskRoute, include_in_schema=False)

PER_PAGE = 50
Name = Annotated[str | None, Query(max_length=100)]


@router.get("/conflicts")
def inbox(
    request: Request,
    session: ReadSessionDep,
    user: User,
    event: Name = None,
    kind: ConflictKind | Literal[""] = "",
    status: Literal["open", "resolved", "cleared", "any"] = "open",
    metric: Name = None,
    cursor: Cursor = None,
) -> Response:
    filters = ConflictFilter(
        event or None, metric or None, kind or None, None if status == "any" else status
    )
    found = conflicts.list_conflicts(session, filters, after_id(cursor), PER_PAGE)
    chosen = {"event": event or "", "kind": kind, "status": status, "metric": metric or ""}
    context = {
        "conflicts": found[:PER_PAGE],
        "chosen": chosen,
        "more": _next_page(found, chosen),
        "notice": NOTICES.get(request.query_params.get("done", "")),
    }
    return render(request, "conflicts.html", context | _choices(session))


NOTICES = {"resolved": "The conflict is resolved, with your note."}


def _next_page(found: list[StoredConflict], chosen: dict[str, str]) -> str | None:
    """The address of the next page of the inbox, with the same filters; None on the last."""
    if len(found) <= PER_PAGE:
        return None
    query = {k: v for k, v in chosen.items() if v} | {"cursor": next_cursor(found[PER_PAGE - 1].id)}
    return "/conflicts?" + urlencode(query)


def _choices(session: Session) -> dict[str, Any]:
    """What the filters offer, and the events' titles."""
    events = resources.list_events(session, 0, 1000)
    return {
        "kinds": list(ConflictKind),
        "events": events,
        "titles": {e.slug: e.title for e in events},
        "metrics": resources.list_metrics(session, 0, 1000),
    }


@router.post("/conflicts/{conflict_id}/resolve")
def resolve(
    request: Request, conflict_id: str, session: SessionDep, user: Editor, form: Form
) -> Response:
    back = local_path(text(form, "back"), "/conflicts")
    body = read(ResolveBody, {"note": text(form, "note")})
    if not isinstance(body, ResolveBody):
        detail = "A resolution needs a note saying why the conflict is settled: " + (
            body.get("note", "the note could not be read") + "."
        )
        return error_page(request, 422, detail)
    try:
        conflicts.resolve_conflict(session, conflict_id, body.note, user.principal.name)
    except DomainError:
        session.rollback()
        raise
    url = urlsplit(back)
    query = [(k, v) for k, v in parse_qsl(url.query) if k != "done"] + [("done", "resolved")]
    return redirect(urlunsplit(("", "", url.path, urlencode(query), f"conflict-{conflict_id}")))
