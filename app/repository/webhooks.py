"""Webhooks and their outbox of deliveries."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import models
from app.domain.model import NotFound, parse_id
from app.domain.records import Delivery, Webhook
from app.repository.common import page


def _webhook(row: models.Webhook) -> Webhook:
    return Webhook(
        id=row.id,
        url=row.url,
        events=tuple(row.events),
        description=row.description,
        status=row.status,
        disabled_reason=row.disabled_reason,
        secret=row.secret,
        previous_secret=row.previous_secret,
        previous_secret_expires_at=row.previous_secret_expires_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        format=row.format,
        event=row.event,
        metric=row.metric,
        kinds=None if row.kinds is None else tuple(row.kinds),
    )


def _delivery(row: models.WebhookDelivery) -> Delivery:
    return Delivery(
        id=row.id,
        webhook_id=row.webhook_id,
        message_id=row.message_id,
        event_type=row.event_type,
        body=row.body,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        response_status=row.response_status,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def active_webhooks(session: Session) -> list[Webhook]:
    w = models.Webhook
    query = select(w).where(w.status == "active").order_by(w.id)
    return [_webhook(row) for row in session.scalars(query)]


def get_webhook(session: Session, webhook_id: str) -> Webhook:
    """The webhook with that id; NotFound when there is none or it was deleted."""
    number = parse_id(webhook_id)
    row = session.get(models.Webhook, number) if number else None
    if row is None or row.status == "deleted":
        raise NotFound(f"No webhook with id {webhook_id}.")
    return _webhook(row)


def webhooks_by_id(session: Session, ids: Collection[int]) -> dict[int, Webhook]:
    w = models.Webhook
    return {row.id: _webhook(row) for row in session.scalars(select(w).where(w.id.in_(ids)))}


def webhook_page(session: Session, after: int, limit: int) -> list[Webhook]:
    """Up to limit+1 webhooks not deleted with id > after, by id (see common.page)."""
    w = models.Webhook
    return [_webhook(row) for row in page(session, w, after, limit, w.status != "deleted")]


def insert_webhook(session: Session, *, secret: str, **fields: Any) -> Webhook:
    """A new active webhook, flushed so that its id is known; the caller commits.

    `fields`: url, events, description, format, event, metric, kinds (columns by name).
    """
    row = models.Webhook(secret=secret, status="active", **fields)
    session.add(row)
    session.flush()
    return _webhook(row)


def update_webhook(session: Session, webhook_id: int, changes: Mapping[str, Any]) -> Webhook:
    """The webhook with `changes` (columns by name) applied; the caller commits."""
    row = session.get_one(models.Webhook, webhook_id)
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = models.utcnow()
    session.flush()
    return _webhook(row)


def delete_webhook(session: Session, webhook_id: int) -> None:
    """Mark the webhook deleted: it is no longer found, but its deliveries remain."""
    w = models.Webhook
    changes = {"status": "deleted", "updated_at": models.utcnow()}
    session.execute(update(w).where(w.id == webhook_id).values(changes))


def disable_webhook(session: Session, webhook_id: int, reason: str) -> None:
    """Mark the webhook disabled, saying why: nothing more is sent to it."""
    w = models.Webhook
    changes = {"status": "disabled", "disabled_reason": reason, "updated_at": models.utcnow()}
    session.execute(update(w).where(w.id == webhook_id).values(changes))


def replace_secret(
    session: Session, webhook_id: int, secret: str, previous_expires_at: datetime
) -> Webhook:
    """The webhook signing with `secret`, and with its former secret until `previous_expires_at`."""
    row = session.get_one(models.Webhook, webhook_id)
    row.previous_secret, row.secret = row.secret, secret
    row.previous_secret_expires_at = previous_expires_at
    row.updated_at = models.utcnow()
    session.flush()
    return _webhook(row)


def add_delivery(
    session: Session,
    *,
    webhook_id: int,
    message_id: str,
    event_type: str,
    body: str,
    now: datetime,
) -> None:
    """Queue a pending delivery, due at once; inserted with the caller's transaction.

    Added to the session, not inserted at once: a bulk import queues thousands, which the
    flush at commit inserts in batches.
    """
    row = models.WebhookDelivery(
        webhook_id=webhook_id,
        message_id=message_id,
        event_type=event_type,
        body=body,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)


def delivery_page(session: Session, webhook_id: int, after: int, limit: int) -> list[Delivery]:
    """Up to limit+1 of the webhook's deliveries with id > after, by id (see common.page)."""
    d = models.WebhookDelivery
    return [_delivery(row) for row in page(session, d, after, limit, d.webhook_id == webhook_id)]


def due_deliveries(session: Session, now: datetime, limit: int) -> list[Delivery]:
    """Pending deliveries of active webhooks due by `now`, oldest first, locked until commit.

    SKIP LOCKED (PostgreSQL): another worker's claimed rows are passed over, not waited for,
    so no two workers take the same attempt. SQLite ignores it: it admits one writer anyway.
    """
    d, w = models.WebhookDelivery, models.Webhook
    query = (
        select(d)
        .join(w, w.id == d.webhook_id)
        .where(d.status == "pending", d.next_attempt_at <= now, w.status == "active")
        .order_by(d.next_attempt_at, d.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=d)
    )
    return [_delivery(row) for row in session.scalars(query)]


def any_due(session: Session, now: datetime) -> bool:
    d = models.WebhookDelivery
    query = select(d.id).where(d.status == "pending", d.next_attempt_at <= now).limit(1)
    return session.scalar(query) is not None


def lease_deliveries(
    session: Session, delivery_ids: Collection[int], now: datetime, until: datetime
) -> None:
    """Count an attempt at each delivery, started `now`, and reserve it until `until`."""
    d = models.WebhookDelivery
    changes = {"attempts": d.attempts + 1, "last_attempt_at": now, "next_attempt_at": until}
    session.execute(update(d).where(d.id.in_(delivery_ids)).values(changes))


def locked_delivery(session: Session, delivery_id: int) -> Delivery | None:
    """The delivery with that id, locked until commit (PostgreSQL), or None."""
    row = session.get(models.WebhookDelivery, delivery_id, with_for_update=True)
    return None if row is None else _delivery(row)


def record_attempt(
    session: Session,
    delivery_id: int,
    *,
    status: str,
    next_attempt_at: datetime | None,
    response_status: int | None,
    last_error: str | None,
    delivered_at: datetime | None,
) -> None:
    """Store how the delivery's last attempt went and what comes next."""
    d = models.WebhookDelivery
    changes = {
        "status": status,
        "next_attempt_at": next_attempt_at,
        "response_status": response_status,
        "last_error": last_error,
        "delivered_at": delivered_at,
    }
    session.execute(update(d).where(d.id == delivery_id).values(changes))


def cancel_deliveries(session: Session, webhook_id: int, reason: str) -> None:
    """Give up the webhook's pending deliveries, saying why."""
    d = models.WebhookDelivery
    pending = (d.webhook_id == webhook_id) & (d.status == "pending")
    session.execute(
        update(d).where(pending).values(status="cancelled", next_attempt_at=None, last_error=reason)
    )
