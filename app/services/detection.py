"""Keeps the stored conflicts equal to what the rules of app.domain.conflicts find.

All of detection is here: the scope of a change (its groups with their populations' parts
and wholes, the claims citing it and those it cites, read by one query), the findings of
the pure rules, the successors (superseded_by), and the difference to what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app import repository
from app.domain.conflicts import (
    Following,
    Succession,
    comparable,
    find_conflicts,
    newer_figure,
    predecessors,
    successors,
)
from app.domain.model import Claim, ClaimFacts, ConflictKind, Finding, StoredConflict

VALUE_KINDS = {
    ConflictKind.VALUE_MISMATCH,
    ConflictKind.DOWNWARD_REVISION,
    ConflictKind.PART_EXCEEDS_WHOLE,
}


@dataclass(frozen=True)
class Detection:
    """What a change did to the conflicts, and the successors of the claims in its scope."""

    successors: dict[str, str | None]
    cleared: list[StoredConflict]
    opened: list[StoredConflict]


def reevaluate(
    session: Session,
    changed: list[Claim],
    now: datetime,
    *,
    new: bool = False,
    before: list[Claim] | None = None,
) -> Detection:
    """Open, keep or clear the conflicts that a change to `changed`, claims just written, can
    alter: those of the claims themselves, and the value conflicts of the claims they follow
    in their series (old places too: `before` holds them as they were), whose time as a
    current figure the change ended or extended.

    The cost follows the number of series and dates in the claims' groups more than their
    number of claims: places in time are read for the claims' own series and for the claims
    current at their own date (repository.claims.series_of), facts only for the claims the
    rules can compare with the change (conflicts.comparable).
    new: the claims were inserted by this transaction, so no stored conflict involves them and
    no claim cites them.
    """
    before = before or []
    ids = [x.id for x in changed]
    entries = repository.claims.series_of(session, [*changed, *before])
    placed = {x.id: x for x in entries}
    subjects: list[Succession] = [*(placed[i] for i in ids), *before]
    followed = [p.id for p in predecessors(entries, subjects) if p.id not in ids]
    involved = [*([] if new else ids), *followed]
    live = repository.conflicts.live_conflicts_of(session, involved) if involved else []
    partners = {i for conflict in live for i in conflict.claims}
    wanted = comparable(entries, [*subjects, *(placed[i] for i in followed)], partners)
    found = repository.claims.facts_of(session, {*wanted, *ids}, changed, new=new)
    scope = {f.id: f for f in found}
    # One pass over the whole scope (`near` keeps each claim to its own group): a pass per
    # group cost a tenth of a bulk batch in set-up alone. Of the claims followed, only the
    # value conflicts: their time as a current figure is all that the change altered.
    mine = set(ids)
    findings = {
        f.key: f
        for f in find_conflicts(scope.values(), involving=[*ids, *followed])
        if f.kind in VALUE_KINDS or mine.intersection(f.claims)
    }
    stored = [c for c in live if c.kind in VALUE_KINDS or mine.intersection(c.claims)]
    following = successors(scope.values())
    stopped = []
    for conflict in stored:
        finding = findings.pop(conflict.key, None)
        if conflict.status != "open":
            continue  # resolved by an editor: it stays so while it holds
        if finding is None:
            stopped.append((conflict, _newer_figure(conflict, scope, following)))
        else:
            repository.conflicts.describe(session, conflict, finding)
    cleared = repository.conflicts.clear(session, stopped, now)
    opened = repository.conflicts.insert_conflicts(
        session, [(f, scope[f.claims[0]]) for f in findings.values()], now
    )
    next_ids = {i: None if after is None else after.id for i, after in following.items()}
    return Detection(next_ids, cleared, opened)


def recompute(session: Session, event: str) -> list[Finding]:
    """Every conflict that holds among the event's claims, found from scratch (what the
    stored open and resolved conflicts must equal)."""
    return find_conflicts(repository.claims.event_scope(session, event))


def _newer_figure(
    conflict: StoredConflict, scope: dict[str, ClaimFacts], following: Following
) -> str | None:
    """The sentence that says a value conflict cleared because a claimant gave a newer figure."""
    if conflict.kind not in VALUE_KINDS or not all(c in scope for c in conflict.claims):
        return None
    return newer_figure([scope[c] for c in conflict.claims], following)
