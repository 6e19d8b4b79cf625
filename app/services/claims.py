"""Claims: record, correct, retract and dispute them; every change is a new revision."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, insert, inspect
from sqlalchemy.orm import Session

from app import models, repository
from app.db import begin_write
from app.domain.conflicts import superseded_by
from app.domain.figures import figure_from_parts, parse_figure
from app.domain.model import (
    Figure,
    InvalidInput,
    NotFound,
    PreconditionRequired,
    StaleVersion,
    StateConflict,
)
from app.models import utcnow
from app.schemas import (
    ClaimCreate,
    ClaimUpdate,
    DisputeClose,
    DisputeCreate,
    FigureBounds,
    FigureIn,
    FigureValue,
    RetractBody,
)
from app.services import detection, webhooks

Snapshot = repository.claims.Snapshot

# Claim fields a client sets, in the order of SPEC §3; the rest are Tally's.
CLIENT_FIELDS = (
    "event", "metric", "population", "location", "figure", "as_of", "claimant", "source",
    "url", "quote", "published_at", "cites", "note",
)  # fmt: skip


def normalise(text: str | None) -> str:
    """The comparison key of a claimant or location: case- and space-insensitive."""
    return " ".join((text or "").casefold().split())


def to_figure(value: FigureIn, tolerance: float) -> Figure:
    """The normalised figure of a text or structured figure; InvalidFigure names `figure`."""
    if isinstance(value, FigureValue):
        return figure_from_parts(value=value.value, qualifier=value.qualifier, tolerance=tolerance)
    if isinstance(value, FigureBounds):
        return figure_from_parts(low=value.low, high=value.high, point=value.point)
    return parse_figure(value, tolerance=tolerance)


def _set_fields(
    session: Session, row: models.Claim, fields: dict[str, Any], tolerance: float
) -> None:
    """Apply client fields to a row, resolving names; InvalidInput names the field at fault."""
    for name, value in fields.items():
        _SETTERS[name](session, row, value, tolerance)


def _set_event(session: Session, row: models.Claim, slug: str, _: float) -> None:
    row.event = repository.resources.get_event(session, slug, field="event")


def _set_metric(session: Session, row: models.Claim, name: str, _: float) -> None:
    row.metric = repository.resources.get_metric(session, name, field="metric")


def _set_population(session: Session, row: models.Claim, name: str, _: float) -> None:
    row.population = repository.resources.get_population(session, name, field="population")


def _set_source(session: Session, row: models.Claim, slug: str, _: float) -> None:
    row.source = repository.resources.get_source(session, slug, field="source")


def _set_location(_: Session, row: models.Claim, location: str | None, __: float) -> None:
    row.location, row.location_key = location, normalise(location)


def _set_claimant(_: Session, row: models.Claim, claimant: str, __: float) -> None:
    row.claimant, row.claimant_key = claimant, normalise(claimant)


def _set_figure(_: Session, row: models.Claim, value: FigureIn, tolerance: float) -> None:
    figure = _named(lambda: to_figure(value, tolerance), "figure")
    row.figure_text, row.qualifier = figure.text, figure.qualifier.value
    row.low, row.high, row.point = figure.low, figure.high, figure.point


def _set_cites(session: Session, row: models.Claim, claim_id: str | None, _: float) -> None:
    if claim_id is None:
        row.cites_id = None
        return
    cited: models.Claim | None = repository.claims.get_claim(session, claim_id, field="cites")
    while cited is not None:  # a claim cannot relay itself, even through others
        if row.id is not None and cited.id == row.id:
            raise InvalidInput("A claim cannot cite itself.", field="cites")
        cited = session.get(models.Claim, cited.cites_id) if cited.cites_id else None
    row.cites_id = int(claim_id)


def _set_plain(name: str) -> Any:
    def setter(_: Session, row: models.Claim, value: Any, __: float) -> None:
        setattr(row, name, str(value) if name == "url" and value is not None else value)

    return setter


_SETTERS = {
    "event": _set_event,
    "metric": _set_metric,
    "population": _set_population,
    "source": _set_source,
    "location": _set_location,
    "claimant": _set_claimant,
    "figure": _set_figure,
    "cites": _set_cites,
    **{name: _set_plain(name) for name in ("as_of", "url", "quote", "published_at", "note")},
}


def _named(make: Any, field: str) -> Any:
    try:
        return make()
    except InvalidInput as error:
        error.field = field
        raise


def record_claims(
    session: Session, items: list[tuple[ClaimCreate, str]], tolerance: float
) -> list[Snapshot | InvalidInput]:
    """Record new claims, each on its own (a bad one never blocks the others), atomically.

    `items` are (claim, actor). Every claim is checked before any is written, and the good
    ones are inserted together; the conflict engine then runs once over every group they
    touch. The result holds each claim's snapshot (with superseded_by) or why it was refused.
    """
    begin_write(session)
    bodies = [body for body, _ in items]
    # Every event the claims touch, locked up front in id order: locks taken claim by claim
    # could deadlock with another writer.
    cited = {int(body.cites) for body in bodies if body.cites}
    repository.claims.lock_events(session, slugs={body.event for body in bodies}, claim_ids=cited)
    ids = {
        kind: repository.resources.ids_by_name(
            session, kind, {getattr(body, kind) for body in bodies}
        )
        for kind in repository.resources.NAMES
    }
    outcomes = [_checked(session, body, ids, tolerance) for body in bodies]
    recorded = [
        (row, body, actor)
        for row, (body, actor) in zip(outcomes, items, strict=True)
        if isinstance(row, models.Claim)
    ]
    rows = [row for row, _, _ in recorded]
    session.add_all(rows)
    session.flush()  # one INSERT for them all
    snapshots: dict[int, Snapshot] = {}
    revisions = []
    for row, body, actor in recorded:
        names = {kind: getattr(body, kind) for kind in repository.resources.NAMES}
        after = snapshots[row.id] = repository.claims.snapshot(row, names)
        first = {k: after[k] for k in CLIENT_FIELDS}
        revisions.append(_revision(row, after, actor, None, first, row.created_at))
    _add_revisions(session, revisions)
    for row in rows:
        webhooks.emit(session, "claim.created", partial(_created_view, session, row))
    successors = detection.reevaluate(session, rows, utcnow(), new=True) if rows else {}
    session.commit()
    return [
        o if isinstance(o, InvalidInput) else _with(successors, snapshots[o.id]) for o in outcomes
    ]


def _with(successors: dict[str, str | None], snap: Snapshot) -> Snapshot:
    """The claim's snapshot with its superseded_by (the revision keeps the one without)."""
    return {**snap, "superseded_by": successors.get(snap["id"])}


