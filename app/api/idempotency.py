"""Idempotency-Key on every POST: a retry with the same key and body gets the first response."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.middleware import send_problem
from app.services.idempotency import IdempotencyStore, Reservation, StoredResponse

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
REPLAYED_HEADERS = ("content-type", "etag", "location")


class Idempotency:
    """Replays the first response to a POST's retries; `max_body_bytes`: the largest body any
    route accepts; `wait_seconds`: how long a retry waits for its first request to finish."""

    def __init__(
        self, app: ASGIApp, store: IdempotencyStore, max_body_bytes: int, wait_seconds: float
    ) -> None:
        self.app = app
        self.store = store
        self.max_body_bytes = max_body_bytes
        self.wait_seconds = wait_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", []))
        key = headers.get(b"idempotency-key")
        auth = headers.get(b"authorization")
        if scope["type"] != "http" or scope["method"] != "POST" or key is None or auth is None:
            return await self.app(scope, receive, send)
        text = key.decode("latin-1")
        if not KEY_PATTERN.match(text):
            detail = "Idempotency-Key must be 1 to 200 visible ASCII characters."
            return await send_problem(send, 422, detail, field="Idempotency-Key")
        body = await _read_body(receive, self.max_body_bytes)
        if body is None:
            detail = "The request body is larger than Tally accepts."
            return await send_problem(send, 413, detail)
        owner = hashlib.sha256(auth).hexdigest()  # scoped to the API key, which is never stored
        await self._handle(scope, send, body, owner, text)

    async def _handle(self, scope: Scope, send: Send, body: bytes, owner: str, key: str) -> None:
        fingerprint = hashlib.sha256(
            b"\n".join([scope["path"].encode(), scope.get("query_string", b""), body])
        ).hexdigest()
        outcome = await anyio.to_thread.run_sync(self.store.claim, owner, key, fingerprint)
        if outcome == "pending":
            outcome = await self._wait_for(owner, key)
        if isinstance(outcome, StoredResponse):
            return await _replay(send, outcome)
        if outcome == "mismatch":
            detail = "This Idempotency-Key was used with a different request body."
            return await send_problem(send, 422, detail, field="Idempotency-Key")
        if outcome == "pending":
            detail = "A request with this Idempotency-Key is still being handled; retry shortly."
            return await send_problem(send, 409, detail, [(b"retry-after", b"1")])
        await self._first(scope, send, body, owner, key)

    async def _first(self, scope: Scope, send: Send, body: bytes, owner: str, key: str) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        stored = None
        try:
            await self.app(scope, receive, capture)
            if start.get("status", 500) < 500:
                content = b"".join(chunks).decode()
                stored = StoredResponse(start["status"], _kept_headers(start), content)
        finally:
            await anyio.to_thread.run_sync(self.store.store, owner, key, stored)

    async def _wait_for(self, owner: str, key: str) -> Reservation:
        deadline = time.monotonic() + self.wait_seconds
        while time.monotonic() < deadline:
            await anyio.sleep(0.05)
            stored = await anyio.to_thread.run_sync(self.store.read, owner, key)
            if stored is not None:
                return stored
        return "pending"


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it passes `limit` (the largest any route accepts)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            return None
        if not message.get("more_body"):
            return b"".join(chunks)


def _kept_headers(start: Message) -> dict[str, str]:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])}
    return {k: v for k, v in headers.items() if k in REPLAYED_HEADERS}


async def _replay(send: Send, stored: StoredResponse) -> None:
    body = stored.body.encode()
    headers = [(k.encode(), v.encode()) for k, v in stored.headers.items()]
    headers += [(b"content-length", b"%d" % len(body)), (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
