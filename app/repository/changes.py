"""The change feed: rows written with each change, read in commit order, and the versions
that conditional requests compare.

Why (txid, id) and a horizon, on PostgreSQL: row ids come from a sequence when a row is
inserted, not when its transaction commits, so a transaction that inserted id 10 may commit
after one that inserted id 11; a reader that had moved its cursor past 11 would never see 10.
Each row therefore keeps its transaction's id (`pg_current_xact_id()`, a column default) and a
reader takes only rows whose transaction id is below the xmin of its own snapshot
(`pg_snapshot_xmin(pg_current_snapshot())`): every transaction below xmin has ended, so no row
can later appear below that horizon, and a cursor at (txid, id) is never overtaken. A
transaction that must wait for a lock (the event locks of app.repository.claims) takes its id
only after the transaction it waited for committed, so changes to one event follow their
commits. SQLite admits one writer at a time (BEGIN IMMEDIATE): ids follow commits, txid is 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Text,
    cast,
    event,
    false,
    func,
    insert,
    select,
    true,
    tuple_,
)
from sqlalchemy.orm import Session, SessionTransaction

from app import models
from app.domain.newsroom import Change, ChangeFilter, Position, Version
from app.repository.common import table_of

c = models.Change


def add_change(
    session: Session,
    *,
    type: str,
    at: datetime,
    subject: str,
    event: str | None,
    metric: str | None,
    kind: str | None,
    data: dict[str, Any],
) -> None:
    """Queue a change row in the caller's transaction: written at its commit, with the
    others, in one statement (a bulk import queues thousands)."""
    row = {"type": type, "at": at, "subject": subject, "event": event, "metric": metric}
    session.info.setdefault(PENDING, []).append(row | {"kind": kind, "data": data})


PENDING = "tally_changes"  # the session.info entry of the rows queued in its transaction


def write_changes(session: Session) -> None:
    """Insert the change rows queued in the session's transaction (commit does it too)."""
    rows = session.info.pop(PENDING, None)
    if rows:
        session.connection().execute(insert(table_of(models.Change)), rows)


@event.listens_for(Session, "before_commit")
def _write_at_commit(session: Session) -> None:
    write_changes(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # rolled back or closed: its changes never happened
        session.info.pop(PENDING, None)


def _change(row: models.Change) -> Change:
    return Change(
        position=Position(row.txid, row.id),
        type=row.type,
        at=row.at,
        subject=row.subject,
        event=row.event,
        metric=row.metric,
        kind=row.kind,
        data=row.data,
    )


def _matching(f: ChangeFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.types is not None:
        where.append(c.type.in_(f.types))
    if f.event is not None:
        where.append(c.event == f.event)
    if f.metric is not None:
        where.append(c.metric == f.metric)
    if f.kind is not None:
        where.append(c.kind == f.kind)
    return where


def _settled(session: Session) -> ColumnElement[bool] | None:
    """Rows of transactions that have all ended (PostgreSQL); None where every row is."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    xmin = cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger)
    return c.txid < xmin


def changes_after(session: Session, after: Position, limit: int) -> list[Change]:
    """Up to `limit` changes past `after`, in commit order, none of which can be overtaken."""
    where = [tuple_(c.txid, c.id) > tuple_(after.txid, after.id)]
    settled = _settled(session)
    if settled is not None:
        where.append(settled)
    query = select(c).where(*where).order_by(c.txid, c.id).limit(limit)
    return [_change(row) for row in session.scalars(query)]


def latest_changes(session: Session, f: ChangeFilter, limit: int) -> list[Change]:
    """The newest `limit` changes matching `f` that are visible now, newest first."""
    query = select(c).where(*_matching(f)).order_by(c.txid.desc(), c.id.desc()).limit(limit)
    return [_change(row) for row in session.scalars(query)]


def version(session: Session, f: ChangeFilter, *extra: ColumnElement[Any]) -> Version:
    """The version of the changes matching `f` (and of `extra` scalar subqueries), read in
    one statement, so from one snapshot; it differs as soon as a matching change is visible.

    SQLite: the newest row's id (ids follow commits). PostgreSQL: the newest row below the
    horizon, and the count and newest id of the rows above it (few: the transactions that
    ended since the oldest one still running began). A row committing late lands above the
    horizon and changes the count; once below, it moves the newest row. Reads an index range,
    never the whole feed.
    """
    where = _matching(f)
    settled = _settled(session)
    below = [*where, settled] if settled is not None else where
    newest = (
        select(c.txid, c.id, c.at)
        .where(*below)
        .order_by(c.txid.desc(), c.id.desc())
        .limit(1)
        .subquery()
    )
    # One row always (an aggregate), joined with the newest row when there is one.
    rest = ~settled if settled is not None else false()  # rows above the horizon
    tail = select(func.count().label("n"), func.max(c.id).label("id"), func.max(c.at).label("at"))
    above = tail.where(*where, rest).subquery()
    parts = (newest.c.txid, newest.c.id, newest.c.at, *above.c, *extra)
    row = session.execute(select(*parts).select_from(above.outerjoin(newest, true()))).one()
    known = [t for t in (row[2], row[5]) if t is not None]
    return Version(key=tuple(row), at=max(known) if known else None)


def claim_count(event: str) -> ColumnElement[int]:
    """How many claims the event holds: a claim moved to another event leaves no change row
    under this event, but lowers this count."""
    e, k = models.Event, models.Claim
    event_id = select(e.id).where(e.slug == event).scalar_subquery()
    return select(func.count()).select_from(k).where(k.event_id == event_id).scalar_subquery()


def event_changed_at(event: str) -> ColumnElement[Any]:
    """When the event itself (its title) was last changed."""
    e = models.Event
    return select(e.updated_at).where(e.slug == event).scalar_subquery()


def sources_changed_at() -> ColumnElement[Any]:
    """When any source was last changed (its name counts in a report's independent origins)."""
    return select(func.max(models.Source.updated_at)).scalar_subquery()


def metric_units() -> ColumnElement[Any]:
    """Each metric's name and unit, which reports show and an admin may change, as one text."""
    m = models.Metric
    named = select((m.name + "=" + m.unit).label("unit")).order_by(m.name).subquery()
    return select(func.aggregate_strings(named.c.unit, ";")).scalar_subquery()
