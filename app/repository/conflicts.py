"""Stored conflicts: read as domain values, opened from findings, cleared, resolved."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from app import models
from app.domain.model import (
    ClaimFacts,
    ConflictFilter,
    ConflictKind,
    Finding,
    Gap,
    StoredConflict,
    parse_id,
)
from app.repository.common import unknown
from app.repository.resources import NAMES, ids_by_name

k, e, m, p = models.Conflict, models.Event, models.Metric, models.Population

CONFLICT_COLUMNS: dict[str, Any] = {
    "id": k.id, "key": k.key, "kind": k.kind, "claim_a": k.claim_a_id, "claim_b": k.claim_b_id,
    "event": e.slug, "metric": m.name, "population": p.name, "location": k.location,
    "dispute": k.dispute_id, "detail": k.detail, "gap_absolute": k.gap_absolute,
    "gap_relative": k.gap_relative, "status": k.status, "opened_at": k.opened_at,
    "closed_at": k.closed_at, "resolution_note": k.resolution_note, "resolved_by": k.resolved_by,
}  # fmt: skip
_NAMES = tuple(CONFLICT_COLUMNS)
KINDS = {kind.value: kind for kind in ConflictKind}


def _query() -> Select[Any]:
    return (
        select(*CONFLICT_COLUMNS.values())
        .join(e, e.id == k.event_id)
        .join(m, m.id == k.metric_id)
        .join(p, p.id == k.population_id)
    )


def _conflict(values: Sequence[Any]) -> StoredConflict:
    f = dict(zip(_NAMES, values, strict=True))
    claims = (str(f["claim_a"]),) + ((str(f["claim_b"]),) if f["claim_b"] else ())
    gap = None
    if f["gap_absolute"] is not None:
        gap = Gap(f["gap_absolute"], f["gap_relative"])
    return StoredConflict(
        id=str(f["id"]),
        key=f["key"],
        kind=KINDS[f["kind"]],
        claims=claims,
        event=f["event"],
        metric=f["metric"],
        population=f["population"],
        location=f["location"],
        dispute=str(f["dispute"]) if f["dispute"] else None,
        detail=f["detail"],
        gap=gap,
        status=f["status"],
        opened_at=f["opened_at"],
        closed_at=f["closed_at"],
        resolution_note=f["resolution_note"],
        resolved_by=f["resolved_by"],
    )


def _read(session: Session, query: Select[Any]) -> list[StoredConflict]:
    return [_conflict(row) for row in session.connection().execute(query.order_by(k.id))]


def _where(session: Session, f: ConflictFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    for noun, name in (("event", f.event), ("metric", f.metric)):
        if name is not None:
            ids = ids_by_name(session, noun, {name})
            if name not in ids:
                raise unknown(noun, name, noun, session)
            where.append(getattr(k, f"{noun}_id") == ids[name])
    if f.kind is not None:
        where.append(k.kind == f.kind)
    if f.status is not None:
        where.append(k.status == f.status)
    if f.since is not None:
        where.append(k.opened_at >= f.since)
    return where


def page_conflicts(
    session: Session, f: ConflictFilter, after: int, limit: int
) -> list[StoredConflict]:
    """Up to limit+1 conflicts with id > after, by id: the extra one tells that more follow."""
    return _read(session, _query().where(k.id > after, *_where(session, f)).limit(limit + 1))


def find_conflicts(session: Session, f: ConflictFilter) -> list[StoredConflict]:
    """Every conflict the filter admits, by id."""
    return _read(session, _query().where(*_where(session, f)))


def get_conflict(session: Session, conflict_id: str) -> StoredConflict:
    number = parse_id(conflict_id)
    found = _read(session, _query().where(k.id == number)) if number else []
    if not found:
        raise unknown("conflict", conflict_id, None)
    return found[0]


def conflicts_of(session: Session, claim_id: str) -> list[StoredConflict]:
    """Every conflict that ever involved the claim, whatever its status, oldest first."""
    number = parse_id(claim_id)
    return _read(session, _query().where((k.claim_a_id == number) | (k.claim_b_id == number)))


def live_conflicts_of(session: Session, claim_ids: Iterable[str]) -> list[StoredConflict]:
    """Open and resolved conflicts that involve any of the claims."""
    ids = {int(i) for i in claim_ids}
    involves = k.claim_a_id.in_(ids) | k.claim_b_id.in_(ids)
    return _read(session, _query().where(involves, k.status.in_(("open", "resolved"))))


def event_conflicts(
    session: Session, event: str, opened_by: datetime | None = None
) -> list[StoredConflict]:
    """The event's conflicts opened by `opened_by`, or (None) those not cleared now."""
    where = [e.slug == event]
    where.append(k.status != "cleared" if opened_by is None else k.opened_at <= opened_by)
    return _read(session, _query().where(*where))


