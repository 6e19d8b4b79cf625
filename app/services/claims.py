"""Claims: record, correct, retract and dispute them; every change is a new revision."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from app import repository
from app.db import begin_write
from app.domain.conflicts import superseded_by
from app.domain.figures import figure_from_parts, parse_figure
from app.domain.model import (
    Claim,
    ClaimFilter,
    Dispute,
    Figure,
    InvalidInput,
    NotFound,
    PreconditionRequired,
    Retraction,
    Revision,
    StaleVersion,
    StateConflict,
    utcnow,
)
from app.repository.resources import NAMES
from app.schemas import (
    ClaimCreate,
    ClaimRead,
    ClaimUpdate,
    ConflictRead,
    DisputeClose,
    DisputeCreate,
    FigureBounds,
    FigureIn,
    FigureValue,
    RetractBody,
)
from app.services import detection, webhooks
from app.services.detection import Detection

# Claim fields a client sets, in the order of SPEC §3; the rest are Tally's.
CLIENT_FIELDS = (
    "event", "metric", "population", "location", "figure", "as_of", "claimant", "source",
    "url", "quote", "published_at", "cites", "note",
)  # fmt: skip
# What a revision's `changes` compare: the client's fields and the claim's state.
TRACKED = (*CLIENT_FIELDS, "status", "disputed", "retraction")


def to_figure(value: FigureIn, tolerance: float) -> Figure:
    """The normalised figure of a text or structured figure; InvalidFigure names `figure`."""
    try:
        if isinstance(value, FigureValue):
            return figure_from_parts(
                value=value.value, qualifier=value.qualifier, tolerance=tolerance
            )
        if isinstance(value, FigureBounds):
            return figure_from_parts(low=value.low, high=value.high, point=value.point)
        return parse_figure(value, tolerance=tolerance)
    except InvalidInput as error:
        error.field = "figure"
        raise


# --- new claims ----------------------------------------------------------------------------


def record_claims(
    session: Session, items: list[tuple[ClaimCreate, str]], tolerance: float
) -> list[Claim | Exception]:
    """Record new claims, each on its own (a bad one never blocks the others), atomically.

    `items` are (claim, actor). Every claim is checked before any is written, and the good
    ones are inserted together; the conflict engine then runs once over every group they
    touch. The result holds each claim (with superseded_by) or why it was refused: an
    InvalidInput naming the field, or the unexpected error that checking it raised (which
    fails that claim alone, never the others batched with it).
    """
    begin_write(session)
    bodies = [body for body, _ in items]
    # Every event the claims touch, locked up front in id order: locks taken claim by claim
    # could deadlock with another writer.
    cited = {body.cites for body in bodies if body.cites}
    repository.claims.lock_events(session, slugs={body.event for body in bodies}, claims=cited)
    ids = {
        kind: repository.resources.ids_by_name(session, kind, {getattr(b, kind) for b in bodies})
        for kind in NAMES
    }
    now = utcnow()
    checked = [_checked(session, body, ids, tolerance, now) for body in bodies]
    actors = [actor for (_, actor), c in zip(items, checked, strict=True) if isinstance(c, Claim)]
    recorded = iter(
        repository.claims.insert_claims(session, [c for c in checked if isinstance(c, Claim)])
    )
    outcomes = [next(recorded) if isinstance(c, Claim) else c for c in checked]
    claims = [c for c in outcomes if isinstance(c, Claim)]
    repository.claims.insert_revisions(
        session,
        [
            Revision(1, now, actor, None, _first(claim), claim)
            for claim, actor in zip(claims, actors, strict=True)
        ],
    )
    if not claims:
        session.rollback()
        return outcomes
    found = detection.reevaluate(session, claims, now, new=True)
    outbox = webhooks.Outbox(session)
    current = {c.id: _current(c, found) for c in claims}
    for claim in current.values():  # rendered only if a webhook subscribes to it
        outbox.emit("claim.created", partial(ClaimRead.of, claim))
    _emit_conflicts(outbox, found)
    session.commit()
    return [current[o.id] if isinstance(o, Claim) else o for o in outcomes]


def _checked(
    session: Session,
    body: ClaimCreate,
    ids: dict[str, dict[str, int]],
    tolerance: float,
    now: datetime,
) -> Claim | Exception:
    """A new claim (not yet recorded: no id), or why it is refused (naming the field)."""
    try:
        for kind in NAMES:
            name = getattr(body, kind)
            if name not in ids[kind]:
                raise repository.common.unknown(kind, name, kind, session)
        if body.cites is not None:
            repository.claims.get_claim(session, body.cites, field="cites")
        figure = to_figure(body.figure, tolerance)
    except Exception as error:  # this claim's own fault, whatever it is: see record_claims
        return error
    as_of = body.as_of or (body.published_at.date() if body.published_at else date.today())
    return Claim(
        id="",
        version=1,
        status="active",
        disputed=False,
        event=body.event,
        metric=body.metric,
        population=body.population,
        location=body.location,
        figure=figure,
        as_of=as_of,
        claimant=body.claimant,
        source=body.source,
        url=str(body.url) if body.url is not None else None,
        quote=body.quote,
        published_at=body.published_at,
        cites=body.cites,
        note=body.note,
        retraction=None,
        created_at=now,
        updated_at=now,
    )


def _first(claim: Claim) -> dict[str, Any]:
    """The `changes` of a claim's first revision: every client field, as recorded."""
    snap = repository.claims.snapshot_of(claim)
    return {name: snap[name] for name in CLIENT_FIELDS}


