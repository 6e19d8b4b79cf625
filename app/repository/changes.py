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

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Text,
    bindparam,
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
from app.repository.common import is_postgres, table_of

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


FILTERS = ("types", "event", "metric", "kind")  # ChangeFilter's fields


def _filtered(f: ChangeFilter) -> tuple[str, ...]:
    """The fields the filter sets: the shape of its statements."""
    return tuple(name for name in FILTERS if getattr(f, name) is not None)


def _matching(filtered: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """The conditions of a filter setting `filtered`, on the parameters of `_values`."""
    return [
        c.type.in_(bindparam("types", expanding=True))
        if name == "types"
        else getattr(c, name) == bindparam(name)
        for name in filtered
    ]


def _values(f: ChangeFilter) -> dict[str, Any]:
    return {name: getattr(f, name) for name in FILTERS}


def _settled(postgres: bool) -> ColumnElement[bool] | None:
    """Rows of transactions that have all ended (PostgreSQL); None where every row is."""
    if not postgres:
        return None
    xmin = cast(cast(func.pg_snapshot_xmin(func.pg_current_snapshot()), Text), BigInteger)
    return c.txid < xmin


def changes_after(session: Session, after: Position, limit: int) -> list[Change]:
    """Up to `limit` changes past `after`, in commit order, none of which can be overtaken."""
    where = [tuple_(c.txid, c.id) > tuple_(after.txid, after.id)]
    settled = _settled(is_postgres(session))
    if settled is not None:
        where.append(settled)
    query = select(c).where(*where).order_by(c.txid, c.id).limit(limit)
    return [_change(row) for row in session.scalars(query)]


def latest_changes(session: Session, f: ChangeFilter, limit: int) -> list[Change]:
    """The newest `limit` changes matching `f` that are visible now, newest first."""
    where = _matching(_filtered(f))
    query = select(c).where(*where).order_by(c.txid.desc(), c.id.desc()).limit(limit)
    return [_change(row) for row in session.scalars(query, _values(f))]


def version(session: Session, f: ChangeFilter, *extra: str) -> Version:
    """The version of the changes matching `f` (and of the `extra` values named in EXTRA, of
    the filter's event), read in one statement, so from one snapshot; it differs as soon as a
    matching change is visible.

    SQLite: the newest row's id (ids follow commits). PostgreSQL: the newest row below the
    horizon, and the count and newest id of the rows above it (few: the transactions that
    ended since the oldest one still running began). A row committing late lands above the
    horizon and changes the count; once below, it moves the newest row. Reads an index range,
    never the whole feed.
    """
    statement = _version_statement(is_postgres(session), _filtered(f), extra)
    row = session.execute(statement, _values(f)).one()
    known = [t for t in (row[2], row[5]) if t is not None]
    return Version(key=tuple(row), at=max(known) if known else None)


@lru_cache(maxsize=64)
def _version_statement(postgres: bool, filtered: tuple[str, ...], extra: tuple[str, ...]) -> Any:
    """The statement of `version`, built once for each shape of filter: what desks and sheets
    poll all day costs a lookup, not a build (bench/changes.md)."""
    where = _matching(filtered)
    settled = _settled(postgres)
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
    parts = (newest.c.txid, newest.c.id, newest.c.at, *above.c, *(EXTRA[x]() for x in extra))
    return select(*parts).select_from(above.outerjoin(newest, true()))


def claim_count() -> ColumnElement[int]:
    """How many claims the event holds: a claim moved to another event leaves no change row
    under this event, but lowers this count."""
    e, k = models.Event, models.Claim
    event_id = select(e.id).where(e.slug == bindparam("event")).scalar_subquery()
    return select(func.count()).select_from(k).where(k.event_id == event_id).scalar_subquery()


def event_changed_at() -> ColumnElement[Any]:
    """When the event itself (its title) was last changed."""
    e = models.Event
    return select(e.updated_at).where(e.slug == bindparam("event")).scalar_subquery()


def sources_changed_at() -> ColumnElement[Any]:
    """When any source was last changed (its name counts in a report's independent origins)."""
    return select(func.max(models.Source.updated_at)).scalar_subquery()


def metric_units() -> ColumnElement[Any]:
    """Each metric's name and unit, which reports show and an admin may change, as one text."""
    m = models.Metric
    named = select((m.name + "=" + m.unit).label("unit")).order_by(m.name).subquery()
    return select(func.aggregate_strings(named.c.unit, ";")).scalar_subquery()


# What a version may hold beside the changes, by name: each a scalar subquery of the filter's
# event (`version`'s `extra`).
EXTRA: dict[str, Callable[[], ColumnElement[Any]]] = {
    "claim_count": claim_count,
    "event_changed_at": event_changed_at,
    "sources_changed_at": sources_changed_at,
    "metric_units": metric_units,
}
