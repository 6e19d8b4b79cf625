"""ASGI middleware: request ids, logs, Prometheus metrics, load shedding, body limits."""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import PROBLEM, problem_body

log = structlog.get_logger("tally.http")

REQUESTS = Counter("tally_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("tally_http_request_seconds", "HTTP request latency", ["method", "route"])
SHED = Counter("tally_http_shed_total", "Requests refused with 503 because of overload")


async def send_problem(
    send: Send,
    status: int,
    detail: str,
    headers: list[tuple[bytes, bytes]] | None = None,
    field: str | None = None,
) -> None:
    """Answer with a problem+json response straight from middleware (see problem_body)."""
    errors = [(field, detail)] if field else []
    body = problem_body(status, detail, errors).model_dump_json().encode()
    head = [(b"content-type", PROBLEM.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": body})


class RequestContext:
    """Tags each request with an id, logs and measures it, and sheds load past a limit."""

    def __init__(
        self,
        app: ASGIApp,
        max_in_flight: int,
        max_body_bytes: int,
        max_active: int | None = None,
        queue_seconds: float = 10.0,
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_body_bytes = max_body_bytes
        self.max_active = max_active or max_in_flight
        self.queue_seconds = queue_seconds
        self.in_flight = 0
        self.slots: anyio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["path"] == "/healthz":  # liveness: answered at once, even while shedding load
            return await self._handle(scope, receive, send)
        if self.in_flight >= self.max_in_flight:
            return await self._shed(send)
        self.in_flight += 1
        try:
            await self._admit(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _admit(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle the request once fewer than max_active are being handled; 503 after a wait.

        Waiting requests hold no thread and no connection. Past this point a request may hold
        a pooled connection while it queues for a thread (FastAPI validates a sync route's
        response in the thread pool), so admitting more requests than the pool has
        connections let threads and finished requests wait on each other: at 256 clients no
        request completed (bench/RESULTS.md).
        """
        slots = self.slots = self.slots or anyio.Semaphore(self.max_active)
        admitted = False
        with anyio.move_on_after(self.queue_seconds):
            await slots.acquire()
            admitted = True
        if not admitted:
            return await self._shed(send)
        try:
            await self._handle(scope, receive, send)
        finally:
            slots.release()

    async def _shed(self, send: Send) -> None:
        SHED.inc()
        retry = [(b"retry-after", b"1")]
        await send_problem(send, 503, "Overloaded; retry.", retry)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:100] or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started, status = time.perf_counter(), [500]

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
                status[0] = 400
                detail = "The URL must not contain NUL characters."
                return await send_problem(send_with_id, 400, detail)
            if _is_bulk(scope):  # the bulk endpoint streams its body and enforces its own limit
                return await self.app(scope, receive, send_with_id)
            body = await self._read_limited(receive)
            if body is None:
                status[0] = 413
                detail = f"The request body is larger than {self.max_body_bytes} bytes."
                return await send_problem(send_with_id, 413, detail)
            await self.app(scope, _replay(body, receive), send_with_id)
        finally:
            self._record(scope, status[0], time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("request_id")

    async def _read_limited(self, receive: Receive) -> bytes | None:
        """The whole request body, or None once it passes the limit."""
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

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


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body first, then the client's own messages (a disconnect, say)."""
    sent = [False]

    async def replay() -> Message:
        if sent[0]:
            return await receive()
        sent[0] = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _is_bulk(scope: Scope) -> bool:
    return bool(scope["path"] == "/v1/claims/bulk")