def _created_view(session: Session, row: models.Claim) -> Snapshot:
    return with_successors(session, [row])[0]


def _checked(
    session: Session, body: ClaimCreate, ids: dict[str, dict[str, int]], tolerance: float
) -> models.Claim | InvalidInput:
    """A new claim row, not yet in the session, or why it is refused (naming the field).

    Its event, metric, population and source are set by id (`ids`: ids_by_name of
    each kind), not as rows: loading them was a tenth of a new claim's cost.
    """
    fields = body.model_dump(exclude_unset=True, exclude=set(repository.resources.NAMES))
    fields["figure"] = body.figure
    if body.as_of is None:
        fields["as_of"] = body.published_at.date() if body.published_at else date.today()
    now = utcnow()
    row = models.Claim(status="active", disputed=False, created_at=now, updated_at=now)
    _set_location(session, row, None, tolerance)
    try:
        for kind in repository.resources.NAMES:
            name = getattr(body, kind)
            if name not in ids[kind]:
                raise repository.common.unknown(kind, name, field=kind)
            setattr(row, f"{kind}_id", ids[kind][name])
        _set_fields(session, row, fields, tolerance)
    except InvalidInput as error:
        return error
    return row


def update_claim(
    session: Session,
    claim_id: str,
    body: ClaimUpdate,
    if_match: str | None,
    actor: str,
    tolerance: float,
) -> Snapshot:
    """Apply a correction as a new version; If-Match must name the current version."""
    if if_match is None:
        raise PreconditionRequired('Send If-Match: "<version>" with the ETag you last read.')
    begin_write(session)
    row = repository.claims.get_claim(session, claim_id)
    _lock(session, row)
    _check_version(row, if_match)
    before = repository.claims.snapshot(row)
    fields = body.model_dump(exclude_unset=True, exclude={"reason"})
    if "figure" in fields:
        fields["figure"] = body.figure
    _set_fields(session, row, fields, tolerance)
    _lock(session, row, refresh=False)  # the event or cited claim may have changed
    return _commit_change(session, row, before, actor, body.reason)


