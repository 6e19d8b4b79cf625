"""A claim reviewed: what Tally found about it, for ClaimReview documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app import repository
from app.domain.model import Claim, ConflictKind, StoredConflict
from app.domain.review import Verdict, verdict

VALUE_KINDS = {
    ConflictKind.VALUE_MISMATCH,
    ConflictKind.DOWNWARD_REVISION,
    ConflictKind.PART_EXCEEDS_WHOLE,
}


@dataclass(frozen=True)
class Review:
    claim: Claim
    publisher: str  # the source's name
    verdict: Verdict
    reviewed_at: datetime  # the last change to the claim or to a conflict involving it


def review_claim(session: Session, claim_id: str) -> Review:
    """Tally's finding about the claim as the ledger stands; NotFound for an unknown id."""
    claim = repository.claims.get_claim(session, claim_id)
    conflicts = repository.conflicts.conflicts_of(session, claim.id)
    disputes = repository.claims.disputes_of(session, claim.id)
    retraction = claim.retraction.reason if claim.retracted and claim.retraction else None
    found = verdict(
        retraction,
        [(d.by, d.reason) for d in disputes if d.closed_at is None],
        [(_other(c, claim.id), c.detail) for c in conflicts if _open_value_conflict(c)],
    )
    moments = [claim.updated_at, *(c.closed_at or c.opened_at for c in conflicts)]
    publisher = repository.resources.get_source(session, claim.source).name
    return Review(claim, publisher, found, max(moments))


def _open_value_conflict(conflict: StoredConflict) -> bool:
    return conflict.status == "open" and conflict.kind in VALUE_KINDS


def _other(conflict: StoredConflict, claim_id: str) -> str:
    """The other claim of a pair conflict."""
    return next((c for c in conflict.claims if c != claim_id), claim_id)
