"""Event reports and the discrepancy report (SPEC §6)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app import repository
from app.domain import report
from app.domain.conflicts import find_conflicts, superseded_by
from app.domain.model import (
    Claim,
    ClaimFacts,
    ConflictFilter,
    MetricKind,
    OpenDispute,
    StoredConflict,
    ancestors,
    normalise,
    utcnow,
)
from app.domain.newsroom import Version
from app.services.kept import Kept

GroupKey = tuple[str, str, str]  # metric, population, location_key


@dataclass
class CachedReport:
    """An event's report (`event_report` at no `at`), and its renderings as they are asked for."""

    report: dict[str, Any]
    renderings: dict[str, bytes] = field(default_factory=dict)

    def rendered(self, name: str, render: Callable[[dict[str, Any]], bytes]) -> bytes:
        """The rendering called `name` (e.g. a format), made with `render` the first time."""
        if name not in self.renderings:
            self.renderings[name] = render(self.report)
        return self.renderings[name]


def claims_held(entry: CachedReport) -> int:
    """What a kept report weighs in a ReportCache: its claims (and one for the rest)."""
    return 1 + sum(len(group["claims"]) for group in entry.report["groups"])


# Event reports as last computed, by event and version. A report is a function of its version
# (the ETag of SPEC §12 already relies on it): desks, sheets and charts poll the same report
# all day, and a kept one is computed once a change (bench/changes.md). Budget: claims.
ReportCache = Kept[CachedReport]


def current_report(
    session: Session, slug: str, version: Version, cache: ReportCache
) -> CachedReport:
    """The event's report now, from `cache` when its version has not changed since.

    `version` must be read before the report (app.api.conditional): a change committed in
    between is then in the report kept for the older version, never missing from a newer one.
    """
    key = (slug, version.key)
    return cache.get(key) or cache.put(key, CachedReport(event_report(session, slug, None)))


def event_report(session: Session, slug: str, at: datetime | None) -> dict[str, Any]:
    """The event's groups with their claims, latest figures, range, consensus and conflicts."""
    event = repository.resources.get_event(session, slug)
    claims = _claims_at(session, event.slug, at)
    metrics = {x.name: x for x in repository.resources.all_metrics(session)}
    tree = repository.resources.population_tree(session)
    names = repository.resources.source_names(session, {x.source for x in claims})
    facts = {x.id: _facts(x, metrics, tree, names) for x in claims}
    successors = superseded_by(claims)
    conflicts = _conflicts_at(session, event.slug, at, facts)
    groups: dict[GroupKey, list[Claim]] = defaultdict(list)
    for claim in claims:
        key = (claim.metric, claim.population, claim.location_key)
        groups[key].append(replace(claim, superseded_by=successors[claim.id]))
    return {
        "event": event.slug,
        "title": event.title,
        "as_of": at,
        "generated_at": utcnow(),
        "groups": [
            _group(members, facts, metrics[key[0]], conflicts)
            for key, members in sorted(groups.items())
        ],
        "open_conflicts": dict(
            sorted(Counter(c.kind.value for c in conflicts if c.status == "open").items())
        ),
    }


def _facts(
    claim: Claim, metrics: dict[str, Any], tree: dict[str, str | None], names: dict[str, str]
) -> ClaimFacts:
    kind = MetricKind(metrics[claim.metric].kind)
    return ClaimFacts.of(claim, kind, ancestors(tree, claim.population), (), names[claim.source])


def _group(
    claims: list[Claim],
    facts: dict[str, ClaimFacts],
    metric: Any,
    conflicts: list[StoredConflict],
) -> dict[str, Any]:
    latest = report.latest_by_claimant(facts[c.id] for c in claims)
    ids = {c.id for c in claims}
    return {
        "metric": metric.name,
        "population": claims[0].population,
        "location": claims[0].location,
        "kind": metric.kind,
        "unit": metric.unit,
        "claims": claims,
        "latest_by_claimant": [
            {"claimant": f.claimant, "claim": f.id, "figure": f.figure, "as_of": f.as_of}
            for f in latest
        ],
        "range": _interval(report.value_range(latest)),
        "consensus": _interval(report.consensus(latest)),
        "independent_origins": report.independent_origins(latest, facts),
        "conflicts": [c for c in conflicts if ids & set(c.claims)],
    }


def _interval(bounds: tuple[int, int | None] | None) -> dict[str, int | None] | None:
    return None if bounds is None else {"low": bounds[0], "high": bounds[1]}


def _claims_at(session: Session, event: str, at: datetime | None) -> list[Claim]:
    if at is None:
        return repository.claims.event_claims(session, event)
    return repository.claims.claims_at(session, at, event=event)


def _conflicts_at(
    session: Session, event: str, at: datetime | None, facts: dict[str, ClaimFacts]
) -> list[StoredConflict]:
    """The event's open and resolved conflicts, as they stood at `at` (default: now).

    `facts` are the event's claims at `at`: a conflict's stored detail and gap follow its
    claims' later corrections, so they are described again from the claims as they were.
    """
    if at is None:
        return repository.conflicts.event_conflicts(session, event)
    stored = repository.conflicts.event_conflicts(session, event, at)
    notes = repository.claims.dispute_notes(session, {c.dispute for c in stored if c.dispute})
    conflicts = [_described_at(c, facts, notes) for c in stored]
    then = [
        replace(c, status="open", closed_at=None, resolution_note=None, resolved_by=None)
        if c.closed_at is None or c.closed_at > at
        else c
        for c in conflicts
    ]
    return [c for c in then if c.status != "cleared"]


def _described_at(
    conflict: StoredConflict, facts: dict[str, ClaimFacts], notes: dict[str, OpenDispute]
) -> StoredConflict:
    """The conflict with the detail and gap that its claims in `facts` give it, else as stored."""
    # Not every claim is in `facts`: a cited claim may belong to another event.
    claims = [facts[i] for i in conflict.claims if i in facts]
    if conflict.dispute is not None:
        note = notes[conflict.dispute]
        claims = [replace(c, open_disputes=(note.id,), dispute_notes=(note,)) for c in claims]
    finding = next((f for f in find_conflicts(claims) if f.key == conflict.key), None)
    if finding is None:
        return conflict
    return replace(conflict, detail=finding.detail, gap=finding.gap)


def discrepancies(session: Session, filters: ConflictFilter) -> list[dict[str, Any]]:
    """Groups with open conflicts across events, the largest relative gap first."""
    found = repository.conflicts.find_conflicts(session, replace(filters, status="open"))
    groups: dict[tuple[str, str, str, str], list[StoredConflict]] = defaultdict(list)
    for conflict in found:
        location = normalise(conflict.location)
        groups[(conflict.event, conflict.metric, conflict.population, location)].append(conflict)
    entries = [_discrepancy(conflicts) for conflicts in groups.values()]
    return sorted(entries, key=lambda e: -(e["largest_gap"].relative if e["largest_gap"] else -1))


def _discrepancy(conflicts: list[StoredConflict]) -> dict[str, Any]:
    gaps = [c.gap for c in conflicts if c.gap]
    first = conflicts[0]
    return {
        "event": first.event,
        "metric": first.metric,
        "population": first.population,
        "location": first.location,
        "largest_gap": max(gaps, key=lambda g: g.relative) if gaps else None,
        "conflicts": conflicts,
    }
