"""A claim reviewed: what Tally found about it, for ClaimReview documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app import models, repository
from app.domain.model import ConflictKind
from app.domain.review import Verdict, verdict

VALUE_KINDS = {
    ConflictKind.VALUE_MISMATCH,
    ConflictKind.DOWNWARD_REVISION,
    ConflictKind.PART_EXCEEDS_WHOLE,
}


@dataclass(frozen=True)
class Review:
    claim: repository.claims.Snapshot
    publisher: str  # the source's name
    verdict: Verdict
    reviewed_at: datetime  # the last change to the claim or to a conflict involving it


def review_claim(session: Session, claim_id: str) -> Review:
    """Tally's finding about the claim as the ledger stands; NotFound for an unknown id."""
    row = repository.claims.get_claim(session, claim_id)
    conflicts = repository.conflicts.conflicts_of(session, row.id)
    disputes = repository.claims.disputes_of(session, {row.id})
    retraction = row.retraction["reason"] if row.status == "retracted" and row.retraction else None
    found = verdict(
        retraction,
        [(d.by, d.reason) for d in disputes if d.closed_at is None],
        [(_other(c, row.id), c.detail) for c in conflicts if _open_value_conflict(c)],
    )
    moments = [row.updated_at, *(c.closed_at or c.opened_at for c in conflicts)]
    return Review(repository.claims.snapshot(row), row.source.name, found, max(moments))


def _open_value_conflict(conflict: models.Conflict) -> bool:
    return conflict.status == "open" and conflict.kind in VALUE_KINDS


def _other(conflict: models.Conflict, claim_id: int) -> str:
    return str(conflict.claim_b_id if conflict.claim_a_id == claim_id else conflict.claim_a_id)
