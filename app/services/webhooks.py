"""Webhooks: subscriptions, and the outbox of events written with the change that caused them.

Events (SPEC §7): claim.created (a claim is recorded), claim.updated (corrected, or one of
its disputes closed), claim.retracted, claim.disputed (a dispute is opened),
conflict.opened, conflict.cleared and conflict.resolved. A payload is
`{"type", "timestamp", "data"}`, where data is the claim or conflict exactly as the API
returns it. An `Outbox` only adds rows to its session's transaction: an event is sent if
and only if its change commits. app.services.delivery sends them.

Every event also becomes a row of the change feed (SPEC §12, app.services.changes), written in
the same transaction. A webhook may be narrowed to an event, a metric and conflict kinds, and
has a `format`: the outbox stores the standard payload for all, and delivery renders it as a
Slack or Teams message when it sends it (app.services.alerts).
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

from app import repository
from app.config import Settings
from app.db import begin_write
from app.domain.model import ConflictKind, InvalidInput, utcnow
from app.domain.newsroom import AlertFormat
from app.domain.records import Delivery, Webhook
from app.repository import changes as change_log
from app.schemas import WebhookCreate, WebhookEvent, WebhookUpdate
from app.services import ssrf


def new_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


class Outbox:
    """The events of one write transaction: rows of the change feed, and deliveries queued for
    the webhooks that follow them.

    Rows are added to the caller's transaction: an event is recorded and sent if and only if
    its change commits. The active webhooks are read once, at the first event (a bulk import
    emits thousands).
    """

    def __init__(self, session: Session) -> None:
        self._session = session
        self._subscriptions: list[Webhook] | None = None

    def emit(self, event_type: str, data: BaseModel | Callable[[], BaseModel]) -> None:
        """Record the event in the change feed and queue it for every active webhook that
        follows it (its types, event, metric and conflict kinds).

        `data` is the claim or conflict as the API renders it, or a function giving it.
        """
        now = utcnow()
        values = (data() if callable(data) else data).model_dump(mode="json")
        conflict = event_type.startswith("conflict.")
        change_log.add_change(
            self._session,
            type=WebhookEvent(event_type).value,
            at=now,
            subject=str(values["id"]),
            event=values.get("event"),
            metric=values.get("metric"),
            kind=values.get("kind") if conflict else None,
            data=values,
        )
        if self._subscriptions is None:
            self._subscriptions = repository.webhooks.active_webhooks(self._session)
        subscribers = [w for w in self._subscriptions if follows(w, event_type, values)]
        if not subscribers:
            return
        body = _payload(event_type, values, now)
        for webhook in subscribers:
            repository.webhooks.add_delivery(
                self._session,
                webhook_id=webhook.id,
                message_id=new_message_id(),
                event_type=event_type,
                body=body,
                now=now,
            )


def follows(webhook: Webhook, event_type: str, data: dict[str, Any]) -> bool:
    """Whether the webhook is sent this event: one of its types, of its event and metric when
    it names them, and — for conflict events — of one of its kinds when it names them."""
    if event_type not in webhook.events:
        return False
    if webhook.event is not None and data.get("event") != webhook.event:
        return False
    if webhook.metric is not None and data.get("metric") != webhook.metric:
        return False
    conflict = event_type.startswith("conflict.")
    return webhook.kinds is None or not conflict or data.get("kind") in webhook.kinds


def _payload(event_type: str, data: dict[str, Any], now: datetime) -> str:
    """The body every standard subscriber is sent, signed as it is: compact JSON."""
    payload = {
        "type": WebhookEvent(event_type).value,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(payload, separators=(",", ":"))


def create_webhook(
    session: Session, body: WebhookCreate, settings: Settings
) -> tuple[Webhook, str]:
    """A new subscription and its secret, which is shown once; InvalidInput names the field
    at fault (a URL Tally may not call, an unknown event or metric)."""
    fields = _columns(body.model_dump(), settings)
    secret = new_secret()
    begin_write(session)
    _check_references(session, fields)
    webhook = repository.webhooks.insert_webhook(session, secret=secret, **fields)
    session.commit()
    return webhook, secret


def update_webhook(
    session: Session, webhook_id: str, body: WebhookUpdate, settings: Settings
) -> Webhook:
    """The webhook with the fields sent changed (omitted ones kept, null filters cleared);
    its pending deliveries are sent as it now says (format, URL)."""
    fields = _columns(body.model_dump(exclude_unset=True), settings)
    begin_write(session)
    webhook = repository.webhooks.get_webhook(session, webhook_id)
    _check_references(session, fields)
    updated = repository.webhooks.update_webhook(session, webhook.id, fields)
    session.commit()
    return updated


def _columns(fields: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The webhook's columns for fields of WebhookCreate or WebhookUpdate, the URL checked."""
    if fields.get("url") is not None:
        fields["url"] = str(fields["url"])
        _check_url(fields["url"], settings)
    if fields.get("events") is not None:
        fields["events"] = list(dict.fromkeys(WebhookEvent(e).value for e in fields["events"]))
    if fields.get("format") is not None:
        fields["format"] = AlertFormat(fields["format"]).value
    if fields.get("kinds") is not None:
        fields["kinds"] = list(dict.fromkeys(ConflictKind(k).value for k in fields["kinds"]))
    return fields


def _check_url(url: str, settings: Settings) -> None:
    if settings.webhook_allow_private:
        return
    try:
        ssrf.check(url)
    except ssrf.Refused as error:
        raise InvalidInput(f"The URL cannot receive webhooks: {error}.", field="url") from None


def _check_references(session: Session, fields: dict[str, Any]) -> None:
    """The event and metric a webhook follows exist (InvalidInput naming the field)."""
    if fields.get("event") is not None:
        repository.resources.get_event(session, fields["event"], field="event")
    if fields.get("metric") is not None:
        repository.resources.get_metric(session, fields["metric"], field="metric")


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
