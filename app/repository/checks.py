"""Source watch (SPEC §13): the claims under watch, the hosts their pages are on, the checks.

A host is leased for one check at a time (`busy_until`) and not asked again before
`next_request_at`; on PostgreSQL workers take hosts with FOR UPDATE SKIP LOCKED, so that two
workers never fetch from one host, nor check one claim, at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app import models
from app.domain.model import parse_id
from app.domain.watch import Lease, State, StoredCheck, WatchState
from app.repository.common import is_postgres

c, w, h, k = models.Claim, models.ClaimWatch, models.WatchHost, models.SourceCheck

# A claim is watched while it is active and has a url; its watch row follows the url it has.
_WATCHED = (c.id == w.claim_id) & (c.status == "active") & c.url.is_not(None) & (c.url == w.url)


def watch_state(row: Any) -> WatchState:
    """The WatchState of a claim_watch row (or of a row with its columns by the same names)."""
    return WatchState(
        url=row.url,
        checked_at=row.checked_at,
        status=row.status,
        unavailable=bool(row.unavailable),
        failing_since=row.failing_since,
        figure_seen=bool(row.figure_seen),
        figure_found=row.figure_found,
    )


# --- enrolling claims ----------------------------------------------------------------------


def last_claim_id(session: Session) -> int:
    return session.scalar(select(func.max(c.id))) or 0


def unwatched(session: Session, after: int, limit: int) -> list[tuple[str, str]]:
    """(id, url) of active claims with a url and id > after whose url is not watched yet (a
    new claim, or a corrected url), by id."""
    query = (
        select(c.id, c.url)
        .outerjoin(w, w.claim_id == c.id)
        .where(c.id > after, c.status == "active", c.url.is_not(None))
        .where(w.claim_id.is_(None) | (w.url != c.url))
        .order_by(c.id)
        .limit(limit)
    )
    return [(str(i), url) for i, url in session.execute(query) if url]


def host_ids(session: Session, names: Iterable[str]) -> dict[str, int]:
    """The ids of the hosts with those names, created as needed (by concurrent workers too)."""
    names = sorted(set(names))
    if names:
        session.execute(_insert(session, h).on_conflict_do_nothing(), [{"name": n} for n in names])
    query = select(h.name, h.id).where(h.name.in_(names))
    return dict(session.execute(query).all())


def watch_claims(session: Session, urls: list[tuple[str, str, int]], now: datetime) -> None:
    """Watch each (claim id, url, host id) afresh, its first check due `now`: what an earlier
    url showed is forgotten."""
    if not urls:
        return
    fresh = {
        "next_check_at": now, "checked_at": None, "status": None, "unavailable": False,
        "failing_since": None, "figure_seen": False, "figure_found": None, "etag": None,
        "last_modified": None, "content_hash": None, "figure_key": None,
    }  # fmt: skip
    rows = [{"claim_id": int(i), "url": url, "host_id": host, **fresh} for i, url, host in urls]
    statement = _insert(session, w)
    columns = {name: statement.excluded[name] for name in ("url", "host_id", *fresh)}
    session.execute(
        statement.on_conflict_do_update(index_elements=[w.claim_id], set_=columns), rows
    )


def _insert(session: Session, table: Any) -> Any:
    """INSERT … ON CONFLICT in the session's dialect."""
    dialect = postgresql if is_postgres(session) else sqlite
    return dialect.insert(table)


# --- leasing -------------------------------------------------------------------------------


def any_due(session: Session, now: datetime) -> bool:
    """Whether a check is due (a plain read: an idle watcher takes no write lock)."""
    query = select(w.claim_id).join(c, _WATCHED).where(w.next_check_at <= now).limit(1)
    return session.scalar(query) is not None


