"""Sending the webhook outbox: claim due deliveries, sign and send them, record each outcome.

An attempt is claimed in a short transaction that leases the row (moves next_attempt_at
past the longest a send can take), sent outside any transaction, and recorded in another.
A worker that dies mid-send leaves the lease to expire and the attempt is made again:
delivery is at least once, and `webhook-id` lets receivers drop the duplicate.

The outbox holds each event's standard payload; a Slack or Teams webhook is sent the message
made from it (app.services.alerts) when it is sent, signed all the same. An endpoint that
answers 429 or 503 with Retry-After (Slack's and Teams' rate limits) is not tried again
before then.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import structlog
from sqlalchemy.orm import Session

from app import repository
from app.config import Settings
from app.db import begin_write
from app.domain.model import utcnow
from app.domain.records import Delivery, Webhook
from app.services import alerts, ssrf, webhooks

log = structlog.get_logger()

USER_AGENT = "Tally-Webhooks/0.1"
MAX_BACKOFF_SECONDS = 3600.0


@dataclass(frozen=True)
class Job:
    """One claimed attempt: what to send where, signed with which secrets."""

    delivery_id: int
    attempt: int
    message_id: str
    body: str  # the event's standard payload, as the outbox stored it
    url: str
    secrets: tuple[str, ...]
    format: str = "standard"


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None
    retry_after: float | None = None  # seconds the endpoint asked to wait (429 or 503)

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed with the decoded secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(job: Job, now: datetime, body: str | None = None) -> dict[str, str]:
    """The Standard Webhooks headers of `body` (default: the job's); one signature per live
    secret, space-separated."""
    timestamp = int(now.timestamp())
    body = job.body if body is None else body
    signatures = (signature(s, job.message_id, timestamp, body) for s in job.secrets)
    return {
        "webhook-id": job.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def signing_secrets(webhook: Webhook, now: datetime) -> tuple[str, ...]:
    """The current secret, and the previous one while its rotation window lasts."""
    expires = webhook.previous_secret_expires_at
    if webhook.previous_secret and expires is not None and expires > now:
        return (webhook.secret, webhook.previous_secret)
    return (webhook.secret,)


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """About base·2^(attempts-1), capped at an hour; jittered so retries do not march together."""
    ceiling = min(MAX_BACKOFF_SECONDS, base_seconds * 2 ** min(attempts - 1, 30))
    return timedelta(seconds=ceiling / 2 + random.uniform(0, ceiling / 2))


def lease_seconds(settings: Settings) -> float:
    """How long a claimed attempt is reserved: longer than connect, write and read can take."""
    return settings.webhook_timeout_seconds * 3 + 30


def claim_due(session: Session, settings: Settings, limit: int) -> list[Job]:
    """Take up to `limit` due deliveries for one attempt each; no other worker gets them."""
    now = utcnow()
    due = repository.webhooks.any_due(session, now)  # a plain read: idle polls take no write lock
    session.rollback()
    if not due:
        return []
    begin_write(session)
    deliveries = repository.webhooks.due_deliveries(session, now, limit)
    hooks = repository.webhooks.webhooks_by_id(session, {d.webhook_id for d in deliveries})
    until = now + timedelta(seconds=lease_seconds(settings))
    repository.webhooks.lease_deliveries(session, [d.id for d in deliveries], now, until)
    session.commit()
    return [_job(d, hooks[d.webhook_id], now) for d in deliveries]


def _job(delivery: Delivery, webhook: Webhook, now: datetime) -> Job:
    """The attempt the lease just counted (the delivery as read before it was leased)."""
    return Job(
        delivery.id,
        delivery.attempts + 1,
        delivery.message_id,
        delivery.body,
        webhook.url,
        signing_secrets(webhook, now),
        webhook.format,
    )


def send(
    client: httpx.Client, job: Job, *, allow_private: bool, base_url: str = "http://localhost"
) -> Outcome:
    """POST the signed body (in the webhook's format, linking to `base_url`) once; refused
    addresses are never contacted."""
    try:
        body = alerts.render(job.format, job.body, base_url)
    except Exception as error:  # a payload no message can be made of: recorded, retried
        return Outcome(None, f"Not sent: the {job.format} message could not be made ({error}).")
    try:
        target = ssrf.pin(job.url, allow_private=allow_private)
    except ssrf.Refused as error:
        return Outcome(None, f"Not sent: {error}.")
    headers = target.headers | signed_headers(job, utcnow(), body)
    headers |= {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    try:
        # The body of the answer is never read: only its status (and Retry-After) matter.
        with client.stream(
            "POST",
            target.url,
            content=body.encode(),
            headers=headers,
            extensions=target.extensions,
        ) as response:
            code, wait = response.status_code, response.headers.get("retry-after")
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        return Outcome(None, f"{type(error).__name__}: {error}".removesuffix(": "))
    if 200 <= code < 300:
        return Outcome(code, None)
    retry_after = retry_after_seconds(wait, utcnow()) if code in (429, 503) else None
    asked = f"; it asked to wait {retry_after:g} s" if retry_after is not None else ""
    return Outcome(code, f"The endpoint answered {code}{asked}.", retry_after)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """The wait a Retry-After header asks for (seconds, or an HTTP date), None if unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return min(float(value), MAX_BACKOFF_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP date is in GMT; a bare one is read so too
        when = when.replace(tzinfo=now.tzinfo)
    return min(max(0.0, (when - now).total_seconds()), MAX_BACKOFF_SECONDS)


def record(session: Session, job: Job, outcome: Outcome, settings: Settings) -> None:
    """Store the attempt's outcome and schedule the next, unless the attempt was taken over."""
    begin_write(session)
    delivery = repository.webhooks.locked_delivery(session, job.delivery_id)
    if delivery is None or delivery.status != "pending" or delivery.attempts != job.attempt:
        session.rollback()
        return
    if outcome.status_code == 410:
        webhooks.disable(session, delivery.webhook_id, "The endpoint answered 410 Gone.")
    now = utcnow()
    status, next_attempt_at = _next_step(delivery, outcome, now, settings)
    repository.webhooks.record_attempt(
        session,
        delivery.id,
        status=status,
        next_attempt_at=next_attempt_at,
        response_status=outcome.status_code,
        last_error=outcome.error,
        delivered_at=now if outcome.delivered else None,
    )
    session.commit()


def _next_step(
    delivery: Delivery, outcome: Outcome, now: datetime, settings: Settings
) -> tuple[str, datetime | None]:
    """The delivery's status after this attempt, and when to try again."""
    if outcome.delivered:
        return "delivered", None
    expired = now - delivery.created_at >= timedelta(hours=settings.webhook_retry_hours)
    if outcome.status_code == 410 or expired:
        return "failed", None
    wait = backoff(delivery.attempts, settings.webhook_retry_base_seconds)
    if outcome.retry_after is not None:  # the endpoint's own rate limit: never sooner
        wait = max(wait, timedelta(seconds=outcome.retry_after))
    return "pending", now + wait


def deliver_due(
    make_session: Callable[[], Session], settings: Settings, client: httpx.Client, pool: Executor
) -> int:
    """One attempt at each due delivery, webhook_concurrency at a time; how many were made."""
    with make_session() as session:
        jobs = claim_due(session, settings, settings.webhook_concurrency)
    for _ in pool.map(lambda job: _attempt(make_session, settings, client, job), jobs):
        pass
    return len(jobs)


def _attempt(
    make_session: Callable[[], Session], settings: Settings, client: httpx.Client, job: Job
) -> None:
    outcome = send(
        client, job, allow_private=settings.webhook_allow_private, base_url=settings.base_url
    )
    if not outcome.delivered:
        log.warning(
            "webhook delivery failed",
            delivery=job.delivery_id,
            attempt=job.attempt,
            error=outcome.error,
        )
    with make_session() as session:
        record(session, job, outcome, settings)
