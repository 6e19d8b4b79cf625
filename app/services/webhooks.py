"""Webhooks: subscriptions, and the outbox of events written with the change that caused them.

Events (SPEC §7): claim.created (a claim is recorded), claim.updated (corrected, or one of
its disputes closed), claim.retracted, claim.disputed (a dispute is opened),
conflict.opened, conflict.cleared and conflict.resolved. A payload is
`{"type", "timestamp", "data"}`, where data is the claim or conflict exactly as the API
returns it. `emit` only adds rows to the caller's transaction: an event is sent if and
only if its change commits. app.services.delivery sends them.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app import models, repository
from app.config import Settings
from app.db import begin_write
from app.domain.model import InvalidInput
from app.models import utcnow
from app.schemas import ClaimRead, ConflictRead, WebhookCreate, WebhookEvent
from app.services import ssrf

Payload = dict[str, Any]
RENDER: dict[str, type[BaseModel]] = {"claim": ClaimRead, "conflict": ConflictRead}
ACTIVE_KEY = "tally_active_webhooks"


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def emit(session: Session, event_type: str, data: Payload | Callable[[], Payload]) -> None:
    """Queue the event for every active webhook subscribed to it, in the caller's transaction.

    `data` may be a function, called only when someone subscribes (rendering costs queries).
    """
    subscribers = [w for w in _active(session) if event_type in w.events]
    if not subscribers:
        return
    rendered = RENDER[event_type.partition(".")[0]].model_validate(
        data() if callable(data) else data
    )
    now = utcnow()
    body = json.dumps(
        {
            "type": WebhookEvent(event_type).value,
            "timestamp": _iso(now),
            "data": rendered.model_dump(mode="json"),
        },
        separators=(",", ":"),
    )
    for webhook in subscribers:
        session.add(
            models.WebhookDelivery(
                webhook_id=webhook.id,
                message_id=new_message_id(),
                event_type=event_type,
                body=body,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )


def _active(session: Session) -> list[models.Webhook]:
    """The active webhooks, read once per transaction (a bulk import emits thousands of events)."""
    transaction = session.get_transaction()
    cached = session.info.get(ACTIVE_KEY)
    if transaction is None or cached is None or cached[0] is not transaction:
        cached = (transaction, repository.webhooks.active_webhooks(session))
        session.info[ACTIVE_KEY] = cached
    webhooks: list[models.Webhook] = cached[1]
    return webhooks


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def create_webhook(
    session: Session, body: WebhookCreate, settings: Settings
) -> tuple[models.Webhook, str]:
    """A new subscription and its secret, which is shown once; InvalidInput names `url`."""
    url = str(body.url)
    if not settings.webhook_allow_private:
        try:
            ssrf.check(url)
        except ssrf.Refused as error:
            raise InvalidInput(f"The URL cannot receive webhooks: {error}.", field="url") from None
    secret = new_secret()
    begin_write(session)
    row = models.Webhook(
        url=url,
        events=list(dict.fromkeys(e.value for e in body.events)),
        description=body.description,
        secret=secret,
        status="active",
    )
    session.add(row)
    session.commit()
    return row, secret


def list_webhooks(session: Session, after: int, limit: int) -> list[models.Webhook]:
    w = models.Webhook
    return repository.common.page(session, w, after, limit, w.status != "deleted")


def delete_webhook(session: Session, webhook_id: str) -> None:
    """Stop the subscription; its pending deliveries are cancelled, its history kept."""
    begin_write(session)
    row = repository.webhooks.get_webhook(session, webhook_id)
    row.status, row.updated_at = "deleted", utcnow()
    repository.webhooks.cancel_deliveries(session, row.id, "The webhook was deleted.")
    session.commit()


def rotate_secret(
    session: Session, webhook_id: str, settings: Settings
) -> tuple[models.Webhook, str]:
    """A new secret, shown once; the previous one also signs until the rotation window ends."""
    begin_write(session)
    row = repository.webhooks.get_webhook(session, webhook_id)
    secret, now = new_secret(), utcnow()
    row.previous_secret, row.secret = row.secret, secret
    row.previous_secret_expires_at = now + timedelta(hours=settings.webhook_rotation_hours)
    row.updated_at = now
    session.commit()
    return row, secret


def list_deliveries(
    session: Session, webhook_id: str, after: int, limit: int
) -> list[models.WebhookDelivery]:
    """A page of the webhook's deliveries, oldest first."""
    row = repository.webhooks.get_webhook(session, webhook_id)
    d = models.WebhookDelivery
    return repository.common.page(session, d, after, limit, d.webhook_id == row.id)


def disable(session: Session, webhook: models.Webhook, reason: str) -> None:
    """Stop sending to the webhook (its endpoint asked for it) and cancel what is pending."""
    webhook.status, webhook.disabled_reason, webhook.updated_at = "disabled", reason, utcnow()
    repository.webhooks.cancel_deliveries(session, webhook.id, reason)
