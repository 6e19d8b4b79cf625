"""Claims, their revisions and disputes, and the locks that serialize their writers.

Every read returns domain values (app.domain.model.Claim, Revision, Dispute); every write
takes them. A claim's columns are declared once, in CLAIM_COLUMNS, and read by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    union,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from app import models
from app.domain.model import (
    Claim,
    ClaimFacts,
    ClaimFilter,
    Dispute,
    Figure,
    MetricKind,
    NotFound,
    OpenDispute,
    Qualifier,
    Retraction,
    Revision,
    SeriesEntry,
    StaleVersion,
    normalise,
    parse_id,
)
from app.domain.watch import WatchState
from app.repository.common import is_postgres, table_of, unknown
from app.repository.resources import NAMES, ids_by_name, population_ancestors

c, e, m, p, s, d = (
    models.Claim,
    models.Event,
    models.Metric,
    models.Population,
    models.Source,
    models.Dispute,
)
w = models.ClaimWatch

# The columns of a claim, by the name the mapping below reads them with.
CLAIM_COLUMNS: dict[str, Any] = {
    "id": c.id, "version": c.version, "status": c.status, "disputed": c.disputed,
    "event": e.slug, "metric": m.name, "population": p.name, "location": c.location,
    "figure_text": c.figure_text, "low": c.low, "high": c.high, "point": c.point,
    "qualifier": c.qualifier, "as_of": c.as_of, "claimant": c.claimant, "source": s.slug,
    "url": c.url, "quote": c.quote, "published_at": c.published_at, "cites": c.cites_id,
    "note": c.note, "retraction": c.retraction, "created_at": c.created_at,
    "updated_at": c.updated_at,
}  # fmt: skip
_NAMES = tuple(CLAIM_COLUMNS)
QUALIFIERS = {qualifier.value: qualifier for qualifier in Qualifier}  # a dict: Enum() costs more
KINDS = {kind.value: kind for kind in MetricKind}


def _claims_query(*extra: Any) -> Select[Any]:
    """Claims with their references by name, and `extra` columns after the claim's."""
    return (
        select(*CLAIM_COLUMNS.values(), *extra)
        .join(e, e.id == c.event_id)
        .join(m, m.id == c.metric_id)
        .join(p, p.id == c.population_id)
        .join(s, s.id == c.source_id)
    )


def _claim(values: Sequence[Any]) -> Claim:
    """The claim of a row of _claims_query (its first len(CLAIM_COLUMNS) values)."""
    f = dict(zip(_NAMES, values, strict=False))
    retraction = f["retraction"]
    return Claim(
        id=str(f["id"]),
        version=f["version"],
        status=f["status"],
        disputed=f["disputed"],
        event=f["event"],
        metric=f["metric"],
        population=f["population"],
        location=f["location"],
        figure=Figure(
            f["figure_text"], f["low"], f["high"], f["point"], QUALIFIERS[f["qualifier"]]
        ),
        as_of=f["as_of"],
        claimant=f["claimant"],
        source=f["source"],
        url=f["url"],
        quote=f["quote"],
        published_at=f["published_at"],
        cites=str(f["cites"]) if f["cites"] else None,
        note=f["note"],
        retraction=_retraction(retraction) if retraction else None,
        created_at=f["created_at"],
        updated_at=f["updated_at"],
    )


def _retraction(stored: dict[str, Any]) -> Retraction:
    return Retraction(
        stored["reason"], stored["url"], datetime.fromisoformat(stored["retracted_at"])
    )


def _read(session: Session, query: Select[Any]) -> list[Claim]:
    return [_claim(row) for row in session.execute(query)]


# --- locks ---------------------------------------------------------------------------------


