"""Event reports and the discrepancy report (SPEC §6)."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import asdict, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app import models, repository
from app.domain import report
from app.domain.conflicts import find_conflicts, superseded_by
from app.domain.model import ClaimFacts
from app.models import utcnow
from app.services import detection

GroupKey = tuple[str, str, str]  # metric, population, location_key


def event_report(session: Session, slug: str, as_of: datetime | None) -> dict[str, Any]:
    """The event's groups with their claims, latest figures, range, consensus and conflicts."""
    event = repository.resources.get_event(session, slug)
    snaps = _claims_at(session, event.id, as_of)
    facts = {f.id: f for f in detection.facts_of_snapshots(session, snaps)}
    successors = superseded_by(facts.values())
    conflicts = _conflicts_at(session, event.id, as_of, facts)
    metrics = {m.name: m for m in repository.resources.all_metrics(session)}
    groups: dict[GroupKey, list[dict[str, Any]]] = defaultdict(list)
    for snap in snaps:
        fact = facts[snap["id"]]
        groups[(fact.metric, fact.population, fact.location_key)].append(
            {**snap, "superseded_by": successors[snap["id"]]}
        )
    return {
        "event": event.slug,
        "as_of": as_of,
        "generated_at": utcnow(),
        "groups": [
            _group(claims, facts, metrics[key[0]], conflicts)
            for key, claims in sorted(groups.items())
        ],
        "open_conflicts": dict(
            sorted(Counter(c["kind"] for c in conflicts if c["status"] == "open").items())
        ),
    }


def _group(
    claims: list[dict[str, Any]],
    facts: dict[str, ClaimFacts],
    metric: models.Metric,
    conflicts: list[dict[str, Any]],
) -> dict[str, Any]:
    latest = report.latest_by_claimant(facts[c["id"]] for c in claims)
    ids = {c["id"] for c in claims}
    return {
        "metric": metric.name,
        "population": claims[0]["population"],
        "location": claims[0]["location"],
        "kind": metric.kind,
        "unit": metric.unit,
        "claims": claims,
        "latest_by_claimant": [
            {"claimant": f.claimant, "claim": f.id, "figure": asdict(f.figure), "as_of": f.as_of}
            for f in latest
        ],
        "range": _interval(report.value_range(latest)),
        "consensus": _interval(report.consensus(latest)),
        "independent_origins": report.independent_origins(latest, facts),
        "conflicts": [c for c in conflicts if ids & set(c["claims"])],
    }


def _interval(bounds: tuple[int, int | None] | None) -> dict[str, int | None] | None:
    return None if bounds is None else {"low": bounds[0], "high": bounds[1]}


def _claims_at(session: Session, event_id: int, as_of: datetime | None) -> list[dict[str, Any]]:
    if as_of is None:
        return [
            repository.claims.snapshot(r)
            for r in repository.resources.event_claims(session, event_id)
        ]
    revisions = repository.claims.revisions_at(session, as_of, models.Claim.event_id == event_id)
    return [r.snapshot for r in revisions]


def _conflicts_at(
    session: Session, event_id: int, as_of: datetime | None, facts: dict[str, ClaimFacts]
) -> list[dict[str, Any]]:
    """The event's open and resolved conflicts, as they stood at `as_of` (default: now).

    `facts` are the event's claims at `as_of`: a conflict's stored detail and gap follow
    its claims' later corrections, so they are described again from the claims as they were.
    """
    k = models.Conflict
    if as_of is None:
        rows = repository.conflicts.conflicts_where(
            session, k.event_id == event_id, k.status != "cleared"
        )
        return [repository.conflicts.conflict_view(r) for r in rows]
    rows = repository.conflicts.conflicts_where(
        session, k.event_id == event_id, k.opened_at <= as_of
    )
    views = [_described_at(repository.conflicts.conflict_view(r), r.key, facts) for r in rows]
    still_open = {"status": "open", "closed_at": None, "resolution_note": None, "resolved_by": None}
    for view in views:
        if view["closed_at"] is None or view["closed_at"] > as_of:
            view |= still_open
    return [v for v in views if v["status"] != "cleared"]


def _described_at(view: dict[str, Any], key: str, facts: dict[str, ClaimFacts]) -> dict[str, Any]:
    """The conflict with the detail and gap that its claims in `facts` give it, else as stored."""
    # Not every claim is in `facts`: a cited claim may belong to another event.
    claims = [facts[i] for i in view["claims"] if i in facts]
    if view["dispute"] is not None:
        claims = [replace(c, open_disputes=(view["dispute"],)) for c in claims]
    finding = next((f for f in find_conflicts(claims) if f.key == key), None)
    if finding is None:
        return view
    gap = None if finding.gap is None else asdict(finding.gap)
    return view | {"detail": finding.detail, "gap": gap}


def discrepancies(session: Session, filters: dict[str, Any]) -> list[dict[str, Any]]:
    """Groups with open conflicts across events, the largest relative gap first."""
    where = repository.conflicts.conflict_filters(session, status="open", **filters)
    groups: dict[tuple[str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in repository.conflicts.conflicts_where(session, *where):
        view = repository.conflicts.conflict_view(row)
        location = " ".join((row.location or "").casefold().split())
        groups[(view["event"], view["metric"], view["population"], location)].append(view)
    entries = [_discrepancy(views) for views in groups.values()]
    return sorted(entries, key=lambda e: -(e["largest_gap"] or {"relative": -1})["relative"])


def _discrepancy(views: list[dict[str, Any]]) -> dict[str, Any]:
    gaps = [v["gap"] for v in views if v["gap"]]
    first = views[0]
    return {
        "event": first["event"],
        "metric": first["metric"],
        "population": first["population"],
        "location": first["location"],
        "largest_gap": max(gaps, key=lambda g: g["relative"]) if gaps else None,
        "conflicts": views,
    }