# --- changes -------------------------------------------------------------------------------


def update_claim(
    session: Session,
    claim_id: str,
    body: ClaimUpdate,
    if_match: str | None,
    actor: str,
    tolerance: float,
) -> Claim:
    """Apply a correction as a new version; If-Match must name the current version."""
    if if_match is None:
        raise PreconditionRequired('Send If-Match: "<version>" with the ETag you last read.')
    begin_write(session)
    before = _locked(session, claim_id)
    _check_version(before, if_match)
    fields = body.model_dump(exclude_unset=True, exclude={"reason"})
    after = _corrected(session, before, fields, body, tolerance)
    # The claim's new event, or its newly cited claim's, is written to as well.
    repository.claims.lock_events(session, slugs={after.event}, claims=_cited(after))
    return _commit_change(session, before, after, actor, body.reason)


def _corrected(
    session: Session, before: Claim, fields: dict[str, Any], body: ClaimUpdate, tolerance: float
) -> Claim:
    """The claim with the client's fields applied; InvalidInput names the field at fault."""
    changes = {name: value for name, value in fields.items() if name in CLIENT_FIELDS}
    for kind in NAMES:
        name = changes.get(kind)
        if name is not None and name not in repository.resources.ids_by_name(session, kind, {name}):
            raise repository.common.unknown(kind, name, kind, session)
    if "figure" in changes:
        changes["figure"] = to_figure(body.figure, tolerance)  # type: ignore[arg-type]
    if changes.get("url") is not None:
        changes["url"] = str(changes["url"])
    if changes.get("cites") is not None:
        _check_cites(session, before.id, changes["cites"])
    return replace(before, **changes)


def _check_cites(session: Session, claim_id: str, cites: str) -> None:
    """The cited claim exists, and the claim does not relay itself, even through others."""
    cited: Claim | None = repository.claims.get_claim(session, cites, field="cites")
    while cited is not None:
        if cited.id == claim_id:
            raise InvalidInput("A claim cannot cite itself.", field="cites")
        cited = repository.claims.get_claim(session, cited.cites) if cited.cites else None


def retract_claim(session: Session, claim_id: str, body: RetractBody, actor: str) -> Claim:
    """Mark a claim retracted (it stays readable forever); a second retraction is refused."""
    begin_write(session)
    before = _locked(session, claim_id)
    if before.retracted:
        raise StateConflict(f"Claim {claim_id} is already retracted.")
    retraction = Retraction(
        body.reason, str(body.url) if body.url else None, body.retracted_at or utcnow()
    )
    after = replace(before, status="retracted", retraction=retraction)
    return _commit_change(session, before, after, actor, body.reason, "claim.retracted")


def open_dispute(session: Session, claim_id: str, body: DisputeCreate, actor: str) -> Dispute:
    """Record a party's objection; the claim is disputed while any dispute is open."""
    begin_write(session)
    before = _locked(session, claim_id)
    url = str(body.url) if body.url else None
    dispute = repository.claims.insert_dispute(
        session, before.id, body.by, body.reason, url, utcnow()
    )
    reason = f"Disputed by {body.by}: {body.reason}"
    after = replace(before, disputed=True)
    _commit_change(session, before, after, actor, reason, "claim.disputed")
    return dispute