def lock_events(session: Session, *, slugs: Iterable[str] = (), claims: Iterable[str] = ()) -> None:
    """Serialize writers of the same events until commit (conflict detection must see them all).

    The events: those named by `slugs` and those of the claims with ids `claims` (unknown ones
    are skipped). PostgreSQL: transaction-scoped advisory locks, taken in id order so that two
    writers never wait on each other in a cycle. SQLite: BEGIN IMMEDIATE already admits one
    writer.
    """
    if not is_postgres(session):
        return
    claim_ids = {n for n in map(parse_id, claims) if n}
    events = union(
        select(e.id).where(e.slug.in_(set(slugs))),
        select(c.event_id).where(c.id.in_(claim_ids)),
    ).subquery()
    # One statement: the outer select takes the locks row by row, in the subquery's order.
    ordered = select(events.c.id).order_by(events.c.id).subquery()
    session.execute(select(func.pg_advisory_xact_lock(EVENT_LOCK_SPACE, ordered.c.id)))


EVENT_LOCK_SPACE = 7_261_001  # the first key of Tally's two-key advisory locks


# --- statistics ----------------------------------------------------------------------------


def refresh_statistics(session: Session, added: int) -> bool:
    """PostgreSQL: ANALYZE the claim table, committed, when `added` claims more than doubled
    it since its statistics were taken; whether it did. A bulk import into a new database would
    otherwise run on the statistics of an empty table until autovacuum comes by: plans chosen
    then (claims by the index on claimant alone) read ever more rows as the table grows, and a
    prepared statement keeps its plan (bench/changes.md). SQLite: nothing to do.
    """
    if not is_postgres(session):
        return False
    known = session.scalar(text("SELECT reltuples FROM pg_class WHERE oid = 'claim'::regclass"))
    if added <= max(known or 0, 0):  # -1: never analyzed
        session.rollback()
        return False
    session.execute(text("ANALYZE claim"))
    session.commit()
    return True


# --- reads ---------------------------------------------------------------------------------


def get_claim(session: Session, claim_id: str, *, field: str | None = None) -> Claim:
    """The claim with that id; NotFound, or InvalidInput naming `field` when it is a reference."""
    number = parse_id(claim_id)
    found = _read(session, _claims_query().where(c.id == number)) if number else []
    if not found:
        raise unknown("claim", claim_id, field)
    return found[0]


def _where(session: Session, f: ClaimFilter) -> list[ColumnElement[bool]]:
    """WHERE clauses of a filter; an unknown name is InvalidInput naming the filter."""
    named = {"event": f.event, "metric": f.metric, "population": f.population, "source": f.source}
    where: list[ColumnElement[bool]] = []
    for kind, name in named.items():
        if name is not None:
            ids = ids_by_name(session, kind, {name})
            if name not in ids:
                raise unknown(kind, name, kind, session)
            where.append(getattr(c, f"{kind}_id") == ids[name])
    if f.claimant is not None:
        where.append(c.claimant_key == normalise(f.claimant))
    if f.status is not None:
        where.append(c.status == f.status)
    return where


def check_filter(session: Session, f: ClaimFilter) -> None:
    """InvalidInput naming the filter whose name is unknown, before anything is read."""
    _where(session, f)


def page_claims(session: Session, f: ClaimFilter, after: int, limit: int) -> list[Claim]:
    """Up to limit+1 claims with id > after, by id: the extra one tells that more follow."""
    query = _claims_query().where(c.id > after, *_where(session, f))
    return _read(session, query.order_by(c.id).limit(limit + 1))


def event_claims(session: Session, event: str) -> list[Claim]:
    """Every claim of the event, by id."""
    return _read(session, _claims_query().where(e.slug == event).order_by(c.id))


def chains_of(session: Session, claims: list[Claim]) -> list[Claim]:
    """The claims that share an event, metric, location, population and claimant with any of
    `claims` (the claims that can supersede them), and no others: a page of claims from many
    groups loads only its own chains."""
    if not claims:
        return []
    keys = list({key[:5] for key in _series_keys(_reference_ids(session, claims), claims)})
    # SCOPE_GROUPS series a query, each read by ix_claim_series: for `(event_id, …) IN (VALUES
    # …)` SQLite scanned the whole claim table, every page of claims (bench/changes.md).
    return [_claim(row) for row in _in_chunks(session.execute, _chains_query, keys, "emlpk")]


