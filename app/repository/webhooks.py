"""Webhooks and their outbox of deliveries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import models
from app.domain.model import NotFound
from app.repository.common import parse_id


def active_webhooks(session: Session) -> list[models.Webhook]:
    w = models.Webhook
    return list(session.scalars(select(w).where(w.status == "active").order_by(w.id)))


def get_webhook(session: Session, webhook_id: str) -> models.Webhook:
    """The webhook with that id; NotFound when there is none or it was deleted."""
    number = parse_id(webhook_id)
    row = session.get(models.Webhook, number) if number else None
    if row is None or row.status == "deleted":
        raise NotFound(f"No webhook with id {webhook_id}.")
    return row


def due_deliveries(session: Session, now: datetime, limit: int) -> list[models.WebhookDelivery]:
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
    return list(session.scalars(query))


def any_due(session: Session, now: datetime) -> bool:
    d = models.WebhookDelivery
    query = select(d.id).where(d.status == "pending", d.next_attempt_at <= now).limit(1)
    return session.scalar(query) is not None


def cancel_deliveries(session: Session, webhook_id: int, reason: str) -> None:
    """Give up the webhook's pending deliveries, saying why."""
    d = models.WebhookDelivery
    pending = (d.webhook_id == webhook_id) & (d.status == "pending")
    session.execute(
        update(d).where(pending).values(status="cancelled", next_attempt_at=None, last_error=reason)
    )
