"""Idempotency-Key records: the first response to a POST, replayed to its retries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app import models
from app.db import begin_write
from app.models import utcnow

PENDING = 0  # status_code of a record whose request is still being handled


@dataclass(frozen=True)
class Stored:
    status_code: int
    headers: dict[str, str]
    body: str


def claim_key(
    factory: sessionmaker[Session], scope: str, key: str, request_hash: str, ttl: timedelta
) -> Stored | str:
    """Reserve the key for this request ("proceed"), or say why not ("mismatch", "pending"),
    or give the stored first response."""
    with factory() as session:
        begin_write(session)
        record = _live_record(session, scope, key)
        if record is None:
            session.add(_pending(scope, key, request_hash, ttl))
            try:
                session.commit()
                return "proceed"
            except IntegrityError:  # a concurrent twin reserved it first
                session.rollback()
                return "pending"
        if record.request_hash != request_hash:
            return "mismatch"
        if record.status_code == PENDING:
            return "pending"
        return Stored(record.status_code, record.headers, record.body)


def _live_record(session: Session, scope: str, key: str) -> models.IdempotencyRecord | None:
    r = models.IdempotencyRecord
    session.execute(delete(r).where(r.scope == scope, r.key == key, r.expires_at < utcnow()))
    return session.scalar(select(r).where(r.scope == scope, r.key == key))


def _pending(scope: str, key: str, request_hash: str, ttl: timedelta) -> models.IdempotencyRecord:
    return models.IdempotencyRecord(
        scope=scope,
        key=key,
        request_hash=request_hash,
        status_code=PENDING,
        body="",
        headers={},
        expires_at=utcnow() + ttl,
    )


def store_response(
    factory: sessionmaker[Session], scope: str, key: str, stored: Stored | None
) -> None:
    """Keep the response for replays, or (None) release the key so a retry runs afresh."""
    r = models.IdempotencyRecord
    with factory() as session:
        begin_write(session)
        record = session.scalar(select(r).where(r.scope == scope, r.key == key))
        if record is not None and stored is None:
            session.delete(record)
        elif record is not None and stored is not None:
            record.status_code, record.headers, record.body = (
                stored.status_code,
                stored.headers,
                stored.body,
            )
        session.commit()


def read_stored(factory: sessionmaker[Session], scope: str, key: str) -> Stored | None:
    r = models.IdempotencyRecord
    with factory() as session:
        record = session.scalar(select(r).where(r.scope == scope, r.key == key))
        if record is None or record.status_code == PENDING:
            return None
        return Stored(record.status_code, record.headers, record.body)
