"""A claim's page, and the editor's forms: a new claim, a correction, a retraction, a dispute
and its closing. Each form runs the service the API runs, as the signed-in key."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.api.deps import RecorderDep, SessionDep, SettingsDep
from app.domain.model import Claim, ClaimFilter, DomainError, InvalidInput, StaleVersion
from app.schemas import ClaimCreate, ClaimUpdate, DisputeClose, DisputeCreate, RetractBody
from app.services import claims, conflicts, resources, watch
from app.services.desk import DeskUser
from app.services.sessions import Session
from app.web.deps import Editor, Form, Once, User, text
from app.web.forms import CLAIM_FIELDS, Errors, domain_errors, filled, read
from app.web.pages import DeskRoute, day, redirect, render
from app.web.views import form_values, revision_views

router = APIRouter(route_class=DeskRoute, include_in_schema=False)

NOTICES = {
    "created": "The claim is recorded.",
    "corrected": "Your correction is recorded as a new version.",
    "retracted": "The claim is marked retracted. It stays in the ledger, as every claim does.",
    "disputed": "The dispute is recorded; the claim is disputed while it is open.",
    "closed": "The dispute is closed.",
}
Done = Annotated[str | None, Query(max_length=20)]
Action = Callable[[Any], object]  # a service call, given the form's body


def choices(session: Session) -> dict[str, Any]:
    """What the claim forms offer to choose from: every event, metric, population, source."""
    return {
        "events": resources.list_events(session, 0, 1000),
        "metrics": resources.list_metrics(session, 0, 1000),
        "populations": resources.list_populations(session, 0, 1000),
        "sources": resources.list_sources(session, 0, 1000),
    }


# --- a new claim ----------------------------------------------------------------------------


@router.get("/claims/new")
def new_claim_page(
    request: Request,
    session: SessionDep,
    user: Editor,
    event: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    values = {"event": event or "", "population": "all"}
    return _new_claim_form(request, session, values, {})


def _new_claim_form(
    request: Request, session: Session, values: dict[str, str], errors: Errors, status: int = 200
) -> Response:
    context = {"values": values, "errors": errors, "once": secrets.token_urlsafe(24)}
    return render(request, "claim_new.html", context | choices(session), status)


@router.post("/claims/new")
def new_claim(
    request: Request,
    session: SessionDep,
    user: Editor,
    form: Form,
    once: Once,
    recorder: RecorderDep,
) -> Response:
    values = filled(form, CLAIM_FIELDS)
    body = read(ClaimCreate, values)
    if not isinstance(body, ClaimCreate):
        return _new_claim_form(request, session, dict(values), body, 422)

    def record() -> str:
        return f"/claims/{recorder.record(body, user.principal.name).id}?done=created"

    try:
        return redirect(once.run(user, form, record))
    except InvalidInput as error:
        return _new_claim_form(request, session, dict(values), domain_errors(error), 422)


# --- a claim's page -------------------------------------------------------------------------


@router.get("/claims/{claim_id}")
def claim_page(
    request: Request, claim_id: str, session: SessionDep, user: User, done: Done = None
) -> Response:
    claim = claims.read_claim(session, claim_id)
    context = _claim_context(session, claim, user.can_edit)
    context["notice"] = NOTICES.get(done or "")
    return render(request, "claim.html", context)


def _claim_context(session: Session, claim: Claim, can_edit: bool) -> dict[str, Any]:
    revisions = claims.list_revisions(session, claim.id)
    context: dict[str, Any] = {
        "claim": claim,
        "event": resources.get_event(session, claim.event),
        "labels": _labels(session, claim.event),
        "source": resources.get_source(session, claim.source),
        "cited": claims.read_claim(session, claim.cites) if claim.cites else None,
        "successor": claims.read_claim(session, claim.superseded_by)
        if claim.superseded_by
        else None,
        "disputes": claims.list_disputes(session, claim.id),
        "conflicts": sorted(
            conflicts.claim_conflicts(session, claim.id),
            key=lambda c: (c.status != "open", c.opened_at),
        ),
        "revisions": revision_views(revisions),
        "checks": watch.list_checks(session, claim.id),
        "values": form_values(claim),
        "errors": {},
    }
    if can_edit:
        context.update(choices(session))
    return context


def _labels(session: Session, event: str) -> dict[str, str]:
    """Short labels of the event's claims (the first thousand), for the links to them."""
    found, _ = claims.list_claims(session, ClaimFilter(event=event), 0, 1000)
    return {c.id: f"{c.figure.text}, {c.claimant} ({c.source}, {day(c.as_of)})" for c in found}


def _claim_page_with(
    request: Request,
    session: Session,
    claim_id: str,
    user: DeskUser,
    status: int,
    **more: Any,
) -> Response:
    """The claim's page again, after a refused form (the form keeps what was typed)."""
    session.rollback()  # the refused write's transaction, and its lock, end here
    context = _claim_context(session, claims.read_claim(session, claim_id), user.can_edit)
    return render(request, "claim.html", context | more, status)


