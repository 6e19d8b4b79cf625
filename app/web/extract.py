"""Paste an article: Tally proposes its claims in an editable table, the editor ticks and
corrects them, and records the ticked ones in one go, once however often the form is sent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from app.api.deps import SessionDep, SettingsDep
from app.domain.model import InvalidInput
from app.schemas import MAX_CANDIDATES, CandidateRead, ClaimCreate, ExtractBody
from app.services import claims, extraction, resources
from app.services.sessions import Session
from app.web.deps import Editor, Form, Once, User, text
from app.web.forms import Errors, domain_errors, filled, read
from app.web.pages import DeskRoute, redirect, render

router = APIRouter(route_class=DeskRoute, include_in_schema=False)

ARTICLE = ("text", "event", "source", "published_on", "url")
ROW = ("figure", "metric", "population", "claimant", "as_of", "quote")


@dataclass
class Row:
    """One candidate as the table shows it: what the editor may change, and why it is there."""

    values: dict[str, str]
    ticked: bool
    why: str = ""
    errors: Errors = field(default_factory=dict)


def _choices(session: Session) -> dict[str, Any]:
    return {
        "events": resources.list_events(session, 0, 1000),
        "sources": resources.list_sources(session, 0, 1000),
        "metrics": resources.list_metrics(session, 0, 1000),
        "populations": resources.list_populations(session, 0, 1000),
    }


@router.get("/extract")
def extract_page(request: Request, session: SessionDep, user: User) -> Response:
    context = {"article": {}, "errors": {}, **_choices(session)}
    return render(request, "extract.html", context)


@router.post("/extract")
def propose(
    request: Request, session: SessionDep, settings: SettingsDep, user: User, form: Form
) -> Response:
    article = filled(form, ARTICLE)
    published = article.get("published_on")
    body = read(
        ExtractBody,
        {
            "text": text(form, "text"),
            "event": article.get("event"),
            "source": article.get("source"),
            "published_at": f"{published}T00:00:00Z" if published else None,
        },
    )
    if not isinstance(body, ExtractBody):
        context = {"article": article, "errors": body, **_choices(session)}
        return render(request, "extract.html", context, 422)
    try:
        found = extraction.extract(session, body, settings.figure_tolerance)
    except InvalidInput as error:
        context = {"article": article, "errors": domain_errors(error), **_choices(session)}
        return render(request, "extract.html", context, 422)
    rows = [_row(c) for c in found.candidates]
    return _table(request, session, article, rows, truncated=found.truncated)


def _row(candidate: CandidateRead) -> Row:
    values = {
        "figure": candidate.figure.text,
        "metric": candidate.metric or "",
        "population": candidate.population,
        "claimant": candidate.claimant or "",
        "as_of": candidate.as_of.isoformat() if candidate.as_of else "",
        "quote": candidate.quote,
    }
    ticked = candidate.metric is not None and candidate.claimant is not None
    return Row(values, ticked, f"{candidate.why} (confidence {candidate.confidence:.0%})")


def _table(
    request: Request,
    session: Session,
    article: dict[str, str],
    rows: list[Row],
    status: int = 200,
    problem: str | None = None,
    truncated: bool = False,
) -> Response:
    context = {
        "article": article,
        "rows": rows,
        "once": secrets.token_urlsafe(24),
        "problem": problem,
        "truncated": truncated,
        **_choices(session),
    }
    return render(request, "extract_table.html", context, status)


@router.post("/extract/record")
def record(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: Editor,
    form: Form,
    once: Once,
) -> Response:
    article = filled(form, ARTICLE)
    rows = _rows_of(form)
    checked = _checked(session, article, rows, settings.figure_tolerance)
    problem = _problem(article, rows)
    if problem or any(r.errors for r in rows):
        problem = problem or "Some ticked rows need fixing; nothing was recorded yet."
        return _table(request, session, article, rows, 422, problem)

    def record_ticked() -> str:
        items = [(body, user.principal.name) for body in checked]
        outcomes = claims.record_claims(session, items, settings.figure_tolerance)
        recorded = sum(not isinstance(o, Exception) for o in outcomes)
        # Every row was checked above: a refusal here would be a concurrent change.
        refused = f"&refused={len(outcomes) - recorded}" if recorded < len(outcomes) else ""
        return f"/events/{article['event']}?done=recorded&recorded={recorded}{refused}"

    session.rollback()  # the checks' reads end here: the write begins its own transaction
    try:
        return redirect(once.run(user, form, record_ticked, session))
    except InvalidInput as error:
        rows[0].errors.update(domain_errors(error))
        return _table(request, session, article, rows, 422, error.detail)


def _rows_of(form: FormData) -> list[Row]:
    count = text(form, "rows")
    total = int(count) if count.isdigit() and len(count) <= 4 else 0
    return [
        Row(
            {name: text(form, f"c{i}.{name}").replace("\r\n", "\n").strip() for name in ROW},
            text(form, f"c{i}.record") == "on",
        )
        for i in range(min(total, MAX_CANDIDATES))
    ]


def _problem(article: dict[str, str], rows: list[Row]) -> str | None:
    if "event" not in article or "source" not in article:
        return "Choose the event and the source the claims belong to."
    if not any(r.ticked for r in rows):
        return "Tick at least one claim to record."
    return None


def _checked(
    session: Session, article: dict[str, str], rows: list[Row], tolerance: float
) -> list[ClaimCreate]:
    """The claims of the ticked rows; each row that cannot be recorded gets its errors."""
    metrics = {m.name for m in resources.list_metrics(session, 0, 1000)}
    populations = {p.name for p in resources.list_populations(session, 0, 1000)}
    bodies = []
    for row in (r for r in rows if r.ticked):
        values = {k: v for k, v in row.values.items() if v} | {
            k: article[k] for k in ("event", "source", "url") if k in article
        }
        if "published_on" in article:
            values["published_at"] = f"{article['published_on']}T00:00:00Z"
        row.errors = _row_errors(values, metrics, populations, tolerance)
        if not row.errors:
            bodies.append(ClaimCreate.model_validate(values))
    return bodies


def _row_errors(
    values: dict[str, str], metrics: set[str], populations: set[str], tolerance: float
) -> Errors:
    errors: Errors = {}
    if values.get("metric") not in metrics:
        errors["metric"] = "Choose what the figure counts."
    if values.get("population") not in populations:
        errors["population"] = "Choose who is counted."
    body = read(ClaimCreate, values)
    if isinstance(body, ClaimCreate):
        try:
            claims.to_figure(body.figure, tolerance)
        except InvalidInput as error:
            errors["figure"] = error.detail
    else:
        errors |= {k: v for k, v in body.items() if k not in errors}
    return errors
