"""The source watch's checks of a claim's url (SPEC §13)."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import Editor, Reader, SessionDep, SessionFactoryDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.schemas import CheckRead, Page
from app.services import watch

router = APIRouter(prefix="/v1/claims", tags=["claims"], responses=ERROR_RESPONSES)


@router.get("/{claim_id}/checks")
def list_checks(claim_id: str, session: SessionDep, _: Reader) -> Page[CheckRead]:
    """The checks kept of the claim's url, oldest first: the last ones, and every one that
    changed what the watch knows."""
    items = [CheckRead.of(x) for x in watch.list_checks(session, claim_id)]
    return Page[CheckRead](items=items, next_cursor=None)


@router.post("/{claim_id}/checks", status_code=status.HTTP_201_CREATED)
def check_claim(
    claim_id: str, factory: SessionFactoryDep, settings: SettingsDep, _: Editor
) -> CheckRead:
    """Check the claim's url now; the answer is the check. No transaction is open while
    the page is fetched (the service opens its own)."""
    return CheckRead.of(watch.check_now(factory, claim_id, settings))
