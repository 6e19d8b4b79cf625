"""Claims, their revisions, retractions and disputes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status

from app.api import conditional
from app.api.deps import Editor, Reader, ReadSessionDep, RecorderDep, SessionDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.api.ledger_time import LedgerMoment
from app.api.paging import Cursor, Limit, NameFilter, after_id, next_cursor
from app.domain.model import Claim, ClaimFilter
from app.schemas import (
    ClaimCreate,
    ClaimRead,
    ClaimUpdate,
    DisputeClose,
    DisputeCreate,
    DisputeRead,
    Page,
    RetractBody,
    RevisionRead,
)
from app.services import changes, claims

router = APIRouter(prefix="/v1/claims", tags=["claims"], responses=ERROR_RESPONSES)


def _claim(claim: Claim, response: Response) -> ClaimRead:
    response.headers["ETag"] = f'"{claim.version}"'
    return ClaimRead.of(claim)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_claim(
    body: ClaimCreate, response: Response, recorder: RecorderDep, who: Editor
) -> ClaimRead:
    claim = recorder.record(body, who.name)
    response.headers["Location"] = f"/v1/claims/{claim.id}"
    return _claim(claim, response)


def claim_filters(
    event: NameFilter = None,
    metric: NameFilter = None,
    population: NameFilter = None,
    claimant: Annotated[str | None, Query(min_length=1, max_length=300)] = None,
    source: NameFilter = None,
    status: Literal["active", "retracted"] | None = None,
) -> ClaimFilter:
    """The filters of the claims list, which the export shares."""
    return ClaimFilter(event, metric, population, source, claimant, status)


ClaimFilters = Annotated[ClaimFilter, Depends(claim_filters)]


@router.get("", response_model=Page[ClaimRead], responses=conditional.NOT_MODIFIED)
def list_claims(
    request: Request,
    response: Response,
    session: ReadSessionDep,
    _: Reader,
    filters: ClaimFilters,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Page[ClaimRead] | Response:
    version = changes.claims_version(session, filters.event)
    unchanged = conditional.check(request, response, version)
    if unchanged is not None:
        return unchanged
    found, more = claims.list_claims(session, filters, after_id(cursor), limit)
    items = [ClaimRead.of(c) for c in found]
    return Page[ClaimRead](items=items, next_cursor=next_cursor(found[-1].id) if more else None)


@router.get("/{claim_id}")
def read_claim(
    claim_id: str, response: Response, session: SessionDep, _: Reader, at: LedgerMoment
) -> ClaimRead:
    """The claim now, or with `?recorded_at=` as the ledger knew it then (404 before it was
    recorded)."""
    return _claim(claims.read_claim(session, claim_id, at), response)


@router.patch("/{claim_id}")
def update_claim(
    claim_id: str,
    body: ClaimUpdate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    who: Editor,
    if_match: Annotated[str | None, Header(max_length=200)] = None,
) -> ClaimRead:
    tolerance = settings.figure_tolerance
    claim = claims.update_claim(session, claim_id, body, if_match, who.name, tolerance)
    return _claim(claim, response)


@router.post("/{claim_id}/retract")
def retract_claim(
    claim_id: str, body: RetractBody, response: Response, session: SessionDep, who: Editor
) -> ClaimRead:
    return _claim(claims.retract_claim(session, claim_id, body, who.name), response)


@router.get("/{claim_id}/revisions")
def list_revisions(claim_id: str, session: SessionDep, _: Reader) -> Page[RevisionRead]:
    items = [RevisionRead.of(r) for r in claims.list_revisions(session, claim_id)]
    return Page[RevisionRead](items=items, next_cursor=None)


@router.post("/{claim_id}/disputes", status_code=status.HTTP_201_CREATED)
def open_dispute(
    claim_id: str, body: DisputeCreate, session: SessionDep, who: Editor
) -> DisputeRead:
    return DisputeRead.model_validate(claims.open_dispute(session, claim_id, body, who.name))


@router.get("/{claim_id}/disputes")
def list_disputes(claim_id: str, session: SessionDep, _: Reader) -> Page[DisputeRead]:
    found = claims.list_disputes(session, claim_id)
    return Page[DisputeRead](items=[DisputeRead.model_validate(d) for d in found], next_cursor=None)


@router.post("/{claim_id}/disputes/{dispute_id}/close")
def close_dispute(
    claim_id: str, dispute_id: str, body: DisputeClose, session: SessionDep, who: Editor
) -> DisputeRead:
    return DisputeRead.model_validate(
        claims.close_dispute(session, claim_id, dispute_id, body, who.name)
    )
