"""What the desk's templates show, built from the services' values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.model import Claim, Revision, StoredConflict, normalise
from app.web.chart import Mark, Scale, styles_for, timeline_svg
from app.web.pages import day, interval, words

SHOWN_CONFLICTS = 12  # per group; a story with hundreds has the inbox for them


@dataclass(frozen=True)
class GroupView:
    """One group of an event's report, as the event page shows it."""

    anchor: str
    heading: str
    chart: str  # SVG
    claims: list[Claim]
    latest: list[dict[str, Any]]
    range: str
    consensus: str
    independent_origins: int
    conflicts: list[StoredConflict]  # open, then resolved
    unit: str
    kind: str
    open_conflicts: int
    elsewhere: list[StoredConflict]  # open conflicts of its claims, shown with another group
    unlisted: int  # conflicts beyond SHOWN_CONFLICTS, left to the inbox
    metric: str


def group_heading(metric: str, population: str, location: str | None) -> str:
    """deaths · security forces · in Almaty"""
    parts = [words(metric).capitalize()]
    parts.append("everyone" if population == "all" else words(population))
    return " · ".join(parts) + (f" · in {location}" if location else "")


def group_view(
    group: dict[str, Any], index: int, conflicts: list[StoredConflict], scale: Scale
) -> GroupView:
    """The group's chart, facts, and the conflicts shown with it (see conflicts_by_group)."""
    claims: list[Claim] = sorted(group["claims"], key=lambda c: (c.as_of, c.created_at, int(c.id)))
    open_ids = {i for c in group["conflicts"] if c.status == "open" for i in c.claims}
    heading = group_heading(group["metric"], group["population"], group["location"])
    consensus = group["consensus"]
    shown = {c.id for c in conflicts}
    listed = sorted(conflicts, key=lambda c: (c.status != "open", c.opened_at))
    chart = timeline_svg(
        [_mark(c, c.id in open_ids) for c in claims],
        title=f"{heading}: figures by date",
        description=_description(claims, group),
        consensus=None if consensus is None else (consensus["low"], consensus["high"]),
        # Colours by the order claimants spoke in this group: the first ones differ most.
        styles=styles_for(c.claimant for c in claims),
        scale=scale,
        id_prefix=f"chart-{index}",
    )
    return GroupView(
        anchor=f"group-{index}",
        heading=heading,
        chart=chart,
        claims=claims,
        latest=group["latest_by_claimant"],
        range=interval(group["range"]),
        consensus=interval(group["consensus"]),
        independent_origins=group["independent_origins"],
        conflicts=listed[:SHOWN_CONFLICTS],
        unit=group["unit"],
        kind=group["kind"],
        open_conflicts=sum(c.status == "open" for c in conflicts),
        elsewhere=[c for c in group["conflicts"] if c.status == "open" and c.id not in shown],
        unlisted=max(len(listed) - SHOWN_CONFLICTS, 0),
        metric=group["metric"],
    )


def conflicts_by_group(groups: list[dict[str, Any]]) -> list[list[StoredConflict]]:
    """Each conflict of the event under one group: that of its last claim (a part's figure
    against its whole is told with the whole), though it concerns each group it touches."""
    homes: list[list[StoredConflict]] = [[] for _ in groups]
    placed: set[str] = set()
    where = {c.id: i for i, g in enumerate(groups) for c in g["claims"]}
    for i, group in enumerate(groups):
        for conflict in group["conflicts"]:
            home = next((where[c] for c in reversed(conflict.claims) if c in where), i)
            if conflict.id not in placed:
                placed.add(conflict.id)
                homes[home].append(conflict)
    return homes


def claim_labels(groups: list[dict[str, Any]], sources: dict[str, str]) -> dict[str, str]:
    """A short label of each claim of the report: figure, claimant and source."""
    return {
        c.id: f"{c.figure.text}, {c.claimant} ({sources.get(c.source, c.source)})"
        for g in groups
        for c in g["claims"]
    }


def claim_dates(groups: list[dict[str, Any]]) -> dict[str, str]:
    """Each claim of the report as its figure and date: 210 of 20 Jan 2022."""
    return {c.id: f"{c.figure.text} of {day(c.as_of)}" for g in groups for c in g["claims"]}


def by_attention(views: list[GroupView]) -> list[GroupView]:
    """Groups with open conflicts first (most first), then as the report orders them."""
    return sorted(views, key=lambda g: -g.open_conflicts)


def _mark(claim: Claim, conflicting: bool) -> Mark:
    f = claim.figure
    return Mark(
        claim.claimant, claim.as_of, f.low, f.high, f.point, f.text, claim.retracted, conflicting
    )


def _description(claims: list[Claim], group: dict[str, Any]) -> str:
    days = [c.as_of for c in claims]
    claimants = len({normalise(name) for name in {c.claimant for c in claims}})
    span = _span(min(days), max(days)) if days else "no dates"
    return (
        f"{len(claims)} claims by {claimants} claimants, {span}. Latest figures range over "
        f"{interval(group['range'])}; consensus: {interval(group['consensus'])}. "
        "The table after the chart lists the same claims."
    )


def _span(first: date, last: date) -> str:
    return f"on {day(first)}" if first == last else f"from {day(first)} to {day(last)}"


# --- a claim's history ----------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class RevisionView:
    version: int
    revision: Revision
    first: bool
    changes: list[Change]


def revision_views(revisions: list[Revision]) -> list[RevisionView]:
    """Each revision with what it changed, newest first."""
    views = [
        RevisionView(r.version, r, r.version == 1, _changes(r.changes, r.version == 1))
        for r in revisions
    ]
    return views[::-1]


def _changes(changes: dict[str, Any], first: bool) -> list[Change]:
    if first:
        return [Change(k, "", shown(k, v)) for k, v in changes.items() if v not in (None, "")]
    return [Change(k, shown(k, v.get("from")), shown(k, v.get("to"))) for k, v in changes.items()]


def shown(field: str, value: Any) -> str:
    """A stored value (from a revision's snapshot) as words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        if "text" in value:
            return str(value["text"])
        if "reason" in value:
            return f"retracted: {value['reason']}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def form_values(claim: Claim) -> dict[str, str]:
    """A claim's fields as a correction form shows them."""
    published = claim.published_at.strftime("%Y-%m-%dT%H:%M") if claim.published_at else ""
    return {
        "event": claim.event,
        "metric": claim.metric,
        "population": claim.population,
        "location": claim.location or "",
        "figure": claim.figure.text,
        "as_of": claim.as_of.isoformat(),
        "claimant": claim.claimant,
        "source": claim.source,
        "url": claim.url or "",
        "quote": claim.quote or "",
        "published_at": published,
        "cites": claim.cites or "",
        "note": claim.note or "",
    }
