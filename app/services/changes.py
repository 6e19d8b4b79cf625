"""The change feed (SPEC §12) and the versions of answers that conditional requests compare.

Every event of SPEC §7 is a row of the feed, written by `webhooks.Outbox.emit` in the
transaction of its change. A reader gets them in commit order and never misses one: see
app.repository.changes for why that holds across server processes on PostgreSQL.

A version says what the changes behind an answer looked like when it was read: an ETag made
from it changes as soon as the answer can (a change of the event, a claim leaving it, a renamed
source, a metric's new unit), and is read from an index, not from the answer (app.api.conditional).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from app import repository
from app.domain.newsroom import CLAIM_EVENTS, Change, ChangeFilter, Position, Version
from app.repository import changes as change_log
from app.services.sessions import SessionFactory


def read_changes(factory: SessionFactory, after: Position, limit: int) -> list[Change]:
    """Up to `limit` changes past `after`, in commit order, on a connection of its own that is
    returned before this returns (a long poll holds none while it waits)."""
    with factory() as session:
        return change_log.changes_after(session, after, limit)


REPORT_EXTRA = ("claim_count", "sources_changed_at", "event_changed_at", "metric_units")


def report_version(session: Session, event: str) -> Version:
    """The version of the event's report: its changes, how many claims it holds, when a
    source was last changed (a report counts independent origins by source) and when the event
    (its title), the units; read in one statement."""
    found = change_log.version(session, ChangeFilter(event=event), *REPORT_EXTRA)
    if found.key[-2] is None:  # no such event: the same 404 as every route's
        repository.resources.get_event(session, event)
    return found


def claims_version(session: Session, event: str | None) -> Version:
    """The version of lists and exports of claims (of an event, or of all)."""
    if event is None:
        return change_log.version(session, ChangeFilter(types=CLAIM_EVENTS))
    filters = ChangeFilter(types=CLAIM_EVENTS, event=event)
    return change_log.version(session, filters, "claim_count")


def conflicts_version(session: Session, event: str | None) -> Version:
    """The version of lists and reports of conflicts: every change of the event (or of all),
    since a change to a claim re-describes its conflicts."""
    return change_log.version(session, ChangeFilter(event=event))


def feed_version(session: Session, filters: ChangeFilter) -> Version:
    """The version of a feed: exactly the changes it is made of."""
    return change_log.version(session, filters)
