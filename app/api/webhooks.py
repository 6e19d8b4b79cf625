"""Webhooks: admins subscribe newsroom tools to Tally's events and watch their deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from app.api.deps import Admin, SessionDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.api.paging import Cursor, Limit, after_id, to_page
from app.schemas import (
    DeliveryRead,
    Page,
    WebhookCreate,
    WebhookCreated,
    WebhookRead,
    WebhookUpdate,
)
from app.services import webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: WebhookCreate, response: Response, session: SessionDep, settings: SettingsDep, _: Admin
) -> WebhookCreated:
    webhook, secret = webhooks.create_webhook(session, body, settings)
    response.headers["Location"] = f"/v1/webhooks/{webhook.id}"
    return WebhookCreated(**WebhookRead.model_validate(webhook).model_dump(), secret=secret)


@router.get("")
def list_webhooks(
    session: SessionDep, _: Admin, limit: Limit = 50, cursor: Cursor = None
) -> Page[WebhookRead]:
    found = webhooks.list_webhooks(session, after_id(cursor), limit)
    return to_page(found, limit, WebhookRead.model_validate)


@router.get("/{webhook_id}")
def read_webhook(webhook_id: str, session: SessionDep, _: Admin) -> WebhookRead:
    return WebhookRead.model_validate(webhooks.get_webhook(session, webhook_id))


@router.patch("/{webhook_id}")
def update_webhook(
    webhook_id: str, body: WebhookUpdate, session: SessionDep, settings: SettingsDep, _: Admin
) -> WebhookRead:
    """Change the URL, events, format or filters; omitted fields keep their value."""
    return WebhookRead.model_validate(webhooks.update_webhook(session, webhook_id, body, settings))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: str, session: SessionDep, _: Admin) -> None:
    webhooks.delete_webhook(session, webhook_id)


@router.post("/{webhook_id}/rotate-secret")
def rotate_secret(
    webhook_id: str, session: SessionDep, settings: SettingsDep, _: Admin
) -> WebhookCreated:
    webhook, secret = webhooks.rotate_secret(session, webhook_id, settings)
    return WebhookCreated(**WebhookRead.model_validate(webhook).model_dump(), secret=secret)


@router.get("/{webhook_id}/deliveries")
def list_deliveries(
    webhook_id: str, session: SessionDep, _: Admin, limit: Limit = 50, cursor: Cursor = None
) -> Page[DeliveryRead]:
    found = webhooks.list_deliveries(session, webhook_id, after_id(cursor), limit)
    return to_page(found, limit, DeliveryRead.model_validate)
