"""Every query: ORM rows in and out, lookups by the names clients use."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    bindparam,
    func,
    or_,
    select,
    tuple_,
    union,
    update,
)
from sqlalchemy.orm import Session

from app import models
from app.db import Base
from app.domain.model import InvalidInput, NotFound

M = TypeVar("M", bound=Base)
Snapshot = dict[str, Any]


def page(
    session: Session, model: type[M], after: int, limit: int, *where: ColumnElement[bool]
) -> list[M]:
    """Up to limit+1 rows with id > after, by id: the extra row tells that more follow."""
    id_column: Any = model.id  # type: ignore[attr-defined]
    query = select(model).where(id_column > after, *where).order_by(id_column).limit(limit + 1)
    return list(session.scalars(query))


def event_by_slug(session: Session, slug: str) -> models.Event | None:
    return _named(session, models.Event, models.Event.slug, slug)


def source_by_slug(session: Session, slug: str) -> models.Source | None:
    return _named(session, models.Source, models.Source.slug, slug)


def metric_by_name(session: Session, name: str) -> models.Metric | None:
    return _named(session, models.Metric, models.Metric.name, name)


def population_by_name(session: Session, name: str) -> models.Population | None:
    return _named(session, models.Population, models.Population.name, name)


def _named(session: Session, model: type[M], column: Any, name: str) -> M | None:
    return session.scalar(select(model).where(column == name))


# The column of each kind of reference that clients name it by.
NAMES = {
    "event": models.Event.slug,
    "metric": models.Metric.name,
    "population": models.Population.name,
    "source": models.Source.slug,
}


def ids_by_name(session: Session, kind: str, names: set[str]) -> dict[str, int]:
    """The ids of the references of `kind` (a key of NAMES) named `names`; unknown ones left out.

    Remembered with the database connection (for its lifetime), as names are never changed,
    reused or removed: looking a batch's names up as rows was a tenth of a new claim's cost
    (bench/changes.md). Only for references created by earlier transactions: a name inserted
    by the caller's own transaction could be remembered and then rolled back. Names not found
    are asked again next time.
    """
    column = NAMES[kind]
    known: dict[str, int] = session.connection().info.setdefault(f"tally_{kind}_ids", {})
    missing = names - known.keys()
    if missing:
        id_column = column.class_.id
        rows = session.execute(select(column, id_column).where(column.in_(missing))).all()
        known.update(dict(rows))
    return {name: known[name] for name in names if name in known}


def all_populations(session: Session) -> list[models.Population]:
    return list(session.scalars(select(models.Population).order_by(models.Population.id)))


def all_metrics(session: Session) -> list[models.Metric]:
    return list(session.scalars(select(models.Metric)))


def api_key_by_hash(connection: Connection, key_hash: str) -> Row[str, str, datetime | None] | None:
    """The name, role and revoked_at of the key with that hash (every request asks)."""
    k = models.ApiKey
    query = select(k.name, k.role, k.revoked_at).where(k.key_hash == key_hash)
    return connection.execute(query).first()


def get_event(session: Session, slug: str, *, field: str | None = None) -> models.Event:
    """The event with that slug; NotFound, or InvalidInput naming `field` when it is a reference."""
    return _found(event_by_slug(session, slug), "event", slug, field)


def get_source(session: Session, slug: str, *, field: str | None = None) -> models.Source:
    return _found(source_by_slug(session, slug), "source", slug, field)


def get_metric(session: Session, name: str, *, field: str | None = None) -> models.Metric:
    return _found(metric_by_name(session, name), "metric", name, field)


def get_population(session: Session, name: str, *, field: str | None = None) -> models.Population:
    return _found(population_by_name(session, name), "population", name, field)


def _found(row: M | None, noun: str, name: str, field: str | None) -> M:
    if row is not None:
        return row
    raise unknown(noun, name, field)


def unknown(noun: str, name: str, field: str | None) -> NotFound | InvalidInput:
    """Why no `noun` is named `name`: NotFound, or InvalidInput naming `field` (a reference)."""
    if field is None:
        return NotFound(f'No {noun} named "{name}".')
    return InvalidInput(f'Unknown {noun} "{name}".', field=field)


def lock_events(
    session: Session,
    *,
    ids: set[int] | None = None,
    slugs: set[str] | None = None,
    claim_ids: set[int] | None = None,
) -> None:
    """Serialize writers of the same events until commit (conflict detection must see them all).

    The events: those with `ids`, those named by `slugs` and those of the claims `claim_ids`
    (unknown ones are skipped). PostgreSQL: transaction-scoped advisory locks, taken in id
    order so that two writers never wait on each other in a cycle. SQLite: BEGIN IMMEDIATE
    already admits one writer.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    e, c = models.Event, models.Claim
    events = union(
        select(e.id).where(e.id.in_(ids or set()) | e.slug.in_(slugs or set())),
        select(c.event_id).where(c.id.in_(claim_ids or set())),
    ).subquery()
    # One statement: the outer select takes the locks row by row, in the subquery's order.
    ordered = select(events.c.id).order_by(events.c.id).subquery()
    with session.no_autoflush:  # a flush here would bump a changed claim's version twice
        session.execute(select(func.pg_advisory_xact_lock(EVENT_LOCK_SPACE, ordered.c.id)))


