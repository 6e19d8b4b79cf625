"""API keys: admins create, list and revoke them."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import Admin, KeyCacheDep, SessionDep
from app.api.errors import ERROR_RESPONSES
from app.api.paging import Cursor, Limit, after_id, to_page
from app.schemas import KeyCreate, KeyCreated, KeyRead, Page
from app.services import keys

router = APIRouter(prefix="/v1/keys", tags=["keys"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(body: KeyCreate, session: SessionDep, _: Admin) -> KeyCreated:
    created, key = keys.create_key(session, body.name, body.role)
    return KeyCreated(**KeyRead.model_validate(created).model_dump(), key=key)


@router.get("")
def list_keys(
    session: SessionDep, _: Admin, limit: Limit = 50, cursor: Cursor = None
) -> Page[KeyRead]:
    return to_page(keys.list_keys(session, after_id(cursor), limit), limit, KeyRead.model_validate)


@router.delete("/{key_id}")
def revoke_key(key_id: str, session: SessionDep, cache: KeyCacheDep, _: Admin) -> KeyRead:
    return KeyRead.model_validate(keys.revoke_key(session, key_id, cache))
