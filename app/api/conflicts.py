"""Conflicts Tally detected, and their resolution."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response

from app.api import conditional
from app.api.deps import Editor, Reader, ReadSessionDep, SessionDep
from app.api.errors import ERROR_RESPONSES
from app.api.paging import Cursor, Limit, NameFilter, after_id, to_page
from app.domain.model import ConflictFilter, ConflictKind
from app.schemas import ConflictRead, Moment, Page, ResolveBody
from app.services import changes, conflicts

router = APIRouter(prefix="/v1/conflicts", tags=["conflicts"], responses=ERROR_RESPONSES)

Status = Literal["open", "cleared", "resolved"]


@router.get("", response_model=Page[ConflictRead], responses=conditional.NOT_MODIFIED)
def list_conflicts(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    _: Reader,
    event: NameFilter = None,
    kind: ConflictKind | None = None,
    status: Status | None = None,
    metric: NameFilter = None,
    since: Moment | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ConflictRead] | Response:
    unchanged = conditional.check(request, response, changes.conflicts_version(session, event))
    if unchanged is not None:
        return unchanged
    filters = ConflictFilter(event, metric, kind, status, since)
    found = conflicts.list_conflicts(session, filters, after_id(cursor), limit)
    return to_page(found, limit, ConflictRead.of)


@router.get("/{conflict_id}")
def read_conflict(conflict_id: str, session: SessionDep, _: Reader) -> ConflictRead:
    return ConflictRead.of(conflicts.read_conflict(session, conflict_id))


@router.post("/{conflict_id}/resolve")
def resolve_conflict(
    conflict_id: str, body: ResolveBody, session: SessionDep, who: Editor
) -> ConflictRead:
    return ConflictRead.of(conflicts.resolve_conflict(session, conflict_id, body.note, who.name))