def _reference_ids(session: Session, claims: Iterable[Claim]) -> dict[str, dict[str, int]]:
    """The ids of the claims' event, metric, population and source, by kind and name."""
    claims = list(claims)
    return {kind: ids_by_name(session, kind, {getattr(x, kind) for x in claims}) for kind in NAMES}


def claims_at(
    session: Session,
    moment: datetime,
    *,
    claim: str | None = None,
    event: str | None = None,
    metric: str | None = None,
    claimants: Iterable[str] = (),
) -> list[Claim]:
    """The claims (of one id, event, metric or claimants) as they stood at `moment`: each one's
    latest revision recorded by then, by id."""
    r = models.ClaimRevision
    where = [r.recorded_at <= moment]
    if claim is not None:
        where.append(c.id == (parse_id(claim) or 0))
    if event is not None:
        where.append(c.event_id.in_(select(e.id).where(e.slug == event)))
    if metric is not None:
        where.append(c.metric_id.in_(select(m.id).where(m.name == metric)))
    keys = {normalise(name) for name in claimants}
    if keys:
        where.append(c.claimant_key.in_(keys))
    latest = (
        select(r.claim_id, func.max(r.version).label("version"))
        .join(c, c.id == r.claim_id)
        .where(*where)
        .group_by(r.claim_id)
        .subquery()
    )
    query = select(r.snapshot).join(
        latest, (r.claim_id == latest.c.claim_id) & (r.version == latest.c.version)
    )
    return [claim_of_snapshot(snap) for snap in session.scalars(query.order_by(r.claim_id))]


def revisions(session: Session, claim_id: str) -> list[Revision]:
    """Every version of the claim, oldest first."""
    r = models.ClaimRevision
    query = select(r).where(r.claim_id == parse_id(claim_id)).order_by(r.version)
    return [
        Revision(
            x.version, x.recorded_at, x.actor, x.reason, x.changes, claim_of_snapshot(x.snapshot)
        )
        for x in session.scalars(query)
    ]


def series_of(session: Session, claims: list[Claim]) -> list[SeriesEntry]:
    """The claims of the claims' groups as succession reads them (series and place in time,
    no figure, no text): the claims themselves, the two active claims before and after each
    one's place in its series, and every claim current at its own date (`last_of_day`: the
    last active claim of its series that day); no other claim can be compared with a claim
    of another series (SPEC §5). On a long story that is about series x dates rows, however
    many claims a date holds, each read by an index; detection then reads the facts of only
    the claims that can matter (conflicts.comparable).

    Past NEIGHBOURS_UP_TO claims (a bulk batch) their series are read whole instead: one
    query for many claims of a series costs less than two small ones for each claim.
    Read from the database after the caller's writes.
    """
    ids = _reference_ids(session, claims)
    keys = _series_keys(ids, claims)
    run = session.connection().execute
    rows = _in_chunks(run, _current_query, list({key[:3] for key in keys}), "eml")
    if len(claims) > NEIGHBOURS_UP_TO:
        rows += _in_chunks(run, _series_query, list({key[:5] for key in keys}), "emlpk")
    else:
        params: dict[str, Any] = {"ids": [int(x.id) for x in claims]}
        for i, (key, x) in enumerate(zip(keys, claims, strict=True)):
            params |= {f"{name}{i}": value for name, value in zip("emlpk", key[:5], strict=True)}
            params |= {f"a{i}": x.as_of, f"t{i}": x.created_at, f"i{i}": int(x.id)}
        rows += run(_neighbours_query(len(claims)), params).all()
    entries = {
        r[0]: SeriesEntry(str(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8] == "retracted")
        for r in rows
    }
    return list(entries.values())


