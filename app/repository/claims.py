"""Claims, their revisions and disputes, and the locks that serialize their writers."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, bindparam, func, or_, select, tuple_, union
from sqlalchemy.orm import Session

from app import models
from app.domain.model import NotFound
from app.repository.common import _found, parse_id
from app.repository.resources import get_event, get_metric, get_population, get_source

Snapshot = dict[str, Any]


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
    number = parse_id(claim_id)
    row = session.get(models.Claim, number) if number else None
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
    number = parse_id(dispute_id)
    row = session.get(models.Dispute, number) if number else None
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