def free_hosts(session: Session, now: datetime, limit: int) -> list[int]:
    """Up to `limit` hosts with a due check that no check holds and whose delay has passed,
    least recently asked first, locked until commit. Hosts another worker is leasing are
    skipped, not waited for (SKIP LOCKED; SQLite admits one writer anyway)."""
    due = (
        select(w.claim_id)
        .join(c, _WATCHED)
        .where(w.host_id == h.id, w.next_check_at <= now)
        .limit(1)
    )
    query = (
        select(h.id)
        .where(_free(now), exists(due))
        .order_by(h.next_request_at.asc().nulls_first(), h.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def _free(now: datetime) -> Any:
    return (h.busy_until.is_(None) | (h.busy_until <= now)) & (
        h.next_request_at.is_(None) | (h.next_request_at <= now)
    )


def locked_host(session: Session, host_id: int) -> tuple[datetime | None, datetime | None]:
    """(busy_until, next_request_at) of the host, locked until commit (waiting for it)."""
    query = select(h.busy_until, h.next_request_at).where(h.id == host_id).with_for_update()
    row = session.execute(query).one()
    return row.busy_until, row.next_request_at


def lease_next(session: Session, host_id: int, now: datetime, until: datetime) -> Lease | None:
    """The host's most overdue check, leased until `until` with the host; None when none is
    due (or another worker holds it)."""
    query = (
        _lease_select()
        .where(w.host_id == host_id, w.next_check_at <= now)
        .order_by(w.next_check_at, w.claim_id)
        .limit(1)
        .with_for_update(skip_locked=True, of=w)
    )
    row = session.execute(query).first()
    return None if row is None else _lease(session, row, until)


def watch_host(session: Session, claim_id: str) -> int | None:
    """The id of the host of the claim's watched url; None when the claim is not watched
    (no url, retracted, or its url not enrolled yet)."""
    query = select(w.host_id).join(c, _WATCHED).where(w.claim_id == parse_id(claim_id))
    return session.scalar(query)


def lease_claim(session: Session, claim_id: str, until: datetime) -> Lease:
    """The claim's watch leased until `until` with its host, due or not. The caller locked
    the host first (locked_host): hosts are locked before watches, everywhere."""
    query = _lease_select().where(w.claim_id == parse_id(claim_id)).with_for_update(of=w)
    return _lease(session, session.execute(query).one(), until)


def _lease_select() -> Any:
    return select(w, c.figure_text, c.quote).join(c, _WATCHED)


def _lease(session: Session, row: Any, until: datetime) -> Lease:
    """Reserve the row's claim and host until `until`; the lease."""
    watch: models.ClaimWatch = row[0]
    session.execute(update(w).where(w.claim_id == watch.claim_id).values(next_check_at=until))
    session.execute(update(h).where(h.id == watch.host_id).values(busy_until=until))
    return Lease(
        claim_id=str(watch.claim_id),
        host_id=watch.host_id,
        url=watch.url,
        figure_text=row.figure_text,
        quote=row.quote,
        etag=watch.etag,
        last_modified=watch.last_modified,
        content_hash=watch.content_hash,
        state=watch_state(watch),
        until=until,
    )


def release_host(
    session: Session, host_id: int, until: datetime, next_request_at: datetime
) -> None:
    """End the host's lease `until` (unless another check took it since), and ask it nothing
    before `next_request_at`."""
    session.execute(update(h).where(h.id == host_id, h.busy_until == until).values(busy_until=None))
    later = h.next_request_at.is_(None) | (h.next_request_at < next_request_at)
    session.execute(update(h).where(h.id == host_id, later).values(next_request_at=next_request_at))


# --- recording -----------------------------------------------------------------------------


def locked_watch(
    session: Session, claim_id: str
) -> tuple[WatchState, str | None, str | None] | None:
    """The claim's watch state, the content hash of the page it last read and the key of the
    figure and quote it looked for, locked until commit; None when the claim is not watched."""
    row = session.get(w, parse_id(claim_id), with_for_update=True, populate_existing=True)
    return None if row is None else (watch_state(row), row.content_hash, row.figure_key)


def park_unwatched(session: Session, never: datetime) -> None:
    """Move the next check of claims no longer watched (retracted, url removed) to `never`, so
    that looking for due checks passes over them."""
    gone = exists().where(c.id == w.claim_id, (c.status != "active") | c.url.is_(None))
    # Read from the watches not yet parked (their index), not from every claim.
    session.execute(update(w).where(w.next_check_at < never, gone).values(next_check_at=never))


def save_watch(
    session: Session,
    claim_id: str,
    state: WatchState,
    next_check_at: datetime,
    validators: dict[str, str | None],
) -> None:
    """Store the claim's watch state after a check, when it is next due, and what it keeps
    for the next (etag, last_modified, content_hash, figure_key)."""
    values = {
        "checked_at": state.checked_at, "status": state.status, "unavailable": state.unavailable,
        "failing_since": state.failing_since, "figure_seen": state.figure_seen,
        "figure_found": state.figure_found, "next_check_at": next_check_at, **validators,
    }  # fmt: skip
    session.execute(update(w).where(w.claim_id == int(claim_id)).values(values))


def insert_check(session: Session, check: StoredCheck) -> StoredCheck:
    """Append a check (its id is ignored); the check with its id."""
    row = k(
        claim_id=int(check.claim),
        checked_at=check.checked_at,
        url=check.url,
        status=check.status,
        error=check.error,
        content_hash=check.content_hash,
        figure_found=check.figure_found,
        truncated=check.truncated,
        state=check.state.value,
        changed=check.changed,
    )
    session.add(row)
    session.flush()
    return _check(row)


def prune_checks(session: Session, claim_id: str, keep: int) -> None:
    """Delete the claim's checks older than its last `keep`, except those that changed its
    state: the history stays bounded and every change stays readable."""
    number = int(claim_id)
    newest = select(k.id).where(k.claim_id == number).order_by(k.id.desc()).offset(keep - 1)
    cutoff = session.scalar(newest.limit(1))
    if cutoff is not None:
        old = (k.claim_id == number) & (k.id < cutoff) & k.changed.is_(False)
        session.execute(delete(k).where(old))


def checks_of(session: Session, claim_id: str) -> list[StoredCheck]:
    """The claim's kept checks, oldest first."""
    query = select(k).where(k.claim_id == parse_id(claim_id)).order_by(k.id)
    return [_check(row) for row in session.scalars(query)]


def _check(row: models.SourceCheck) -> StoredCheck:
    return StoredCheck(
        id=str(row.id),
        claim=str(row.claim_id),
        checked_at=row.checked_at,
        url=row.url,
        status=row.status,
        error=row.error,
        content_hash=row.content_hash,
        figure_found=row.figure_found,
        truncated=row.truncated,
        state=State(row.state),
        changed=row.changed,
    )