def _in_chunks(run: Any, query_of: Any, keys: list[tuple[Any, ...]], names: str) -> list[Any]:
    """The rows of query_of(n) for `keys`, SCOPE_GROUPS at a time, each key bound by `names`
    with its number (e0, m0, l0, e1...)."""
    rows: list[Any] = []
    for start in range(0, len(keys), SCOPE_GROUPS):
        chunk = keys[start : start + SCOPE_GROUPS]
        params = {
            f"{name}{i}": value
            for i, key in enumerate(chunk)
            for name, value in zip(names, key, strict=True)
        }
        rows += run(query_of(len(chunk)), params).all()
    return rows


def facts_of(
    session: Session, ids: Iterable[str], claims: list[Claim], *, new: bool = False
) -> list[ClaimFacts]:
    """The claims `ids`, the claims citing any of `claims` and those they cite, as conflict
    rules read them. Read from the database, never from memory: a claim read before the
    caller's lock was taken (a cited one) may have changed since.
    new: `claims` were inserted by this transaction, so no claim cites them yet."""
    cited = {int(x.cites) for x in claims if x.cites}
    wanted = {*(int(i) for i in ids), *cited}
    if not new:
        wanted.update(session.scalars(_CITING, {"ids": [int(x.id) for x in claims]}))
    return _facts(session, _FACTS_OF, {"wanted": sorted(wanted)})


def event_scope(session: Session, event: str) -> list[ClaimFacts]:
    """Every claim of the event as conflict rules read it (for a full recomputation)."""
    return _facts(session, _scope_select(e.slug == event).order_by(c.id, d.id), {})


# What conflict detection reads of a claim, by name: no text it does not compare (reading
# whole claims cost a write a third more on SQLite, bench/changes.md); open disputes last,
# a claim with k of them coming k times.
FACT_COLUMNS: dict[str, Any] = {
    "id": c.id, "event": e.slug, "metric": m.name, "metric_kind": m.kind, "population": p.name,
    "location": c.location, "location_key": c.location_key, "figure_text": c.figure_text,
    "low": c.low, "high": c.high, "point": c.point, "qualifier": c.qualifier, "as_of": c.as_of,
    "claimant": c.claimant, "claimant_key": c.claimant_key, "created_at": c.created_at,
    "status": c.status, "cites": c.cites_id, "source": s.name,
    # What the checks of its url showed (SPEC §13), while the watch follows that url.
    "watch_url": w.url, "checked_at": w.checked_at, "watch_status": w.status,
    "unavailable": w.unavailable, "failing_since": w.failing_since,
    "figure_seen": w.figure_seen, "figure_found": w.figure_found,
    "dispute": d.id, "by": d.by, "reason": d.reason,
}  # fmt: skip
_FACT_NAMES = tuple(FACT_COLUMNS)
_OPEN_DISPUTES = (d.claim_id == c.id) & d.closed_at.is_(None)
_WATCH = (w.claim_id == c.id) & (w.url == c.url)


def _scope_select(where: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*FACT_COLUMNS.values())
        .join(e, e.id == c.event_id)
        .join(m, m.id == c.metric_id)
        .join(p, p.id == c.population_id)
        .join(s, s.id == c.source_id)
        .outerjoin(w, _WATCH)
        .outerjoin(d, _OPEN_DISPUTES)
        .where(where)
    )


def _facts(session: Session, query: Any, params: dict[str, Any]) -> list[ClaimFacts]:
    """The facts of a scope query's rows, each claim once, with its open disputes."""
    rows: dict[Any, dict[str, Any]] = {}
    disputes: dict[Any, list[OpenDispute]] = {}
    for row in session.connection().execute(query, params):  # rows, not through the ORM
        f = dict(zip(_FACT_NAMES, row, strict=True))
        rows.setdefault(f["id"], f)
        if f["dispute"] is not None:
            disputes.setdefault(f["id"], []).append(
                OpenDispute(str(f["dispute"]), f["by"], f["reason"])
            )
    parents = population_ancestors(session, {f["population"] for f in rows.values()})
    return [_fact(f, parents, disputes.get(claim_id, [])) for claim_id, f in rows.items()]