def retract_claim(session: Session, claim_id: str, body: RetractBody, actor: str) -> Snapshot:
    """Mark a claim retracted (it stays readable forever); a second retraction is refused."""
    begin_write(session)
    row = repository.claims.get_claim(session, claim_id)
    _lock(session, row)
    if row.status == "retracted":
        raise StateConflict(f"Claim {claim_id} is already retracted.")
    before = repository.claims.snapshot(row)
    row.status = "retracted"
    retracted_at = body.retracted_at or utcnow()
    row.retraction = {
        "reason": body.reason,
        "url": str(body.url) if body.url else None,
        "retracted_at": retracted_at.isoformat(),
    }
    return _commit_change(session, row, before, actor, body.reason, "claim.retracted")


def open_dispute(
    session: Session, claim_id: str, body: DisputeCreate, actor: str
) -> models.Dispute:
    """Record a party's objection; the claim is disputed while any dispute is open."""
    begin_write(session)
    row = repository.claims.get_claim(session, claim_id)
    _lock(session, row)
    before = repository.claims.snapshot(row)
    dispute = models.Dispute(
        claim_id=row.id, by=body.by, reason=body.reason, url=str(body.url) if body.url else None
    )
    session.add(dispute)
    row.disputed = True
    reason = f"Disputed by {body.by}: {body.reason}"
    _commit_change(session, row, before, actor, reason, "claim.disputed")
    return dispute


def close_dispute(
    session: Session, claim_id: str, dispute_id: str, body: DisputeClose, actor: str
) -> models.Dispute:
    """Close an open dispute; the claim stays disputed while others are open."""
    begin_write(session)
    row = repository.claims.get_claim(session, claim_id)
    _lock(session, row)
    dispute = repository.claims.get_dispute(session, row.id, dispute_id)
    if dispute.closed_at is not None:
        raise StateConflict(f"Dispute {dispute_id} is already closed.")
    before = repository.claims.snapshot(row)
    dispute.closed_at, dispute.close_note = utcnow(), body.note
    session.flush()
    row.disputed = any(
        d.closed_at is None for d in repository.claims.disputes_of(session, {row.id})
    )
    reason = f"Dispute {dispute_id} by {dispute.by} closed" + (
        f": {body.note}" if body.note else ""
    )
    _commit_change(session, row, before, actor, reason)
    return dispute


def _check_version(row: models.Claim, if_match: str) -> None:
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")]
    if "*" not in tags and str(row.version) not in tags:
        raise StaleVersion(
            f"Claim {row.id} is at version {row.version}; re-read it and apply your change again."
        )


def _lock(session: Session, row: models.Claim, *, refresh: bool = True) -> None:
    """Lock the events the change touches (its own, its cited claim's), then re-read the row."""
    cited = {row.cites_id} if row.cites_id else set()
    repository.claims.lock_events(session, ids={row.event.id}, claim_ids=cited)
    if refresh and inspect(row).persistent:
        # Read the row again under the lock: another writer may have changed it meanwhile.
        session.refresh(row)