def close_dispute(
    session: Session, claim_id: str, dispute_id: str, body: DisputeClose, actor: str
) -> Dispute:
    """Close an open dispute; the claim stays disputed while others are open."""
    begin_write(session)
    before = _locked(session, claim_id)
    if repository.claims.get_dispute(session, before.id, dispute_id).closed_at is not None:
        raise StateConflict(f"Dispute {dispute_id} is already closed.")
    dispute = repository.claims.close_dispute(session, before.id, dispute_id, body.note, utcnow())
    still_open = any(d.closed_at is None for d in repository.claims.disputes_of(session, before.id))
    reason = f"Dispute {dispute_id} by {dispute.by} closed" + (
        f": {body.note}" if body.note else ""
    )
    _commit_change(session, before, replace(before, disputed=still_open), actor, reason)
    return dispute


def _locked(session: Session, claim_id: str) -> Claim:
    """The claim, read again once the events a change to it touches are locked (its own, and
    its cited claim's): another writer may have changed it meanwhile."""
    claim = repository.claims.get_claim(session, claim_id)
    repository.claims.lock_events(session, slugs={claim.event}, claims=_cited(claim))
    return repository.claims.get_claim(session, claim_id)


def _cited(claim: Claim) -> set[str]:
    return {claim.cites} if claim.cites else set()


def _check_version(claim: Claim, if_match: str) -> None:
    tags = [tag.strip().removeprefix("W/").strip('"') for tag in if_match.split(",")]
    if "*" not in tags and str(claim.version) not in tags:
        raise StaleVersion(
            f"Claim {claim.id} is at version {claim.version}; re-read it and apply your change"
            " again."
        )


def _commit_change(
    session: Session,
    before: Claim,
    after: Claim,
    actor: str,
    reason: str,
    event: str = "claim.updated",  # closing a dispute is an update too
) -> Claim:
    """Store the change as the claim's next version and revision, re-detect, notify, commit."""
    now = utcnow()
    after = replace(after, version=before.version + 1, updated_at=now, superseded_by=None)
    repository.claims.update_claim(session, before, after)
    old, new = repository.claims.snapshot_of(before), repository.claims.snapshot_of(after)
    changes = {k: {"from": old[k], "to": new[k]} for k in TRACKED if old[k] != new[k]}
    revision = Revision(after.version, now, actor, reason, changes, after)
    repository.claims.insert_revisions(session, [revision])
    found = detection.reevaluate(session, [after], now, before=[before])
    current = _current(after, found)
    outbox = webhooks.Outbox(session)
    outbox.emit(event, ClaimRead.of(current))
    _emit_conflicts(outbox, found)
    session.commit()
    return current


def _current(claim: Claim, found: Detection) -> Claim:
    return replace(claim, superseded_by=found.successors.get(claim.id))


def _emit_conflicts(outbox: webhooks.Outbox, found: Detection) -> None:
    for conflict in found.cleared:
        outbox.emit("conflict.cleared", ConflictRead.of(conflict))
    for conflict in found.opened:
        outbox.emit("conflict.opened", ConflictRead.of(conflict))


# --- reads ---------------------------------------------------------------------------------


def read_claim(session: Session, claim_id: str, at: datetime | None = None) -> Claim:
    """The claim now, or as the ledger knew it at `at` (NotFound before it was recorded)."""
    claim = repository.claims.get_claim(session, claim_id)
    if at is None:
        return with_successors(session, [claim])[0]
    found = repository.claims.claims_at(session, at, claim=claim.id)
    if not found:
        raise NotFound(f"Claim {claim_id} was not recorded yet at {at.isoformat()}.")
    then = found[0]
    peers = repository.claims.claims_at(
        session, at, event=then.event, metric=then.metric, claimants={then.claimant}
    )
    return replace(then, superseded_by=superseded_by(peers).get(then.id))


def list_claims(
    session: Session, filters: ClaimFilter, after: int, limit: int
) -> tuple[list[Claim], bool]:
    """A page of claims by id, and whether more follow."""
    claims = repository.claims.page_claims(session, filters, after, limit)
    return with_successors(session, claims[:limit]), len(claims) > limit


def list_disputes(session: Session, claim_id: str) -> list[Dispute]:
    return repository.claims.disputes_of(session, repository.claims.get_claim(session, claim_id).id)


def list_revisions(session: Session, claim_id: str) -> list[Revision]:
    """Every version of the claim, oldest first."""
    return repository.claims.revisions(session, repository.claims.get_claim(session, claim_id).id)


def with_successors(session: Session, claims: list[Claim]) -> list[Claim]:
    """The claims with superseded_by, decided among the same claimants' claims."""
    successors = superseded_by(repository.claims.chains_of(session, claims))
    return [replace(x, superseded_by=successors.get(x.id)) for x in claims]