def _fact(
    f: dict[str, Any], parents: dict[str, tuple[str, ...]], disputes: list[OpenDispute]
) -> ClaimFacts:
    notes = tuple(sorted(disputes, key=lambda x: int(x.id)))
    return ClaimFacts(
        id=str(f["id"]),
        event=f["event"],
        metric=f["metric"],
        metric_kind=KINDS[f["metric_kind"]],
        population=f["population"],
        population_ancestors=parents[f["population"]],
        location_key=f["location_key"],
        figure=Figure(
            f["figure_text"], f["low"], f["high"], f["point"], QUALIFIERS[f["qualifier"]]
        ),
        as_of=f["as_of"],
        claimant=f["claimant"],
        claimant_key=f["claimant_key"],
        recorded_at=f["created_at"],
        retracted=f["status"] == "retracted",
        cites=str(f["cites"]) if f["cites"] else None,
        open_disputes=tuple(x.id for x in notes),
        source=f["source"],
        dispute_notes=notes,
        location=f["location"],
        watch=_watch(f),
    )


def _watch(f: dict[str, Any]) -> WatchState | None:
    """The claim's WatchState, if its url is watched."""
    if f["watch_url"] is None:
        return None
    return WatchState(
        url=f["watch_url"],
        checked_at=f["checked_at"],
        status=f["watch_status"],
        unavailable=bool(f["unavailable"]),
        failing_since=f["failing_since"],
        figure_seen=bool(f["figure_seen"]),
        figure_found=f["figure_found"],
    )


# Groups read by one query: a bulk batch's hundreds of groups in one query were compiled
# anew for every batch (a third of a bulk import's time, bench/changes.md).
SCOPE_GROUPS = 32
NEIGHBOURS_UP_TO = 8


def _entries(where: ColumnElement[bool]) -> Select[Any]:
    """What SeriesEntry holds of the claims `where` selects, in its order, then the status."""
    return (
        select(c.id, e.slug, m.name, c.location_key, p.name, c.claimant_key, c.as_of)
        .add_columns(c.created_at, c.status)
        .join(e, e.id == c.event_id)
        .join(m, m.id == c.metric_id)
        .join(p, p.id == c.population_id)
        .where(where)
    )


@lru_cache(maxsize=SCOPE_GROUPS)
def _current_query(groups: int) -> Any:
    """The claims current at their own date in `groups` groups (bound as e0, m0, l0, e1...).

    Built once for each number of groups: building the query and its cache key for every
    batch cost a third of reading the scope (bench/changes.md).
    """
    return _entries(_any_of(SERIES_COLUMNS[:3], "eml", range(groups)) & c.last_of_day)


@lru_cache(maxsize=SCOPE_GROUPS)
def _series_query(series: int) -> Any:
    """Every claim of `series` series (bound as e0, m0, l0, p0, k0, e1...)."""
    return _entries(_any_of(SERIES_COLUMNS, "emlpk", range(series)))


@lru_cache(maxsize=SCOPE_GROUPS)
def _chains_query(series: int) -> Any:
    """Every claim of `series` series, whole (bound as e0, m0, l0, p0, k0, e1...)."""
    return _claims_query().where(_any_of(SERIES_COLUMNS, "emlpk", range(series)))


def _any_of(columns: Sequence[Any], names: str, numbers: Iterable[int]) -> ColumnElement[bool]:
    """`columns` equal to one of the sets of values bound by `names` and each number."""
    return or_(
        *(
            and_(*(x == bindparam(f"{n}{i}") for x, n in zip(columns, names, strict=True)))
            for i in numbers
        )
    )


