"""API keys: admins create, list and revoke them."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from app import models, repository
from app.api.deps import Admin
from app.api.errors import ERROR_RESPONSES
from app.api.paging import Cursor, Limit, after_id, to_page
from app.db import SessionDep
from app.domain.model import NotFound
from app.schemas import KeyCreate, KeyCreated, KeyRead, Page
from app.services import keys

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, session: SessionDep, _: Admin) -> KeyCreated:
    row, key = keys.create_key(session, body.name, body.role)
    return KeyCreated(**KeyRead.model_validate(row).model_dump(), key=key)


@router.get("")
def list_keys(
    session: SessionDep, _: Admin, limit: Limit = 50, cursor: Cursor = None
) -> Page[KeyRead]:
    rows = repository.common.page(session, models.ApiKey, after_id(cursor), limit)
    return to_page(rows, limit, KeyRead.model_validate)


@router.delete("/{key_id}")
def revoke_key(key_id: str, request: Request, session: SessionDep, _: Admin) -> KeyRead:
    if not key_id.isdigit():
        raise NotFound(f"No API key with id {key_id}.")
    revoked = keys.revoke_key(session, int(key_id))
    request.app.state.key_cache.clear()
    return KeyRead.model_validate(revoked)
