"""Idempotency-Key records: the first response to a POST, kept for its retries.

While its first request is being handled a record is pending (status_code PENDING): its
`body` then holds the owner's token — a random string that only the request holding the key
knows — and `expires_at` the end of the owner's lease, which the owner renews while it
works. A pending record whose lease lapsed (its process died) has expired like any other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from app import models
from app.domain.records import IdempotencyRecord, StoredResponse

PENDING = 0  # the status_code stored while the first request is still being handled


def find(session: Session, scope: str, key: str, now: datetime) -> IdempotencyRecord | None:
    """The key's record unless it expired by `now`, or None."""
    r = models.IdempotencyRecord
    query = select(r.request_hash, r.status_code, r.headers, r.body)
    row = session.execute(query.where(r.scope == scope, r.key == key, r.expires_at >= now)).first()
    if row is None:
        return None
    response = None
    if row.status_code != PENDING:
        response = StoredResponse(row.status_code, row.headers, row.body)
    return IdempotencyRecord(row.request_hash, response)


def forget_expired(session: Session, scope: str, key: str, now: datetime) -> None:
    """Delete the key's record if it expired by `now`."""
    r = models.IdempotencyRecord
    session.execute(delete(r).where(r.scope == scope, r.key == key, r.expires_at < now))


def reserve(
    session: Session, scope: str, key: str, request_hash: str, owner: str, lease_until: datetime
) -> None:
    """Insert the key's record, pending for `owner` until `lease_until`; IntegrityError when
    the key already has one."""
    values = {
        "scope": scope,
        "key": key,
        "request_hash": request_hash,
        "status_code": PENDING,
        "body": owner,
        "headers": {},
        "expires_at": lease_until,
    }
    session.execute(insert(models.IdempotencyRecord).values(values))


def renew(session: Session, scope: str, key: str, owner: str, lease_until: datetime) -> None:
    """Extend `owner`'s lease on the key (if the key is still pending for it)."""
    _update_owned(session, scope, key, owner, {"expires_at": lease_until})


def store(
    session: Session,
    scope: str,
    key: str,
    owner: str,
    response: StoredResponse,
    expires_at: datetime,
) -> None:
    """Keep the response in the key's record until `expires_at` (if the key is still pending
    for `owner`: a record taken over by a retry is the retry's)."""
    changes = {
        "status_code": response.status_code,
        "headers": response.headers,
        "body": response.body,
        "expires_at": expires_at,
    }
    _update_owned(session, scope, key, owner, changes)


def release(session: Session, scope: str, key: str, owner: str) -> None:
    """Delete the key's record if it is pending for `owner`, so that a retry runs afresh."""
    r = models.IdempotencyRecord
    session.execute(delete(r).where(*_owned(scope, key, owner)))


def purge_expired(session: Session, now: datetime, lapsed_before: datetime, limit: int) -> int:
    """Delete up to `limit` records: answers that expired by `now`, pending records whose
    lease lapsed before `lapsed_before`; how many were deleted."""
    r = models.IdempotencyRecord
    expired = or_(
        and_(r.status_code != PENDING, r.expires_at < now),
        and_(r.status_code == PENDING, r.expires_at < lapsed_before),
    )
    ids = list(session.scalars(select(r.id).where(expired).limit(limit)))
    if ids:  # still expired: an owner may have renewed its lease meanwhile
        session.execute(delete(r).where(r.id.in_(ids), expired))
    return len(ids)


def _update_owned(
    session: Session, scope: str, key: str, owner: str, changes: dict[str, Any]
) -> None:
    r = models.IdempotencyRecord
    session.execute(update(r).where(*_owned(scope, key, owner)).values(changes))


def _owned(scope: str, key: str, owner: str) -> tuple[Any, ...]:
    r = models.IdempotencyRecord
    return (r.scope == scope, r.key == key, r.status_code == PENDING, r.body == owner)