@lru_cache(maxsize=NEIGHBOURS_UP_TO)
def _neighbours_query(claims: int) -> Any:
    """The claims in `ids`, and of each of `claims` places (bound as its series e0, m0, l0,
    p0, k0 and its place a0, t0, i0; then e1...) the two active claims before it and the
    two after it in its series, each read by ix_claim_series."""
    place = tuple_(c.as_of, c.created_at, c.id)
    earliest_first = (c.as_of, c.created_at, c.id)
    latest_first = (c.as_of.desc(), c.created_at.desc(), c.id.desc())
    parts: list[Any] = [select(c.id).where(c.id.in_(bindparam("ids", expanding=True)))]
    for i in range(claims):
        series = _any_of(SERIES_COLUMNS, "emlpk", [i])
        at = tuple_(
            bindparam(f"a{i}", type_=c.as_of.type),
            bindparam(f"t{i}", type_=c.created_at.type),
            bindparam(f"i{i}", type_=c.id.type),
        )
        active = series & (c.status != "retracted")
        for side, order in ((place < at, latest_first), (place > at, earliest_first)):
            near = select(c.id).where(active & side).order_by(*order).limit(2).subquery()
            parts.append(select(near.c.id))
    return _entries(c.id.in_(union_all(*parts)))


# A series: a claimant's claims of one group and population (SPEC §5).
SERIES_COLUMNS = tuple(getattr(c, name) for name in models.SERIES)


def _series_keys(ids: dict[str, dict[str, int]], claims: Iterable[Claim]) -> list[tuple[Any, ...]]:
    """Each claim's series and date, as stored: (event, metric, location, population and
    claimant keys, as_of)."""
    return [
        (ids["event"][x.event], ids["metric"][x.metric], normalise(x.location),
         ids["population"][x.population], normalise(x.claimant), x.as_of)
        for x in claims
    ]  # fmt: skip


def _mark_last_of_day(session: Session, keys: Iterable[tuple[Any, ...]]) -> None:
    """Keep `last_of_day` true for exactly the last active claim of each series on each date
    of `keys` (_series_keys of claims as they are now, or were before a change)."""
    days = [{f"day_{n}": value for n, value in zip(_DAY, key, strict=True)} for key in set(keys)]
    session.connection().execute(_MARK, days)  # one statement per date, each by the index


_DAY = (*(column.key for column in SERIES_COLUMNS), "as_of")


def _mark_statement() -> Any:
    t = table_of(models.Claim)
    later = t.alias("later")
    newer = tuple_(later.c.created_at, later.c.id) > tuple_(t.c.created_at, t.c.id)
    same_day = and_(*(later.c[n] == t.c[n] for n in _DAY), later.c.status != "retracted", newer)
    last = and_(t.c.status != "retracted", ~exists().where(same_day))
    of_day = and_(*(t.c[n] == bindparam(f"day_{n}") for n in _DAY))
    return update(t).where(of_day, t.c.last_of_day != last).values(last_of_day=last)


_MARK = _mark_statement()


# The claims wanted, by id; with the metric's kind and each open dispute's id (read in the
# same query). The ids of the claims citing others are read first: `id IN … OR cites_id IN …`
# made SQLite scan the whole claim table (3 ms a write in a ledger of 20,000 claims).
_FACTS_OF = _scope_select(c.id.in_(bindparam("wanted", expanding=True)))
_CITING = select(c.id).where(c.cites_id.in_(bindparam("ids", expanding=True)))


# --- writes --------------------------------------------------------------------------------


