"""Overload: requests past the active limit wait without a thread, then get 503 + Retry-After;
a request still waiting for its body holds no slot; SQLite writers of one process queue on a
lock that COMMIT or ROLLBACK frees."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy.exc import OperationalError

from app.api.middleware import RequestContext
from app.config import Settings
from app.db import begin_write, make_engine, make_sessionmaker
from tests.conftest import run_async

Sent = list[dict[str, Any]]
Receive = Callable[[], Awaitable[dict[str, Any]]]


async def _call(
    middleware: RequestContext, path: str, sent: Sent, receive: Receive | None = None
) -> None:
    scope = {"type": "http", "method": "GET", "path": path, "headers": [], "query_string": b""}

    async def whole_body() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await middleware(scope, receive or whole_body, send)


def _status(sent: Sent) -> tuple[int, dict[bytes, bytes]]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], dict(start["headers"])


def _run(
    queue_seconds: float, release_after: float, last: str = "C"
) -> tuple[dict[str, Sent], list[str]]:
    """A holds the only active slot until `release_after`; B queues; `last` finds the limit full."""
    handled: list[str] = []
    sent: dict[str, Sent] = {"A": [], "B": [], last: []}

    async def main() -> None:
        release = anyio.Event()

        async def app(scope: Any, receive: Any, send: Any) -> None:
            handled.append(scope["path"])
            if scope["path"] != "/healthz":
                await release.wait()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        middleware = RequestContext(app, 2, 1024, max_active=1, queue_seconds=queue_seconds)
        async with anyio.create_task_group() as tasks:
            for name in "AB":
                tasks.start_soon(_call, middleware, name, sent[name])
                await anyio.sleep(0.01)
            await _call(middleware, last, sent[last])
            await anyio.sleep(release_after)
            release.set()

    run_async(main)
    return sent, handled


def test_a_request_that_waits_too_long_for_a_slot_gets_503_with_retry_after() -> None:
    sent, handled = _run(queue_seconds=0.1, release_after=0.3)
    assert _status(sent["A"])[0] == 200
    status, headers = _status(sent["B"])
    assert status == 503
    assert headers[b"retry-after"] == b"1"
    assert _status(sent["C"])[0] == 503  # past max_in_flight: refused at once
    assert handled == ["A"]


def test_a_queued_request_is_handled_when_a_slot_frees_in_time() -> None:
    sent, handled = _run(queue_seconds=5, release_after=0.05)
    assert _status(sent["A"])[0] == 200
    assert _status(sent["B"])[0] == 200
    assert handled == ["A", "B"]


def test_the_liveness_probe_answers_while_every_slot_is_taken_and_the_queue_full() -> None:
    sent, handled = _run(queue_seconds=5, release_after=0.05, last="/healthz")
    assert _status(sent["/healthz"])[0] == 200
    assert handled == ["A", "/healthz", "B"]  # answered ahead of the queued B


def test_a_request_waiting_for_its_body_holds_no_slot() -> None:
    """B sent a byte of its body and no more: C is handled meanwhile; B gets 408."""
    sent: dict[str, Sent] = {"B": [], "C": []}
    handled: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        handled.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    chunks = iter([{"type": "http.request", "body": b"{", "more_body": True}])

    async def a_byte_then_nothing() -> dict[str, Any]:
        message = next(chunks, None)
        if message is None:
            await anyio.sleep_forever()
        return message or {}

    async def main() -> None:
        middleware = RequestContext(
            app, 10, 1024, max_active=1, queue_seconds=0.2, body_idle_seconds=0.5
        )
        with anyio.move_on_after(3):  # the old middleware never gave up on B
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_call, middleware, "B", sent["B"], a_byte_then_nothing)
                await anyio.sleep(0.05)
                await _call(middleware, "C", sent["C"])

    run_async(main)
    assert _status(sent["C"])[0] == 200
    assert _status(sent["B"])[0] == 408
    assert handled == ["C"]


def test_sqlite_writers_queue_and_commit_or_rollback_lets_the_next_in(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 't.db'}", db_timeout_seconds=0.2)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    try:
        with sessions() as first:
            begin_write(first)
            with sessions() as second, pytest.raises(OperationalError, match="locked"):
                begin_write(second)  # waits db_timeout_seconds, then refuses
            first.rollback()
        for _ in range(2):
            with sessions() as writer:
                begin_write(writer)
                writer.commit()
    finally:
        engine.dispose()
