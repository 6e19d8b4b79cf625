"""Idempotency-Key records: the first response to a POST, kept for its retries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from app import models
from app.domain.records import IdempotencyRecord, StoredResponse

PENDING = 0  # the status_code stored while the first request is still being handled


def find(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    """The key's record, expired or not, or None."""
    r = models.IdempotencyRecord
    query = select(r.request_hash, r.status_code, r.headers, r.body)
    row = session.execute(query.where(r.scope == scope, r.key == key)).first()
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
    session: Session, scope: str, key: str, request_hash: str, expires_at: datetime
) -> None:
    """Insert the key's record, pending; IntegrityError when the key already has one."""
    values = {
        "scope": scope,
        "key": key,
        "request_hash": request_hash,
        "status_code": PENDING,
        "body": "",
        "headers": {},
        "expires_at": expires_at,
    }
    session.execute(insert(models.IdempotencyRecord).values(values))


def store(session: Session, scope: str, key: str, response: StoredResponse) -> None:
    """Keep the response in the key's record (if the key still has one)."""
    r = models.IdempotencyRecord
    changes = {
        "status_code": response.status_code,
        "headers": response.headers,
        "body": response.body,
    }
    session.execute(update(r).where(r.scope == scope, r.key == key).values(changes))


def release(session: Session, scope: str, key: str) -> None:
    """Delete the key's record, so that a retry runs afresh."""
    r = models.IdempotencyRecord
    session.execute(delete(r).where(r.scope == scope, r.key == key))
