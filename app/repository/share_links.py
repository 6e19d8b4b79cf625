"""Share links: read-only links to one path and query, kept as hashes of their tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import models
from app.domain.model import NotFound, parse_id
from app.domain.newsroom import ShareLink
from app.repository.common import page

s = models.ShareLink


def _link(row: models.ShareLink) -> ShareLink:
    return ShareLink(
        id=row.id,
        path=row.path,
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def insert_link(
    session: Session,
    *,
    token_hash: str,
    path: str,
    note: str | None,
    created_by: str,
    expires_at: datetime | None,
) -> ShareLink:
    """A new link, flushed so that its id is known; the caller commits."""
    row = models.ShareLink(
        token_hash=token_hash, path=path, note=note, created_by=created_by, expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return _link(row)


def link_by_hash(session: Session, token_hash: str) -> ShareLink | None:
    """The link whose token has that hash (revoked and expired ones too), or None."""
    row = session.scalar(select(s).where(s.token_hash == token_hash))
    return None if row is None else _link(row)


def link_page(session: Session, after: int, limit: int) -> list[ShareLink]:
    """Up to limit+1 links with id > after, by id (see common.page)."""
    return [_link(row) for row in page(session, s, after, limit)]


def revoke_link(session: Session, link_id: str, now: datetime) -> ShareLink:
    """The link with that id, revoked (at its first revocation); NotFound when there is none."""
    number = parse_id(link_id)
    row = session.get(s, number) if number else None
    if row is None:
        raise NotFound(f"No share link with id {link_id}.")
    row.revoked_at = row.revoked_at or now
    session.flush()
    return _link(row)