EVENT_LOCK_SPACE = 7_261_001  # the first key of Tally's two-key advisory locks


def get_claim(session: Session, claim_id: str, *, field: str | None = None) -> models.Claim:
    """The claim with that id; NotFound, or InvalidInput naming `field` when it is a reference."""
    row = (
        session.get(models.Claim, int(claim_id))
        if claim_id.isdigit() and len(claim_id) < 19
        else None
    )
    return _found(row, "claim", claim_id, field)


def claim_filters(
    session: Session,
    *,
    event: str | None = None,
    metric: str | None = None,
    population: str | None = None,
    source: str | None = None,
    claimant_key: str | None = None,
    status: str | None = None,
) -> list[ColumnElement[bool]]:
    """WHERE clauses for the claims list; unknown names are InvalidInput naming the filter."""
    c = models.Claim
    where: list[ColumnElement[bool]] = []
    if event is not None:
        where.append(c.event_id == get_event(session, event, field="event").id)
    if metric is not None:
        where.append(c.metric_id == get_metric(session, metric, field="metric").id)
    if population is not None:
        where.append(c.population_id == get_population(session, population, field="population").id)
    if source is not None:
        where.append(c.source_id == get_source(session, source, field="source").id)
    if claimant_key is not None:
        where.append(c.claimant_key == claimant_key)
    if status is not None:
        where.append(c.status == status)
    return where


def same_claimant_claims(session: Session, rows: list[models.Claim]) -> list[FactRow]:
    """The claims that share an event, metric, location, population and claimant with any of
    `rows` (the claims that can supersede them), and no others: a page of claims from many
    groups loads only its own chains. As fact rows."""
    if not rows:
        return []
    c = models.Claim
    columns = ("event_id", "metric_id", "location_key", "population_id", "claimant_key")
    chain = tuple_(*(getattr(c, name) for name in columns))
    keys = {tuple(getattr(r, name) for name in columns) for r in rows}
    return fact_rows(session, chain.in_(keys))


class FactRow(NamedTuple):
    """A claim as conflict rules need it, names resolved (see fact_rows)."""

    id: int
    event_id: int
    metric_id: int
    population_id: int
    location: str | None
    location_key: str
    event: str
    metric: str
    metric_kind: str
    population: str
    figure_text: str
    low: int
    high: int | None
    point: int | None
    qualifier: str
    as_of: date
    claimant: str
    claimant_key: str
    created_at: datetime
    status: str
    cites_id: int | None
    open_disputes: tuple[str, ...]  # ids, oldest first


def fact_rows(session: Session, *where: ColumnElement[bool]) -> list[FactRow]:
    """The claims matching `where` as plain rows of what conflict rules need."""
    return _fact_rows(session, _facts_query(*where))


def _fact_rows(session: Session, query: Any, params: dict[str, Any] | None = None) -> list[FactRow]:
    """Plain tuples, not ORM objects (nor SQLAlchemy rows, whose attributes cost microseconds
    each): building a group's claims and their four joined references as objects was the
    largest share of a write (bench/changes.md).
    """
    claims: dict[int, Any] = {}
    disputes: dict[int, list[int]] = {}
    rows: Any = session.execute(query, params)  # the columns of FactRow, then a dispute's id
    for row in rows:
        claims.setdefault(row[0], row)
        if row[-1] is not None:
            disputes.setdefault(row[0], []).append(row[-1])
    return [
        FactRow._make((*row[:-1], tuple(str(i) for i in sorted(disputes.get(claim_id, ())))))
        for claim_id, row in claims.items()
    ]


