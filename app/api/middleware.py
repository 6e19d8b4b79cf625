"""ASGI middleware: request ids, logs, Prometheus metrics, load shedding, and the checks a
request passes before it may take a slot: its key, then its whole body, in good time."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import anyio
import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import PROBLEM, database_refusal, problem_body
from app.api.sharing import share_token
from app.config import Settings
from app.domain.records import Principal
from app.services import keys
from app.services.sessions import SessionFactory

log = structlog.get_logger("tally.http")

REQUESTS = Counter("tally_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("tally_http_request_seconds", "HTTP request latency", ["method", "route"])
SHED = Counter("tally_http_shed_total", "Requests refused with 503 because of overload")

PRINCIPAL = "tally.principal"  # the scope entry that carries the caller on to inner layers
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
Headers = list[tuple[bytes, bytes]]
# Refused before its body was read: the connection is closed rather than drained.
CLOSE: Headers = [(b"connection", b"close")]


async def send_problem(
    send: Send,
    status: int,
    detail: str,
    headers: Headers | None = None,
    field: str | None = None,
) -> None:
    """Answer with a problem+json response straight from middleware (see problem_body)."""
    errors = [(field, detail)] if field else []
    body = problem_body(status, detail, errors).model_dump_json().encode()
    head = [(b"content-type", PROBLEM.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": body})


class Refusal(Exception):
    """A request refused before it reaches the app."""

    def __init__(self, status: int, detail: str, headers: Headers | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or []


class Authenticator:
    """The principal of a bearer key: from the key cache on the event loop when it remembers
    the key, else from the database in a thread, at most `lookups` at once (so that lookups
    for requests that hold no slot leave the pool's connections to those that do)."""

    def __init__(
        self, factory: SessionFactory, settings: Settings, cache: keys.KeyCache, lookups: int = 4
    ) -> None:
        self.factory, self.settings, self.cache, self.lookups = factory, settings, cache, lookups
        self.limiter: anyio.CapacityLimiter | None = None

    async def __call__(self, token: str) -> Principal | None:
        known = self.cache.principal(token, lambda: None)  # asks nothing; a miss is looked up
        if known is not None:
            return known
        self.limiter = self.limiter or anyio.CapacityLimiter(self.lookups)
        factory, settings, cache = self.factory, self.settings, self.cache
        return await anyio.to_thread.run_sync(
            keys.authenticate, factory, token, settings, cache, limiter=self.limiter
        )


class RequestContext:
    """Tags each request with an id, logs and measures it, and sheds load past a limit.

    A request to /v1/ without a valid key is refused (401) before its body is read; a body
    must arrive within `body_idle_seconds` of each read and `body_seconds` in all (408).
    Only then does a request wait for one of the `max_active` slots: a slow client holds
    no slot, only a place among `max_in_flight`.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_in_flight: int,
        max_body_bytes: int,
        max_active: int | None = None,
        queue_seconds: float = 10.0,
        *,
        bulk_max_bytes: int | None = None,
        body_idle_seconds: float = 10.0,
        body_seconds: float = 30.0,
        authenticate: Authenticator | None = None,
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_body_bytes = max_body_bytes
        self.bulk_max_bytes = bulk_max_bytes or max_body_bytes
        self.max_active = max_active or max_in_flight
        self.queue_seconds = queue_seconds
        self.body_idle_seconds = body_idle_seconds
        self.body_seconds = body_seconds
        self.authenticate = authenticate
        self.in_flight = 0
        self.slots: anyio.Semaphore | None = None
        self.uploads: anyio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] == "/healthz":  # liveness: answered at once, even while shedding load
            return await self._handle(scope, receive, send, self.app)
        if self.in_flight >= self.max_in_flight:
            return await self._shed(send)
        self.in_flight += 1
        try:
            await self._handle(scope, receive, send, self._admit)
        finally:
            self.in_flight -= 1

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle the request once fewer than max_active are being handled; 503 after a wait.

        Waiting requests hold no thread and no connection. Past this point a request may hold
        a pooled connection while it queues for a thread (FastAPI validates a sync route's
        response in the thread pool), so admitting more requests than the pool has
        connections let threads and finished requests wait on each other: at 256 clients no
        request completed (bench/RESULTS.md).

        The change feed's long poll (SPEC §12) takes no slot: it holds no connection and no
        thread while it waits (its short reads queue for threads like any other), and up to
        30 s a slot would shut out other requests.
        """
        if scope["path"] == LONG_POLL:
            return await self.app(scope, receive, send)
        slots = self.slots = self.slots or anyio.Semaphore(self.max_active)
        admitted = False
        with anyio.move_on_after(self.queue_seconds):
            await slots.acquire()
            admitted = True
        if not admitted:
            return await self._shed(send)
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()

    async def _shed(self, send: Send) -> None:
        SHED.inc()
        retry = [(b"retry-after", b"1")]
        await send_problem(send, 503, "Overloaded; retry.", retry)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, inner: ASGIApp) -> None:
        """Run the checked request through `inner` with a request id, logged and measured; a
        database that cannot serve now is a 503 here too (keys and Idempotency-Key records
        are looked up outside the routes)."""
        request_id = _request_id(scope)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        begun, status, responded = time.perf_counter(), 500, False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self._checked(scope, receive, send_with_id, inner)
        except Exception as error:
            refusal = None if responded else database_refusal(error)
            if refusal is None:
                raise
            detail, retry = refusal
            await send_problem(send_with_id, 503, detail, [(b"retry-after", retry.encode())])
        finally:
            self._record(scope, status, time.perf_counter() - begun)
            structlog.contextvars.unbind_contextvars("request_id")

    async def _checked(self, scope: Scope, receive: Receive, send: Send, inner: ASGIApp) -> None:
        try:
            _check_url(scope)
            await self._check_key(scope)
            body = await self._read_body(scope, receive)
        except Refusal as refusal:
            return await send_problem(send, refusal.status, refusal.detail, refusal.headers)
        await inner(scope, _replay(body, receive), send)

    async def _check_key(self, scope: Scope) -> None:
        """Refusal 401 unless a request to /v1/ (every route there needs a key, SPEC §8)
        carries a valid one; its Principal goes on in scope[PRINCIPAL]. A GET through a share
        link goes on to app.api.deps, which admits it for its one page (SPEC §12)."""
        if self.authenticate is None or not scope["path"].startswith("/v1/"):
            return
        token = _bearer_token(scope)
        if token is None and scope["method"] == "GET" and share_token(scope) is not None:
            return  # a share link (SPEC §12): app.api.deps admits it for its one page, or not
        principal = None if token is None else await self.authenticate(token)
        if principal is None:
            detail = "An API key is required." if token is None else "The API key is not valid."
            raise Refusal(401, detail, [(b"www-authenticate", b"Bearer"), *CLOSE])
        scope[PRINCIPAL] = principal

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        """The whole body; Refusal 413 past the limit, 408 when it does not arrive in time."""
        if not _is_bulk(scope):
            return await self._read_limited(scope, receive, self.max_body_bytes)
        # Bulk files are large: no more of them in memory at once than requests are handled.
        self.uploads = self.uploads or anyio.Semaphore(self.max_active)
        async with self.uploads:
            return await self._read_limited(scope, receive, self.bulk_max_bytes)

    async def _read_limited(self, scope: Scope, receive: Receive, limit: int) -> bytes:
        too_large = Refusal(413, f"The request body is larger than {limit} bytes.", CLOSE)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks, size = [], 0
        deadline = anyio.current_time() + self.body_seconds
        while True:
            message = await self._next_message(receive, deadline)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    async def _next_message(self, receive: Receive, deadline: float) -> Message:
        """The client's next message; Refusal 408 past the idle timeout or the deadline, 400
        when the client went away."""
        with anyio.move_on_after(min(self.body_idle_seconds, deadline - anyio.current_time())):
            message = await receive()
            if message["type"] == "http.disconnect":
                raise Refusal(400, "The client closed the connection before the body ended.")
            return message
        detail = "The request body did not arrive in time; send it without long pauses."
        raise Refusal(408, detail, CLOSE)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route: Any = scope.get("route")
        name = getattr(route, "path", "unmatched")
        REQUESTS.labels(scope["method"], name, str(status)).inc()
        LATENCY.labels(scope["method"], name).observe(seconds)
        log.info(
            "request",
            method=scope["method"],
            path=scope["path"],
            route=name,
            status=status,
            ms=round(seconds * 1000, 1),
        )


def _request_id(scope: Scope) -> str:
    """The client's X-Request-Id when it is a safe token, else a new one."""
    sent = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
    return sent if REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex


def _check_url(scope: Scope) -> None:
    if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
        raise Refusal(400, "The URL must not contain NUL characters.")


def _bearer_token(scope: Scope) -> str | None:
    """The key of an `Authorization: Bearer <key>` header, or None."""
    value = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body first, then the client's own messages (a disconnect, say)."""
    sent = [False]

    async def replay() -> Message:
        if sent[0]:
            return await receive()
        sent[0] = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


LONG_POLL = "/v1/changes"  # app.api.changes


def _is_bulk(scope: Scope) -> bool:
    return bool(scope["path"] == "/v1/claims/bulk")