def _commit_change(
    session: Session,
    row: models.Claim,
    before: Snapshot,
    actor: str,
    reason: str,
    event: str = "claim.updated",  # closing a dispute is an update too
) -> Snapshot:
    now = utcnow()
    row.updated_at = now
    session.flush()  # bumps the version, or fails if another writer bumped it first
    after = repository.claims.snapshot(row)
    changes = {
        k: {"from": before[k], "to": after[k]}
        for k in (*CLIENT_FIELDS, "status", "disputed", "retraction")
        if before[k] != after[k]
    }
    _add_revisions(session, [_revision(row, after, actor, reason, changes, now)])
    webhooks.emit(session, event, lambda: with_successors(session, [row])[0])
    current = _with(detection.reevaluate(session, [row], now), after)
    session.commit()
    return current


def _revision(
    row: models.Claim,
    snap: Snapshot,
    actor: str,
    reason: str | None,
    changes: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The claim_revision row of a change: the claim after it, and what changed."""
    return {
        "claim_id": row.id,
        "version": row.version,
        "recorded_at": now,
        "actor": actor,
        "reason": reason,
        "changes": changes,
        "snapshot": snap,
    }


def _add_revisions(session: Session, revisions: list[dict[str, Any]]) -> None:
    # As rows, not ORM objects (nothing reads them back in the transaction): one INSERT for
    # a batch, without the unit of work's cost per object. (An empty list would insert one
    # row of defaults.)
    if revisions:
        session.execute(insert(models.ClaimRevision), revisions)


def read_claim(session: Session, claim_id: str, as_of: datetime | None = None) -> Snapshot:
    """The claim now, or as the ledger knew it at `as_of` (NotFound before it was recorded)."""
    row = repository.claims.get_claim(session, claim_id)
    if as_of is None:
        return with_successors(session, [row])[0]
    revisions = repository.claims.revisions_at(session, as_of, models.Claim.id == row.id)
    if not revisions:
        raise NotFound(f"Claim {claim_id} was not recorded yet at {as_of.isoformat()}.")
    return _successors_at(session, [revisions[0].snapshot], row, as_of)[0]


def list_claims(
    session: Session, filters: dict[str, str | None], after: int, limit: int
) -> tuple[list[Snapshot], bool]:
    """A page of claims by id, and whether more follow."""
    rows = repository.common.page(
        session, models.Claim, after, limit, *claim_where(session, filters)
    )
    return with_successors(session, rows[:limit]), len(rows) > limit


def claim_where(session: Session, filters: dict[str, str | None]) -> list[ColumnElement[bool]]:
    """The claims list's filters as WHERE clauses; unknown names are InvalidInput naming them."""
    named = {name: value for name, value in filters.items() if name != "claimant"}
    if filters.get("claimant") is not None:
        named["claimant_key"] = normalise(filters["claimant"])
    return repository.claims.claim_filters(session, **named)


def list_disputes(session: Session, claim_id: str) -> list[models.Dispute]:
    return repository.claims.disputes_of(
        session, {repository.claims.get_claim(session, claim_id).id}
    )


def list_revisions(session: Session, claim_id: str) -> list[models.ClaimRevision]:
    """Every version of the claim, oldest first."""
    return repository.claims.revisions(session, repository.claims.get_claim(session, claim_id).id)


def with_successors(session: Session, rows: list[models.Claim]) -> list[Snapshot]:
    """Snapshots of `rows` with superseded_by, decided among the same claimants' claims."""
    peers = detection.current_facts(session, repository.claims.same_claimant_claims(session, rows))
    successors = superseded_by(peers)
    return [
        {**repository.claims.snapshot(r), "superseded_by": successors.get(str(r.id))} for r in rows
    ]


def _successors_at(
    session: Session, snaps: list[Snapshot], row: models.Claim, moment: datetime
) -> list[Snapshot]:
    c = models.Claim
    peer_revisions = repository.claims.revisions_at(
        session,
        moment,
        c.event_id == row.event_id,
        c.metric_id == row.metric_id,
        c.claimant_key.in_({normalise(s["claimant"]) for s in snaps}),
    )
    peers = detection.facts_of_snapshots(session, [r.snapshot for r in peer_revisions])
    successors = superseded_by(peers)
    return [{**s, "superseded_by": successors.get(s["id"])} for s in snaps]