# --- corrections ----------------------------------------------------------------------------


@router.post("/claims/{claim_id}/correct")
def correct_claim(
    request: Request,
    claim_id: str,
    session: SessionDep,
    settings: SettingsDep,
    user: Editor,
    form: Form,
) -> Response:
    shown = _version_shown(session, claim_id, text(form, "version"))
    typed = {name: _plain(text(form, name)) for name in CLAIM_FIELDS if name in form}
    before = {k: _plain(v) for k, v in form_values(shown).items()}
    changes = {k: v or None for k, v in typed.items() if v != before.get(k)}
    reason = text(form, "reason")
    body = read(ClaimUpdate, {**changes, "reason": reason})
    kept = {"values": form_values(shown) | typed, "reason": reason}
    if not isinstance(body, ClaimUpdate):
        return _claim_page_with(request, session, claim_id, user, 422, errors=body, **kept)
    session.rollback()  # the reads end here: the write begins its own transaction
    who, tolerance = user.principal.name, settings.figure_tolerance
    try:
        claims.update_claim(session, claim_id, body, f'"{shown.version}"', who, tolerance)
    except StaleVersion:
        mine = {k: typed[k] for k in changes}
        return _stale(request, session, claim_id, shown, mine, reason)
    except InvalidInput as error:
        errors = domain_errors(error)
        return _claim_page_with(request, session, claim_id, user, 422, errors=errors, **kept)
    return redirect(f"/claims/{claim_id}?done=corrected")


def _plain(value: str) -> str:
    """A field's text as compared: a browser sends a textarea's line breaks as CR LF."""
    return value.replace("\r\n", "\n").strip()


def _version_shown(session: Session, claim_id: str, version: str) -> Claim:
    """The claim as it was at the version the page showed."""
    revisions = claims.list_revisions(session, claim_id)
    number = int(version) if version.isascii() and version.isdigit() and len(version) < 9 else 0
    if not 1 <= number <= len(revisions):
        raise InvalidInput("The form does not say which version of the claim it corrects.")
    return revisions[number - 1].claim


def _stale(
    request: Request,
    session: Session,
    claim_id: str,
    shown: Claim,
    mine: dict[str, str],
    reason: str,
) -> Response:
    """Someone changed the claim since the page was shown: what they changed, and this
    editor's correction again — the fields they changed, on the newest version."""
    session.rollback()
    claim = claims.read_claim(session, claim_id)
    since = [
        r
        for r in revision_views(claims.list_revisions(session, claim_id))
        if r.version > shown.version
    ]
    context = {
        "claim": claim,
        "event": resources.get_event(session, claim.event),
        "shown": shown,
        "since": since,
        "reason": reason,
        "mine": mine,
        "values": form_values(claim) | mine,
        "errors": {},
    }
    return render(request, "stale.html", context | choices(session), 409)


# --- retraction and disputes ----------------------------------------------------------------


def _act(
    request: Request,
    session: Session,
    claim_id: str,
    user: DeskUser,
    body: Any,
    form: str,
    action: Action,
    done: str,
) -> Response:
    """Run a form's action on its body (`read`'s model, or its errors). A body that does not
    read, or a refusal naming a field, shows the claim's page with why (the form kept, its
    fields named `{form}_…`); any other refusal is an error page."""
    if isinstance(body, dict):
        errors = {f"{form}_{k}": v for k, v in body.items()}
        return _claim_page_with(request, session, claim_id, user, 422, errors=errors)
    try:
        action(body)
    except DomainError as error:
        session.rollback()  # the refused write's transaction, and its lock, end here
        if error.field is None:
            raise
        return _claim_page_with(request, session, claim_id, user, 422, errors=domain_errors(error))
    return redirect(f"/claims/{claim_id}?done={done}")


@router.post("/claims/{claim_id}/retract")
def retract_claim(
    request: Request, claim_id: str, session: SessionDep, user: Editor, form: Form
) -> Response:
    body = read(RetractBody, filled(form, ("reason", "url")))
    action = partial(claims.retract_claim, session, claim_id, actor=user.principal.name)
    return _act(request, session, claim_id, user, body, "retract", action, "retracted")


@router.post("/claims/{claim_id}/disputes")
def open_dispute(
    request: Request, claim_id: str, session: SessionDep, user: Editor, form: Form
) -> Response:
    body = read(DisputeCreate, filled(form, ("by", "reason", "url")))
    action = partial(claims.open_dispute, session, claim_id, actor=user.principal.name)
    return _act(request, session, claim_id, user, body, "dispute", action, "disputed")


@router.post("/claims/{claim_id}/disputes/{dispute_id}/close")
def close_dispute(
    request: Request,
    claim_id: str,
    dispute_id: str,
    session: SessionDep,
    user: Editor,
    form: Form,
) -> Response:
    body = read(DisputeClose, filled(form, ("note",)))
    action = partial(claims.close_dispute, session, claim_id, dispute_id, actor=user.principal.name)
    return _act(request, session, claim_id, user, body, "close", action, "closed")
