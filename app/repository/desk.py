"""The desk's queries (SPEC §11): signed-in browsers, and the events list's activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, delete, func, select, type_coerce, update
from sqlalchemy.orm import Session

from app import models
from app.domain.records import Event, Principal, Role
from app.repository.resources import _event


@dataclass(frozen=True, slots=True)
class StoredSession:
    """A desk session as stored, with the principal of its key while that key is valid."""

    id: int
    key_hash: str
    created_at: datetime
    last_seen_at: datetime
    principal: Principal | None  # None: no valid stored key has that hash (the admin key?)


@dataclass(frozen=True, slots=True)
class EventActivity:
    """An event, when anything about it last changed, and what it holds."""

    event: Event
    last_activity_at: datetime
    claims: int
    open_conflicts: dict[str, int]  # by kind


def insert_session(session: Session, token_hash: str, key_hash: str, now: datetime) -> None:
    session.add(
        models.DeskSession(
            token_hash=token_hash, key_hash=key_hash, created_at=now, last_seen_at=now
        )
    )
    session.flush()


def find_session(session: Session, token_hash: str) -> StoredSession | None:
    """The session with that token hash, and the principal of its key unless it was revoked."""
    s, k = models.DeskSession, models.ApiKey
    live_key = (k.key_hash == s.key_hash) & k.revoked_at.is_(None)
    query = (
        select(s.id, s.key_hash, s.created_at, s.last_seen_at, k.name, k.role)
        .outerjoin(k, live_key)
        .where(s.token_hash == token_hash)
    )
    row = session.execute(query).first()
    if row is None:
        return None
    principal = None if row.name is None else Principal(row.name, Role(row.role))
    return StoredSession(row.id, row.key_hash, row.created_at, row.last_seen_at, principal)


def touch_session(session: Session, session_id: int, now: datetime) -> None:
    session.execute(
        update(models.DeskSession)
        .where(models.DeskSession.id == session_id)
        .values(last_seen_at=now)
    )


def delete_session(session: Session, token_hash: str) -> None:
    session.execute(delete(models.DeskSession).where(models.DeskSession.token_hash == token_hash))


def purge_sessions(session: Session, seen_before: datetime, created_before: datetime) -> int:
    """Delete the sessions idle since `seen_before` or opened before `created_before`."""
    s = models.DeskSession
    result = session.execute(
        delete(s).where((s.last_seen_at < seen_before) | (s.created_at < created_before))
    )
    return int(getattr(result, "rowcount", 0) or 0)


def event_activity(session: Session, offset: int, limit: int) -> list[EventActivity]:
    """Up to `limit` events from `offset`, the most recently active first (ties: newest id).

    Activity is the latest change to the event, to one of its claims, or to one of its
    conflicts (opened, cleared or resolved): the event's newest row of the change feed, read by
    its index for each event, never by reading every claim and conflict (bench/changes.md).
    """
    e, ch = models.Event, models.Change
    newest = (
        select(ch.at)
        .where(ch.event == e.slug)
        .order_by(ch.txid.desc(), ch.id.desc())
        .limit(1)
        .correlate(e)
        .scalar_subquery()
    )
    at = case((newest > e.updated_at, newest), else_=e.updated_at)  # no change row: updated_at
    activity = select(e.id.label("event_id"), at.label("at")).subquery()
    # A subquery's column loses the column type: coerced back, it reads as on any other column.
    moment = type_coerce(activity.c.at, models.UTCDateTime())
    query = (
        select(e, moment)
        .join(activity, activity.c.event_id == e.id)
        .order_by(activity.c.at.desc(), e.id.desc())
        .offset(offset)
        .limit(limit)
    )
    rows = session.execute(query).all()
    ids = [row[0].id for row in rows]
    claims = _claim_counts(session, ids)
    conflicts = _open_conflicts(session, ids)
    return [
        EventActivity(_event(row), at, claims.get(row.id, 0), conflicts.get(row.id, {}))
        for row, at in rows
    ]


def _claim_counts(session: Session, event_ids: list[int]) -> dict[int, int]:
    c = models.Claim
    query = select(c.event_id, func.count()).where(c.event_id.in_(event_ids)).group_by(c.event_id)
    return {int(event_id): int(count) for event_id, count in session.execute(query)}


def _open_conflicts(session: Session, event_ids: list[int]) -> dict[int, dict[str, int]]:
    k = models.Conflict
    query = (
        select(k.event_id, k.kind, func.count())
        .where(k.event_id.in_(event_ids), k.status == "open")
        .group_by(k.event_id, k.kind)
        .order_by(k.kind)
    )
    found: dict[int, dict[str, int]] = {}
    for event_id, kind, count in session.execute(query):
        found.setdefault(event_id, {})[kind] = count
    return found
