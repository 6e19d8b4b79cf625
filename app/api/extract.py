"""Extraction: the claims an article seems to state, proposed for a person to check."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import Reader, SessionDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.schemas import ExtractBody, Extraction
from app.services import extraction

router = APIRouter(prefix="/v1/extract", tags=["extraction"], responses=ERROR_RESPONSES)


@router.post("")
def extract_claims(
    body: ExtractBody, session: SessionDep, settings: SettingsDep, _: Reader
) -> Extraction:
    """Propose the claims in an article's text, each ready to check and post to /v1/claims.

    Stores nothing. A candidate's `metric` is null when no built-in metric clearly applies,
    its `claimant` null when the article attributes the figure to no one; post `figure.text`
    as the figure, and leave out `span`, `confidence` and `why`.
    """
    return extraction.extract(session, body, settings.figure_tolerance)
