"""Conflicts Tally detected, and their resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter

from app import repository
from app.api.deps import Editor, Reader
from app.api.errors import ERROR_RESPONSES
from app.api.paging import Cursor, Limit, after_id, to_page
from app.db import SessionDep
from app.domain.model import ConflictKind
from app.schemas import ConflictRead, Page, ResolveBody
from app.services import conflicts

router = APIRouter(prefix="/v1/conflicts", tags=["conflicts"], responses=ERROR_RESPONSES)

Status = Literal["open", "cleared", "resolved"]


def render(row: object) -> ConflictRead:
    return ConflictRead.model_validate(repository.conflicts.conflict_view(row))  # type: ignore[arg-type]


@router.get("")
def list_conflicts(
    session: SessionDep,
    _: Reader,
    event: str | None = None,
    kind: ConflictKind | None = None,
    status: Status | None = None,
    metric: str | None = None,
    since: datetime | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ConflictRead]:
    filters = {"event": event, "kind": kind, "status": status, "metric": metric, "since": since}
    rows = conflicts.list_conflicts(session, filters, after_id(cursor), limit)
    return to_page(rows, limit, render)


@router.get("/{conflict_id}")
def read_conflict(conflict_id: str, session: SessionDep, _: Reader) -> ConflictRead:
    return render(repository.conflicts.get_conflict(session, conflict_id))


@router.post("/{conflict_id}/resolve")
def resolve_conflict(
    conflict_id: str, body: ResolveBody, session: SessionDep, who: Editor
) -> ConflictRead:
    return render(conflicts.resolve_conflict(session, conflict_id, body.note, who.name))
