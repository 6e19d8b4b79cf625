"""Reading conflicts, and an editor's resolution of one."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app import models, repository
from app.db import begin_write
from app.domain.model import StateConflict
from app.models import utcnow
from app.services import webhooks


def list_conflicts(
    session: Session, filters: dict[str, Any], after: int, limit: int
) -> list[models.Conflict]:
    where = repository.conflicts.conflict_filters(session, **filters)
    return repository.common.page(session, models.Conflict, after, limit, *where)


def resolve_conflict(session: Session, conflict_id: str, note: str, actor: str) -> models.Conflict:
    """Close an open conflict with an editor's note; it stays resolved while it holds."""
    begin_write(session)
    conflict = repository.conflicts.get_conflict(session, conflict_id)
    repository.claims.lock_events(session, ids={conflict.event_id})
    session.refresh(conflict)
    if conflict.status != "open":
        raise StateConflict(f"Conflict {conflict_id} is {conflict.status}, not open.")
    conflict.status, conflict.closed_at = "resolved", utcnow()
    conflict.resolution_note, conflict.resolved_by = note, actor
    webhooks.emit(
        session, "conflict.resolved", lambda: repository.conflicts.conflict_view(conflict)
    )
    session.commit()
    return conflict
