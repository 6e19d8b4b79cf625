"""Reading conflicts, and an editor's resolution of one."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import repository
from app.db import begin_write
from app.domain.model import ConflictFilter, StateConflict, StoredConflict, utcnow
from app.schemas import ConflictRead
from app.services import webhooks


def list_conflicts(
    session: Session, filters: ConflictFilter, after: int, limit: int
) -> list[StoredConflict]:
    """Up to limit+1 conflicts by id: the extra one tells that more follow."""
    return repository.conflicts.page_conflicts(session, filters, after, limit)


def read_conflict(session: Session, conflict_id: str) -> StoredConflict:
    return repository.conflicts.get_conflict(session, conflict_id)


def claim_conflicts(session: Session, claim_id: str) -> list[StoredConflict]:
    """Every conflict that ever involved the claim, whatever its status, oldest first;
    NotFound when there is no such claim."""
    claim = repository.claims.get_claim(session, claim_id)
    return repository.conflicts.conflicts_of(session, claim.id)


def resolve_conflict(session: Session, conflict_id: str, note: str, actor: str) -> StoredConflict:
    """Close an open conflict with an editor's note; it stays resolved while it holds."""
    begin_write(session)
    conflict = repository.conflicts.get_conflict(session, conflict_id)
    repository.claims.lock_events(session, slugs={conflict.event})
    conflict = repository.conflicts.get_conflict(session, conflict_id)  # again, under the lock
    if conflict.status != "open":
        raise StateConflict(f"Conflict {conflict_id} is {conflict.status}, not open.")
    resolved = repository.conflicts.close(session, conflict, "resolved", utcnow(), note, actor)
    webhooks.Outbox(session).emit("conflict.resolved", ConflictRead.of(resolved))
    session.commit()
    return resolved
