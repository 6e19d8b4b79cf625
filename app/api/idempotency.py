"""Idempotency-Key on every write: a retry with the same key and body gets the first response.

What a client can rely on:

- Records are kept for writes only: POSTs whose key may write (editor or admin; the key was
  checked by RequestContext). `POST /v1/extract` stores nothing, so it is a read: its key is
  ignored and a retry simply runs again. A reader's POST is refused (403) and keeps nothing.
- A record keeps what a replay needs — the status, Content-Type, ETag and Location, the
  body — and only for answers below 400: a refused request changed nothing (SPEC §8), so its
  key is released and a retry runs afresh, as after a 5xx.
- An answer that shows a secret once (a new API key, a webhook's signing secret) or is larger
  than `max_stored_bytes` is never kept: a retry gets a 409 problem saying that the request
  was handled, with its status and the id it created or changed.
- A retry that finds its first request still running waits up to `wait_seconds` for its
  answer, then gets 409 with Retry-After. The first request holds the key under a lease that
  it renews while it runs; if its process died, the lease lapses within `lease_seconds` and
  a retry runs the request anew (what the dead process committed before it died stays, and
  is not known to the retry).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
import time
from typing import Any

import anyio
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import PROBLEM, problem_body
from app.api.middleware import PRINCIPAL, send_problem
from app.domain.records import Principal, Role
from app.services.idempotency import IdempotencyStore, Reservation, StoredResponse

log = structlog.get_logger("tally.idempotency")

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")
REPLAYED_HEADERS = ("content-type", "etag", "location")
READS = {"/v1/extract"}  # POSTs that store nothing: no record, the key is ignored
# Routes whose answer shows a secret that is stored only hashed (SPEC §8 and §10).
SHOWS_SECRET = {"/v1/keys", "/v1/webhooks", "/v1/webhooks/{webhook_id}/rotate-secret"}


class Idempotency:
    """Replays the first response to a write's retries (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        store: IdempotencyStore,
        wait_seconds: float,
        lease_seconds: float,
        max_stored_bytes: int,
    ) -> None:
        self.app = app
        self.store = store
        self.wait_seconds = wait_seconds
        self.lease_seconds = lease_seconds
        self.max_stored_bytes = max_stored_bytes
        self.running: set[tuple[str, str]] = set()  # (owner, key) held by requests of this process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = dict(scope.get("headers", [])).get(b"idempotency-key")
        if key is None or not _keeps_records(scope):
            return await self.app(scope, receive, send)
        text = key.decode("latin-1")
        if not KEY_PATTERN.match(text):
            detail = "Idempotency-Key must be 1 to 200 visible ASCII characters."
            return await send_problem(send, 422, detail, field="Idempotency-Key")
        body = await _read_body(receive)
        authorization = dict(scope["headers"])[b"authorization"]
        owner = hashlib.sha256(authorization).hexdigest()  # scoped to the API key, never stored
        await self._handle(scope, send, body, owner, text)

    async def _handle(self, scope: Scope, send: Send, body: bytes, owner: str, key: str) -> None:
        fingerprint = hashlib.sha256(
            b"\n".join([scope["path"].encode(), scope.get("query_string", b""), body])
        ).hexdigest()
        token = secrets.token_hex(16)
        outcome = await self._reserve(owner, key, fingerprint, token)
        if isinstance(outcome, StoredResponse):
            return await _replay(send, outcome)
        if outcome == "mismatch":
            detail = "This Idempotency-Key was used with a different request body."
            return await send_problem(send, 422, detail, field="Idempotency-Key")
        if outcome == "pending":
            detail = "A request with this Idempotency-Key is still being handled; retry shortly."
            return await send_problem(send, 409, detail, [(b"retry-after", b"1")])
        await self._first(scope, send, body, (owner, key, token))

    async def _reserve(self, owner: str, key: str, fingerprint: str, token: str) -> Reservation:
        """Claim the key; while another request holds it, wait up to wait_seconds for its
        answer, and take the key over should its holder's lease lapse meanwhile."""
        deadline = time.monotonic() + self.wait_seconds
        outcome = await self._try(owner, key, fingerprint, token)
        while outcome == "pending" and time.monotonic() < deadline:
            await anyio.sleep(0.05)
            outcome = await self._try(owner, key, fingerprint, token)
        return outcome

    async def _try(self, owner: str, key: str, fingerprint: str, token: str) -> Reservation:
        """Say "pending" while a request of this process holds the key, whatever its lease
        says (on SQLite a long write can hold off the renewals); else what the store says,
        claiming the key when it is free."""
        if (owner, key) in self.running:
            return "pending"
        seen = await anyio.to_thread.run_sync(self.store.peek, owner, key, fingerprint)
        if seen is not None:
            return seen
        return await anyio.to_thread.run_sync(self.store.claim, owner, key, fingerprint, token)

    async def _first(
        self, scope: Scope, send: Send, body: bytes, held: tuple[str, str, str]
    ) -> None:
        """Run the request while renewing its lease, then keep its answer or release the key."""
        captured = Captured(send, self.max_stored_bytes)
        self.running.add(held[:2])
        lease = asyncio.get_running_loop().create_task(self._keep_lease(*held))

        async def receive() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            await self.app(scope, receive, captured.send)
        finally:
            lease.cancel()
            try:
                await self._settle(held, captured.kept(scope))
            finally:
                self.running.discard(held[:2])

    async def _keep_lease(self, owner: str, key: str, token: str) -> None:
        while True:
            await anyio.sleep(self.lease_seconds / 3)
            try:
                await anyio.to_thread.run_sync(self.store.renew, owner, key, token)
            except Exception as error:  # the database is away or busy: the next may get through
                log.warning("idempotency lease not renewed", error=str(error).partition("\n")[0])

    async def _settle(self, held: tuple[str, str, str], kept: StoredResponse | None) -> None:
        """Store the answer (or release the key). The answer has been sent: a failure here
        is logged, and the record's lease then lapses as if the process had died."""
        try:
            await anyio.to_thread.run_sync(self.store.store, *held, kept)
        except Exception:
            log.exception("idempotency record not stored")


