"""Webhooks: subscriptions, and the outbox of events written with the change that caused them.

Events (SPEC §7): claim.created (a claim is recorded), claim.updated (corrected, or one of
its disputes closed), claim.retracted, claim.disputed (a dispute is opened),
conflict.opened, conflict.cleared and conflict.resolved. A payload is
`{"type", "timestamp", "data"}`, where data is the claim or conflict exactly as the API
returns it. An `Outbox` only adds rows to its session's transaction: an event is sent if
and only if its change commits. app.services.delivery sends them.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app import repository
from app.config import Settings
from app.db import begin_write
from app.domain.model import InvalidInput, utcnow
from app.domain.records import Delivery, Webhook
from app.schemas import WebhookCreate, WebhookEvent
from app.services import ssrf


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


class Outbox:
    """The events of one write transaction, queued for the webhooks subscribed to them.

    Rows are added to the caller's transaction: an event is sent if and only if its change
    commits. The active webhooks are read once, at the first event (a bulk import emits
    thousands).
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._subscriptions: list[Webhook] | None = None

    def emit(self, event_type: str, data: BaseModel | Callable[[], BaseModel]) -> None:
        """Queue the event for every active webhook subscribed to it.

        `data` is the claim or conflict as the API renders it, or a function giving it, called
        only when someone subscribes.
        """
        if self._subscriptions is None:
            self._subscriptions = repository.webhooks.active_webhooks(self._session)
        subscribers = [w for w in self._subscriptions if event_type in w.events]
        if not subscribers:
            return
        now = utcnow()
        body = _payload(event_type, data() if callable(data) else data, now)
        for webhook in subscribers:
            repository.webhooks.add_delivery(
                self._session,
                webhook_id=webhook.id,
                message_id=new_message_id(),
                event_type=event_type,
                body=body,
                now=now,
            )


def _payload(event_type: str, data: BaseModel, now: datetime) -> str:
    """The body every subscriber is sent, signed as it is: compact JSON."""
    payload = {
        "type": WebhookEvent(event_type).value,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": data.model_dump(mode="json"),
    }
    return json.dumps(payload, separators=(",", ":"))


def create_webhook(
    session: Session, body: WebhookCreate, settings: Settings
) -> tuple[Webhook, str]:
    """A new subscription and its secret, which is shown once; InvalidInput names `url`."""
    url = str(body.url)
    if not settings.webhook_allow_private:
        try:
            ssrf.check(url)
        except ssrf.Refused as error:
            raise InvalidInput(f"The URL cannot receive webhooks: {error}.", field="url") from None
    secret = new_secret()
    begin_write(session)
    webhook = repository.webhooks.insert_webhook(
        session,
        url=url,
        events=list(dict.fromkeys(e.value for e in body.events)),
        description=body.description,
        secret=secret,
    )
    session.commit()
    return webhook, secret


def get_webhook(session: Session, webhook_id: str) -> Webhook:
    """The webhook with that id; NotFound when there is none or it was deleted."""
    return repository.webhooks.get_webhook(session, webhook_id)


def list_webhooks(session: Session, after: int, limit: int) -> list[Webhook]:
    """Up to limit+1 webhooks after the id `after`: the extra one tells that more follow."""
    return repository.webhooks.webhook_page(session, after, limit)


def delete_webhook(session: Session, webhook_id: str) -> None:
    """Stop the subscription; its pending deliveries are cancelled, its history kept."""
    begin_write(session)
    webhook = repository.webhooks.get_webhook(session, webhook_id)
    repository.webhooks.delete_webhook(session, webhook.id)
    repository.webhooks.cancel_deliveries(session, webhook.id, "The webhook was deleted.")
    session.commit()


def rotate_secret(session: Session, webhook_id: str, settings: Settings) -> tuple[Webhook, str]:
    """A new secret, shown once; the previous one also signs until the rotation window ends."""
    begin_write(session)
    webhook = repository.webhooks.get_webhook(session, webhook_id)
    secret = new_secret()
    window_ends = utcnow() + timedelta(hours=settings.webhook_rotation_hours)
    rotated = repository.webhooks.replace_secret(session, webhook.id, secret, window_ends)
    session.commit()
    return rotated, secret


def list_deliveries(session: Session, webhook_id: str, after: int, limit: int) -> list[Delivery]:
    """Up to limit+1 of the webhook's deliveries after the id `after`, oldest first."""
    webhook = repository.webhooks.get_webhook(session, webhook_id)
    return repository.webhooks.delivery_page(session, webhook.id, after, limit)


def disable(session: Session, webhook_id: int, reason: str) -> None:
    """Stop sending to the webhook (its endpoint asked for it) and cancel what is pending."""
    repository.webhooks.disable_webhook(session, webhook_id, reason)
    repository.webhooks.cancel_deliveries(session, webhook_id, reason)