def insert_claims(session: Session, claims: list[Claim]) -> list[Claim]:
    """Insert new claims (their ids are ignored) in one statement; the claims with their ids.

    Their references must exist (the caller checked them with ids_by_name).
    """
    if not claims:
        return []
    ids = _reference_ids(session, claims)
    rows = [
        {**_columns(x), **{f"{kind}_id": ids[kind][getattr(x, kind)] for kind in NAMES}}
        for x in claims
    ]
    new_ids = _new_ids(session, len(rows))
    with_ids = [row | {"id": i} for row, i in zip(rows, new_ids, strict=True)]
    # One executemany of Core rows: the ORM's bulk insert, and INSERT … RETURNING (a statement
    # of 500 rows' values on PostgreSQL: 4x the time), cost more (bench/changes.md).
    session.connection().execute(insert(table_of(models.Claim)), with_ids)
    inserted = [replace(x, id=str(i)) for x, i in zip(claims, new_ids, strict=True)]
    _mark_last_of_day(session, _series_keys(ids, inserted))
    return inserted


def _new_ids(session: Session, n: int) -> list[int]:
    """Ids for `n` new claims, in increasing order. PostgreSQL draws them from the id column's
    sequence (other writers may draw between them). SQLite has one writer, which holds the
    database (BEGIN IMMEDIATE): the ids after the largest, as SQLite itself would number them.
    """
    if is_postgres(session):
        return sorted(session.scalars(_DRAW_IDS, {"n": n}))
    largest = session.scalar(select(func.max(c.id))) or 0
    return list(range(largest + 1, largest + n + 1))


_DRAW_IDS = text(
    "SELECT nextval(pg_get_serial_sequence('claim', 'id')) FROM generate_series(1, :n)"
)


def update_claim(session: Session, before: Claim, after: Claim) -> None:
    """Store `after` over `before`; StaleVersion when another writer changed it meanwhile."""
    ids = _reference_ids(session, [before, after])
    values = {**_columns(after), **{f"{k}_id": ids[k][getattr(after, k)] for k in NAMES}}
    guarded = (c.id == int(before.id)) & (c.version == before.version)
    result = session.execute(update(c).where(guarded).values(**values))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleVersion(f"Claim {before.id} was changed meanwhile; re-read it.")
    _mark_last_of_day(session, _series_keys(ids, [before, after]))


def _columns(x: Claim) -> dict[str, Any]:
    """The claim's own columns (not its references), as stored."""
    return {
        "location": x.location,
        "location_key": normalise(x.location),
        "figure_text": x.figure.text,
        "low": x.figure.low,
        "high": x.figure.high,
        "point": x.figure.point,
        "qualifier": x.figure.qualifier.value,
        "as_of": x.as_of,
        "claimant": x.claimant,
        "claimant_key": normalise(x.claimant),
        "url": x.url,
        "quote": x.quote,
        "published_at": x.published_at,
        "cites_id": int(x.cites) if x.cites else None,
        "note": x.note,
        "status": x.status,
        "disputed": x.disputed,
        "retraction": _retraction_json(x.retraction),
        "version": x.version,
        "created_at": x.created_at,
        "updated_at": x.updated_at,
    }


def insert_revisions(session: Session, revisions: list[Revision]) -> None:
    """Append revisions (one INSERT for them all; never updated, never deleted)."""
    # (An empty list would insert one row of defaults.)
    if revisions:
        session.connection().execute(
            insert(table_of(models.ClaimRevision)),
            [
                {
                    "claim_id": int(r.claim.id),
                    "version": r.version,
                    "recorded_at": r.recorded_at,
                    "actor": r.actor,
                    "reason": r.reason,
                    "changes": r.changes,
                    "snapshot": snapshot_of(r.claim),
                }
                for r in revisions
            ],
        )


# --- the stored snapshot of a revision -----------------------------------------------------


def snapshot_of(x: Claim) -> dict[str, Any]:
    """The claim as a revision stores it: JSON, as clients see it (without superseded_by)."""
    return {
        "id": x.id,
        "version": x.version,
        "status": x.status,
        "disputed": x.disputed,
        "event": x.event,
        "metric": x.metric,
        "population": x.population,
        "location": x.location,
        "figure": {
            "text": x.figure.text,
            "low": x.figure.low,
            "high": x.figure.high,
            "point": x.figure.point,
            "qualifier": x.figure.qualifier.value,
        },
        "as_of": x.as_of.isoformat(),
        "claimant": x.claimant,
        "source": x.source,
        "url": x.url,
        "quote": x.quote,
        "published_at": x.published_at.isoformat() if x.published_at else None,
        "cites": x.cites,
        "note": x.note,
        "retraction": _retraction_json(x.retraction),
        "created_at": x.created_at.isoformat(),
        "updated_at": x.updated_at.isoformat(),
    }