def _facts_query(*where: ColumnElement[bool]) -> Any:
    c, e, m, p, d = models.Claim, models.Event, models.Metric, models.Population, models.Dispute
    columns = (
        c.id, c.event_id, c.metric_id, c.population_id, c.location, c.location_key,
        e.slug, m.name, m.kind, p.name, c.figure_text, c.low, c.high, c.point, c.qualifier,
        c.as_of, c.claimant, c.claimant_key, c.created_at, c.status, c.cites_id,
    )  # fmt: skip
    # Named as FactRow's fields (all but the last, open_disputes, which is no column).
    labelled = (column.label(name) for name, column in zip(FactRow._fields, columns, strict=False))
    # With each open dispute's id (a claim with k open disputes comes k times): read in the
    # same query, not by a list of ids, which as bound parameters cost psycopg more than the
    # query for a large group, and past 32,766 SQLite refuses.
    open_disputes = (d.claim_id == c.id) & d.closed_at.is_(None)
    return (
        select(*labelled, d.id.label("dispute_id"))
        .join(e, e.id == c.event_id)
        .join(m, m.id == c.metric_id)
        .join(p, p.id == c.population_id)
        .outerjoin(d, open_disputes)
        .where(*where)
    )


def revisions(session: Session, claim_id: int) -> list[models.ClaimRevision]:
    r = models.ClaimRevision
    return list(session.scalars(select(r).where(r.claim_id == claim_id).order_by(r.version)))


def revisions_at(
    session: Session, moment: datetime, *where: ColumnElement[bool]
) -> list[models.ClaimRevision]:
    """For each claim matching `where` (claim columns), its latest revision recorded by `moment`."""
    r = models.ClaimRevision
    latest = (
        select(r.claim_id, func.max(r.version).label("version"))
        .join(models.Claim, models.Claim.id == r.claim_id)
        .where(r.recorded_at <= moment, *where)
        .group_by(r.claim_id)
        .subquery()
    )
    query = select(r).join(
        latest, (r.claim_id == latest.c.claim_id) & (r.version == latest.c.version)
    )
    return list(session.scalars(query.order_by(r.claim_id)))


def citing_claims(session: Session, claim_id: int) -> list[models.Claim]:
    return list(session.scalars(select(models.Claim).where(models.Claim.cites_id == claim_id)))


def disputes_of(session: Session, claim_ids: set[int]) -> list[models.Dispute]:
    d = models.Dispute
    return list(session.scalars(select(d).where(d.claim_id.in_(claim_ids)).order_by(d.id)))


def get_dispute(session: Session, claim_id: int, dispute_id: str) -> models.Dispute:
    row = (
        session.get(models.Dispute, int(dispute_id))
        if dispute_id.isdigit() and len(dispute_id) < 19
        else None
    )
    if row is None or row.claim_id != claim_id:
        raise NotFound(f"Claim {claim_id} has no dispute {dispute_id}.")
    return row


def detection_scope(session: Session, rows: list[models.Claim]) -> list[FactRow]:
    """The claims that can conflict with `rows`: their groups, citers, and the claims they cite.

    Read from the database (after the caller's flush), never from the identity map: a claim
    read before the lock was taken (a cited one) may have changed since.
    """
    groups = list({(r.event_id, r.metric_id, r.location_key) for r in rows})
    related = {"ids": [r.id for r in rows], "cited": [r.cites_id for r in rows if r.cites_id]}
    found: dict[int, FactRow] = {}  # by id: a citing or cited claim may be in a group too
    for start in range(0, len(groups), SCOPE_GROUPS):
        chunk = groups[start : start + SCOPE_GROUPS]
        params: dict[str, Any] = related if start == 0 else {"ids": [], "cited": []}
        for i, (event_id, metric_id, location_key) in enumerate(chunk):
            params = params | {f"e{i}": event_id, f"m{i}": metric_id, f"l{i}": location_key}
        found |= {row.id: row for row in _fact_rows(session, _scope_query(len(chunk)), params)}
    return list(found.values())