class Captured:
    """The response, passed on to the client as it goes, and its body kept up to `limit`."""

    def __init__(self, send: Send, limit: int) -> None:
        self.downstream, self.limit = send, limit
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.chunks: list[bytes] = []
        self.size = 0

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            for name, value in message.get("headers", []):
                self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")
        elif message["type"] == "http.response.body":
            chunk = message.get("body", b"")
            self.size += len(chunk)
            if self.size <= self.limit:
                self.chunks.append(chunk)
        await self.downstream(message)

    def kept(self, scope: Scope) -> StoredResponse | None:
        """What a retry should get; None (release the key) for an answer of 400 or more."""
        if self.status is None or self.status >= 400:
            return None
        route = getattr(scope.get("route"), "path", "")
        if route in SHOWS_SECRET:
            return self._handled("its answer showed a secret, which is shown only once")
        if self.size > self.limit:
            return self._handled(f"its answer was larger than the {self.limit} bytes kept")
        headers = {k: v for k, v in self.headers.items() if k in REPLAYED_HEADERS}
        return StoredResponse(self.status, headers, b"".join(self.chunks).decode())

    def _handled(self, why: str) -> StoredResponse:
        """A 409 that tells a retry its request was handled, and why it is not replayed."""
        created = _id_of(b"".join(self.chunks)) if self.size <= self.limit else None
        what = f"status {self.status}" + (f", id {created}" if created else "")
        detail = f"This request was already handled ({what}); {why}, so it is not replayed."
        problem = problem_body(409, detail).model_dump_json()
        return StoredResponse(409, {"content-type": PROBLEM}, problem)


def _keeps_records(scope: Scope) -> bool:
    """Whether the request is a write that keeps an Idempotency-Key record."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] in READS:
        return False
    principal: Principal | None = scope.get(PRINCIPAL)
    return principal is not None and principal.role.admits(Role.EDITOR)


def _id_of(body: bytes) -> str | None:
    try:
        document: Any = json.loads(body)
    except ValueError:
        return None
    return str(document["id"]) if isinstance(document, dict) and "id" in document else None


async def _read_body(receive: Receive) -> bytes:
    """The whole body (RequestContext has read it in good time and within its limit)."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _replay(send: Send, stored: StoredResponse) -> None:
    body = stored.body.encode()
    headers = [(k.encode(), v.encode()) for k, v in stored.headers.items()]
    headers += [(b"content-length", b"%d" % len(body)), (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": stored.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": body})
