"""Stored conflicts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app import models
from app.repository.common import _found, parse_id
from app.repository.resources import get_event, get_metric


def live_conflicts_of(session: Session, claim_ids: set[int]) -> list[models.Conflict]:
    """Open and resolved conflicts that involve any of the claims."""
    k = models.Conflict
    involves = k.claim_a_id.in_(claim_ids) | k.claim_b_id.in_(claim_ids)
    return list(session.scalars(select(k).where(involves, k.status.in_(("open", "resolved")))))


def conflicts_of(session: Session, claim_id: int) -> list[models.Conflict]:
    """Every conflict that ever involved the claim, whatever its status, oldest first."""
    k = models.Conflict
    involves = (k.claim_a_id == claim_id) | (k.claim_b_id == claim_id)
    return list(session.scalars(select(k).where(involves).order_by(k.id)))


def conflict_view(row: models.Conflict) -> dict[str, Any]:
    """A stored conflict as clients see it."""
    claims = [str(row.claim_a_id)] + ([str(row.claim_b_id)] if row.claim_b_id else [])
    gap = None
    if row.gap_absolute is not None:
        gap = {"absolute": row.gap_absolute, "relative": row.gap_relative}
    return {
        "id": str(row.id),
        "kind": row.kind,
        "claims": claims,
        "event": row.event.slug,
        "metric": row.metric.name,
        "population": row.population.name,
        "location": row.location,
        "dispute": str(row.dispute_id) if row.dispute_id else None,
        "detail": row.detail,
        "gap": gap,
        "status": row.status,
        "opened_at": row.opened_at,
        "closed_at": row.closed_at,
        "resolution_note": row.resolution_note,
        "resolved_by": row.resolved_by,
    }


def get_conflict(session: Session, conflict_id: str) -> models.Conflict:
    number = parse_id(conflict_id)
    row = session.get(models.Conflict, number) if number else None
    return _found(row, "conflict", conflict_id, None)


def conflict_filters(
    session: Session,
    *,
    event: str | None = None,
    metric: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
) -> list[ColumnElement[bool]]:
    k = models.Conflict
    where: list[ColumnElement[bool]] = []
    if event is not None:
        where.append(k.event_id == get_event(session, event, field="event").id)
    if metric is not None:
        where.append(k.metric_id == get_metric(session, metric, field="metric").id)
    if kind is not None:
        where.append(k.kind == kind)
    if status is not None:
        where.append(k.status == status)
    if since is not None:
        where.append(k.opened_at >= since)
    return where


def conflicts_where(session: Session, *where: ColumnElement[bool]) -> list[models.Conflict]:
    k = models.Conflict
    return list(session.scalars(select(k).where(*where).order_by(k.id)))