def insert_conflicts(
    session: Session, found: list[tuple[Finding, ClaimFacts]], now: datetime
) -> list[StoredConflict]:
    """Open conflicts for findings, each placed in the group of its claim; in order."""
    if not found:
        return []
    names = {kind: {getattr(claim, kind) for _, claim in found} for kind in NAMES}
    ids = {
        kind: ids_by_name(session, kind, names[kind]) for kind in ("event", "metric", "population")
    }
    rows = [
        {
            "key": finding.key,
            "kind": finding.kind.value,
            "event_id": ids["event"][claim.event],
            "metric_id": ids["metric"][claim.metric],
            "population_id": ids["population"][claim.population],
            "location": claim.location,
            "claim_a_id": int(finding.claims[0]),
            "claim_b_id": int(finding.claims[1]) if len(finding.claims) > 1 else None,
            "dispute_id": int(finding.dispute) if finding.dispute else None,
            "status": "open",
            "opened_at": now,
            **_description(finding),
        }
        for finding, claim in found
    ]
    new_ids = session.scalars(insert(k).returning(k.id, sort_by_parameter_order=True), rows).all()
    return [
        StoredConflict(
            id=str(new_id),
            key=finding.key,
            kind=finding.kind,
            claims=finding.claims,
            event=claim.event,
            metric=claim.metric,
            population=claim.population,
            location=claim.location,
            dispute=finding.dispute,
            detail=finding.detail,
            gap=finding.gap,
            status="open",
            opened_at=now,
            closed_at=None,
            resolution_note=None,
            resolved_by=None,
        )
        for new_id, (finding, claim) in zip(new_ids, found, strict=True)
    ]


def _description(finding: Finding) -> dict[str, Any]:
    gap = finding.gap
    return {
        "detail": finding.detail,
        "gap_absolute": gap.absolute if gap else None,
        "gap_relative": gap.relative if gap else None,
    }


def describe(session: Session, conflict: StoredConflict, finding: Finding) -> StoredConflict:
    """The open conflict described by the finding that holds now (its claims may have changed)."""
    if (conflict.detail, conflict.gap) != (finding.detail, finding.gap):
        values = _description(finding)
        session.execute(update(k).where(k.id == int(conflict.id)).values(**values))
    return replace(conflict, detail=finding.detail, gap=finding.gap)


def clear(
    session: Session, cleared: list[tuple[StoredConflict, str | None]], now: datetime
) -> list[StoredConflict]:
    """The open conflicts cleared (they stopped holding), each `why` (when known) added to its
    detail; one statement for them all (one each cost a write a quarter of its time)."""
    if not cleared:
        return []
    done = [
        replace(c, status="cleared", closed_at=now, detail=f"{c.detail} {why}" if why else c.detail)
        for c, why in cleared
    ]
    table: Table = k.__table__  # type: ignore[assignment]  # a Table, typed as FromClause
    statement = (
        update(table)
        .where(table.c.id == bindparam("conflict_id"))
        .values(status="cleared", closed_at=now, detail=bindparam("new_detail"))
    )
    rows = [{"conflict_id": int(c.id), "new_detail": c.detail} for c in done]
    session.connection().execute(statement, rows)
    return done


def close(
    session: Session,
    conflict: StoredConflict,
    status: str,
    now: datetime,
    why: str | None = None,
    actor: str | None = None,
) -> StoredConflict:
    """The open conflict cleared (it stopped holding; `why`, when known, is added to its detail)
    or resolved (by `actor`, with the note `why`)."""
    resolved = status == "resolved"
    detail = f"{conflict.detail} {why}" if why and not resolved else conflict.detail
    note = why if resolved else None
    values = {"status": status, "closed_at": now, "resolution_note": note, "resolved_by": actor}
    session.execute(update(k).where(k.id == int(conflict.id)).values(detail=detail, **values))
    return replace(
        conflict,
        status=status,
        closed_at=now,
        detail=detail,
        resolution_note=note,
        resolved_by=actor,
    )
