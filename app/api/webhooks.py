"""Webhooks: admins subscribe newsroom tools to Tally's events and watch their deliveries."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from app import repository
from app.api.deps import Admin
from app.api.errors import ERROR_RESPONSES
from app.api.paging import Cursor, Limit, after_id, to_page
from app.db import SessionDep
from app.schemas import DeliveryRead, Page, WebhookCreate, WebhookCreated, WebhookRead
from app.services import webhooks

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"], responses=ERROR_RESPONSES)


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook(
    body: WebhookCreate, request: Request, response: Response, session: SessionDep, _: Admin
) -> WebhookCreated:
    row, secret = webhooks.create_webhook(session, body, request.app.state.settings)
    response.headers["Location"] = f"/v1/webhooks/{row.id}"
    return WebhookCreated(**WebhookRead.model_validate(row).model_dump(), secret=secret)


@router.get("")
def list_webhooks(
    session: SessionDep, _: Admin, limit: Limit = 50, cursor: Cursor = None
) -> Page[WebhookRead]:
    rows = webhooks.list_webhooks(session, after_id(cursor), limit)
    return to_page(rows, limit, WebhookRead.model_validate)


@router.get("/{webhook_id}")
def read_webhook(webhook_id: str, session: SessionDep, _: Admin) -> WebhookRead:
    return WebhookRead.model_validate(repository.webhooks.get_webhook(session, webhook_id))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: str, session: SessionDep, _: Admin) -> None:
    webhooks.delete_webhook(session, webhook_id)


@router.post("/{webhook_id}/rotate-secret")
def rotate_secret(
    webhook_id: str, request: Request, session: SessionDep, _: Admin
) -> WebhookCreated:
    row, secret = webhooks.rotate_secret(session, webhook_id, request.app.state.settings)
    return WebhookCreated(**WebhookRead.model_validate(row).model_dump(), secret=secret)


@router.get("/{webhook_id}/deliveries")
def list_deliveries(
    webhook_id: str, session: SessionDep, _: Admin, limit: Limit = 50, cursor: Cursor = None
) -> Page[DeliveryRead]:
    rows = webhooks.list_deliveries(session, webhook_id, after_id(cursor), limit)
    return to_page(rows, limit, DeliveryRead.model_validate)
