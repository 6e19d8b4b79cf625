"""API keys."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from app import models
from app.domain.model import NotFound, parse_id
from app.domain.records import ApiKey, Principal, Role
from app.repository.common import page


def _key(row: models.ApiKey) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def principal_by_hash(factory: sessionmaker[Session], key_hash: str) -> Principal | None:
    """The principal of the unrevoked key with that hash (every request asks).

    Read on a plain connection of its own (a Session costs twice as much for one query),
    returned to the pool at once: a request holds at most one pooled connection at a time.
    """
    engine: Engine = factory.kw["bind"]
    k = models.ApiKey
    query = select(k.name, k.role).where(k.key_hash == key_hash, k.revoked_at.is_(None))
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else Principal(row.name, Role(row.role))


def insert_key(session: Session, *, name: str, role: Role, key_hash: str, prefix: str) -> ApiKey:
    """A new key, flushed so that its id is known; the caller commits."""
    row = models.ApiKey(name=name, role=role.value, key_hash=key_hash, prefix=prefix)
    session.add(row)
    session.flush()
    return _key(row)


def revoke_key(session: Session, key_id: str) -> ApiKey:
    """The key with that id, revoked (at its first revocation); NotFound when there is none."""
    number = parse_id(key_id)
    row = session.get(models.ApiKey, number) if number else None
    if row is None:
        raise NotFound(f"No API key with id {key_id}.")
    row.revoked_at = row.revoked_at or models.utcnow()
    session.flush()
    return _key(row)


def key_page(session: Session, after: int, limit: int) -> list[ApiKey]:
    """Up to limit+1 keys with id > after, by id (see common.page)."""
    return [_key(row) for row in page(session, models.ApiKey, after, limit)]