# Groups read by one query: a bulk batch's hundreds of groups in one query were compiled
# anew for every batch (a third of a bulk import's time, bench/changes.md).
SCOPE_GROUPS = 32


@lru_cache(maxsize=SCOPE_GROUPS)
def _scope_query(groups: int) -> Any:
    """Claims of `groups` groups (bound as e0, m0, l0, e1...), citing `ids`, or in `cited`.

    Built once for each number of groups: building the query and its cache key for every
    batch cost a third of reading the scope (bench/changes.md).
    """
    c = models.Claim
    same_group = or_(
        *(
            (c.event_id == bindparam(f"e{i}"))
            & (c.metric_id == bindparam(f"m{i}"))
            & (c.location_key == bindparam(f"l{i}"))
            for i in range(groups)
        )
    )
    cites = c.cites_id.in_(bindparam("ids", expanding=True))
    return _facts_query(same_group | cites | c.id.in_(bindparam("cited", expanding=True)))


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


def snapshot(row: models.Claim, names: dict[str, str] | None = None) -> Snapshot:
    """The claim as clients see it (without superseded_by, which other claims decide).

    names: its event, metric, population and source by name (keys of NAMES), when the row
    has their ids but not their rows.
    """
    retraction = row.retraction
    if names is None:
        names = {
            "event": row.event.slug,
            "metric": row.metric.name,
            "population": row.population.name,
            "source": row.source.slug,
        }
    return {
        "id": str(row.id),
        "version": row.version,
        "status": row.status,
        "disputed": row.disputed,
        "event": names["event"],
        "metric": names["metric"],
        "population": names["population"],
        "location": row.location,
        "figure": {
            "text": row.figure_text,
            "low": row.low,
            "high": row.high,
            "point": row.point,
            "qualifier": row.qualifier,
        },
        "as_of": row.as_of.isoformat(),
        "claimant": row.claimant,
        "source": names["source"],
        "url": row.url,
        "quote": row.quote,
        "published_at": row.published_at.isoformat() if row.published_at else None,
        "cites": str(row.cites_id) if row.cites_id else None,
        "note": row.note,
        "retraction": retraction,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


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
    row = (
        session.get(models.Conflict, int(conflict_id))
        if conflict_id.isdigit() and len(conflict_id) < 19
        else None
    )
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


def event_claims(session: Session, event_id: int) -> list[models.Claim]:
    c = models.Claim
    return list(session.scalars(select(c).where(c.event_id == event_id).order_by(c.id)))


def active_webhooks(session: Session) -> list[models.Webhook]:
    w = models.Webhook
    return list(session.scalars(select(w).where(w.status == "active").order_by(w.id)))


def get_webhook(session: Session, webhook_id: str) -> models.Webhook:
    """The webhook with that id; NotFound when there is none or it was deleted."""
    ok = webhook_id.isdigit() and len(webhook_id) < 19
    row = session.get(models.Webhook, int(webhook_id)) if ok else None
    if row is None or row.status == "deleted":
        raise NotFound(f"No webhook with id {webhook_id}.")
    return row


def due_deliveries(session: Session, now: datetime, limit: int) -> list[models.WebhookDelivery]:
    """Pending deliveries of active webhooks due by `now`, oldest first, locked until commit.

    SKIP LOCKED (PostgreSQL): another worker's claimed rows are passed over, not waited for,
    so no two workers take the same attempt. SQLite ignores it: it admits one writer anyway.
    """
    d, w = models.WebhookDelivery, models.Webhook
    query = (
        select(d)
        .join(w, w.id == d.webhook_id)
        .where(d.status == "pending", d.next_attempt_at <= now, w.status == "active")
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=d)
    )
    return list(session.scalars(query))


def any_due(session: Session, now: datetime) -> bool:
    d = models.WebhookDelivery
    query = select(d.id).where(d.status == "pending", d.next_attempt_at <= now).limit(1)
    return session.scalar(query) is not None


def cancel_deliveries(session: Session, webhook_id: int, reason: str) -> None:
    """Give up the webhook's pending deliveries, saying why."""
    d = models.WebhookDelivery
    pending = (d.webhook_id == webhook_id) & (d.status == "pending")
    session.execute(
        update(d).where(pending).values(status="cancelled", next_attempt_at=None, last_error=reason)
    )
