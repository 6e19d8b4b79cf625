"""Keeps the stored conflicts equal to what the rules of app.domain.conflicts find."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from app import models, repository
from app.domain.conflicts import find_conflicts, superseded_by
from app.domain.model import ClaimFacts, Figure, Finding, MetricKind, Qualifier
from app.repository.claims import FactRow
from app.services import webhooks
from app.services.resources import population_tree


def ancestors(tree: dict[str, str | None], name: str) -> tuple[str, ...]:
    """The populations `name` is a strict part of, nearest first."""
    chain: list[str] = []
    parent = tree.get(name)
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = tree.get(parent)
    return tuple(chain)


def facts(
    snap: dict[str, Any],
    kinds: dict[str, str],
    tree: dict[str, str | None],
    disputes: list[int],
) -> ClaimFacts:
    """The facts conflict rules need, from a claim's snapshot (current or historical)."""
    figure = snap["figure"]
    return ClaimFacts(
        id=snap["id"],
        event=snap["event"],
        metric=snap["metric"],
        metric_kind=MetricKind(kinds[snap["metric"]]),
        population=snap["population"],
        population_ancestors=ancestors(tree, snap["population"]),
        location_key=" ".join((snap["location"] or "").casefold().split()),
        figure=Figure(
            figure["text"],
            figure["low"],
            figure["high"],
            figure["point"],
            Qualifier(figure["qualifier"]),
        ),
        as_of=date.fromisoformat(snap["as_of"]),
        claimant=snap["claimant"],
        claimant_key=" ".join(snap["claimant"].casefold().split()),
        recorded_at=datetime.fromisoformat(snap["created_at"]),
        retracted=snap["status"] == "retracted",
        cites=snap["cites"],
        open_disputes=tuple(str(d) for d in disputes),
    )


def current_facts(session: Session, rows: list[FactRow]) -> list[ClaimFacts]:
    """Facts of claims as they stand now, from repository.claims.fact_rows."""
    tree = population_tree(session)
    parents = {name: ancestors(tree, name) for name in tree}
    return [
        ClaimFacts(
            id=str(r.id),
            event=r.event,
            metric=r.metric,
            metric_kind=KINDS[r.metric_kind],
            population=r.population,
            population_ancestors=parents[r.population],
            location_key=r.location_key,
            figure=Figure(r.figure_text, r.low, r.high, r.point, QUALIFIERS[r.qualifier]),
            as_of=r.as_of,
            claimant=r.claimant,
            claimant_key=r.claimant_key,
            recorded_at=r.created_at,
            retracted=r.status == "retracted",
            cites=str(r.cites_id) if r.cites_id else None,
            open_disputes=r.open_disputes,
        )
        for r in rows
    ]


KINDS = {kind.value: kind for kind in MetricKind}  # a dict lookup: Enum() costs more
QUALIFIERS = {qualifier.value: qualifier for qualifier in Qualifier}


def facts_of_snapshots(session: Session, snaps: list[dict[str, Any]]) -> list[ClaimFacts]:
    """Facts of historical snapshots; their open disputes are not needed (conflicts are stored)."""
    kinds = {m.name: m.kind for m in repository.resources.all_metrics(session)}
    tree = population_tree(session)
    return [facts(s, kinds, tree, []) for s in snaps]


def reevaluate(
    session: Session, rows: list[models.Claim], now: datetime, *, new: bool = False
) -> dict[str, str | None]:
    """Open, keep or clear the conflicts that involve `rows`, which just changed.

    A change to a claim can only alter the conflicts that include it, so only those are
    re-evaluated: the cost follows the size of the claims' groups, not of the ledger.
    new: the rows were inserted by this transaction, so no stored conflict involves them.
    Returns superseded_by of every claim in the rows' groups (a claimant's chain lies
    within one group).
    """
    session.flush()
    scope = repository.claims.detection_scope(session, rows)
    scope_facts = current_facts(session, scope)
    findings = {
        f.key: f
        for row, near in _neighbourhoods(rows, scope_facts)
        for f in find_conflicts(near, involving=str(row.id))
    }
    by_id = {str(r.id): r for r in scope}
    stored = [] if new else repository.conflicts.live_conflicts_of(session, {r.id for r in rows})
    for conflict in stored:
        finding = findings.pop(conflict.key, None)
        if finding is None and conflict.status == "open":
            conflict.status, conflict.closed_at = "cleared", now
            webhooks.emit(
                session, "conflict.cleared", partial(repository.conflicts.conflict_view, conflict)
            )
        elif finding is not None and conflict.status == "open":
            _describe(conflict, finding)
    opened = [_new_conflict(finding, by_id, now) for finding in findings.values()]
    session.add_all(opened)
    session.flush()
    for conflict in opened:
        webhooks.emit(
            session, "conflict.opened", partial(repository.conflicts.conflict_view, conflict)
        )
    return superseded_by(scope_facts)


def _neighbourhoods(
    rows: list[models.Claim], scope: list[ClaimFacts]
) -> list[tuple[models.Claim, list[ClaimFacts]]]:
    """Each changed row with the facts that can conflict with it: its group, citers, cited.

    Giving each row the whole scope made a batch of n claims cost n x (its groups' sizes):
    a 1,000-claim bulk import compared every claim with every other (bench/RESULTS.md).
    """
    changed = {str(r.id) for r in rows}
    cited = {f.cites for f in scope if f.id in changed and f.cites}
    related = [f for f in scope if f.cites in changed or f.id in cited]
    groups: dict[tuple[str, str, str], list[ClaimFacts]] = {}
    for fact in scope:
        groups.setdefault(_group_of(fact), []).append(fact)
    by_id = {f.id: f for f in scope}
    return [(row, groups[_group_of(by_id[str(row.id)])] + related) for row in rows]


def _group_of(fact: ClaimFacts) -> tuple[str, str, str]:
    return (fact.event, fact.metric, fact.location_key)


def _new_conflict(finding: Finding, claims: dict[str, FactRow], now: datetime) -> models.Conflict:
    first = claims[finding.claims[0]]
    conflict = models.Conflict(
        key=finding.key,
        kind=finding.kind.value,
        event_id=first.event_id,
        metric_id=first.metric_id,
        population_id=first.population_id,
        location=first.location,
        claim_a_id=int(finding.claims[0]),
        claim_b_id=int(finding.claims[1]) if len(finding.claims) > 1 else None,
        dispute_id=int(finding.dispute) if finding.dispute else None,
        status="open",
        opened_at=now,
    )
    _describe(conflict, finding)
    return conflict


def _describe(conflict: models.Conflict, finding: Finding) -> None:
    conflict.detail = finding.detail
    conflict.gap_absolute = finding.gap.absolute if finding.gap else None
    conflict.gap_relative = finding.gap.relative if finding.gap else None