def claim_of_snapshot(snap: dict[str, Any]) -> Claim:
    """The claim a revision stored (the inverse of snapshot_of)."""
    figure, retraction = snap["figure"], snap["retraction"]
    return Claim(
        id=snap["id"],
        version=snap["version"],
        status=snap["status"],
        disputed=snap["disputed"],
        event=snap["event"],
        metric=snap["metric"],
        population=snap["population"],
        location=snap["location"],
        figure=Figure(
            figure["text"],
            figure["low"],
            figure["high"],
            figure["point"],
            QUALIFIERS[figure["qualifier"]],
        ),
        as_of=date.fromisoformat(snap["as_of"]),
        claimant=snap["claimant"],
        source=snap["source"],
        url=snap["url"],
        quote=snap["quote"],
        published_at=_moment(snap["published_at"]),
        cites=snap["cites"],
        note=snap["note"],
        retraction=_retraction(retraction) if retraction else None,
        created_at=datetime.fromisoformat(snap["created_at"]),
        updated_at=datetime.fromisoformat(snap["updated_at"]),
    )


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _retraction_json(retraction: Retraction | None) -> dict[str, Any] | None:
    if retraction is None:
        return None
    return {
        "reason": retraction.reason,
        "url": retraction.url,
        "retracted_at": retraction.retracted_at.isoformat(),
    }


# --- disputes ------------------------------------------------------------------------------


def _dispute(row: models.Dispute) -> Dispute:
    return Dispute(
        str(row.id),
        str(row.claim_id),
        row.by,
        row.reason,
        row.url,
        row.created_at,
        row.closed_at,
        row.close_note,
    )


def dispute_notes(session: Session, ids: set[str]) -> dict[str, OpenDispute]:
    """Who opened the disputes with those ids and why, by id."""
    query = select(d.id, d.by, d.reason).where(d.id.in_({int(i) for i in ids}))
    return {str(i): OpenDispute(str(i), by, reason) for i, by, reason in session.execute(query)}


def disputes_of(session: Session, claim_id: str) -> list[Dispute]:
    """The claim's disputes, oldest first."""
    query = select(d).where(d.claim_id == parse_id(claim_id)).order_by(d.id)
    return [_dispute(row) for row in session.scalars(query)]


def insert_dispute(
    session: Session, claim_id: str, by: str, reason: str, url: str | None, now: datetime
) -> Dispute:
    row = models.Dispute(claim_id=int(claim_id), by=by, reason=reason, url=url, created_at=now)
    session.add(row)
    session.flush()
    return _dispute(row)


def close_dispute(
    session: Session, claim_id: str, dispute_id: str, note: str | None, now: datetime
) -> Dispute:
    """Close the claim's dispute (the caller checked it is open); NotFound when it has none."""
    row = _dispute_row(session, claim_id, dispute_id)
    row.closed_at, row.close_note = now, note
    session.flush()
    return _dispute(row)


def get_dispute(session: Session, claim_id: str, dispute_id: str) -> Dispute:
    """The claim's dispute with that id; NotFound when it has none."""
    return _dispute(_dispute_row(session, claim_id, dispute_id))


def _dispute_row(session: Session, claim_id: str, dispute_id: str) -> models.Dispute:
    number = parse_id(dispute_id)
    row = session.get(d, number) if number else None
    if row is None or str(row.claim_id) != claim_id:
        raise NotFound(f"Claim {claim_id} has no dispute {dispute_id}.")
    return row
