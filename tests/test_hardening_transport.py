"""The transport under attack (issue 13): slow or keyless clients hold no request slot, bodies
must arrive in time, and the small things a client sees — Allow, X-Request-Id — are right.

Raw sockets against a real uvicorn server: the slow clients send their headers and then a
byte of a body they never finish.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_KEY
from tests.pgcluster import free_port

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
SLOW_SENDERS = 40


@contextmanager
def serving(settings: Settings, **changes: object) -> Iterator[int]:
    """The app with `changes` to its settings, served by uvicorn in a thread; its port."""
    port = free_port()
    app = create_app(settings.model_copy(update=changes))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def slow_sender(stack: ExitStack, port: int, authorization: str = "") -> socket.socket:
    """A connection that sent a POST's headers, promising 100,000 bytes, and one byte."""
    sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
    head = (
        "POST /v1/claims HTTP/1.1\r\nHost: tally\r\nContent-Type: application/json\r\n"
        f"Content-Length: 100000\r\n{authorization}\r\n"
    )
    sock.sendall(head.encode() + b"{")
    return sock


def answer(sock: socket.socket) -> tuple[int, str]:
    """The status and the head of the response the server sent on `sock`."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    head = received.split(b"\r\n\r\n")[0].decode("latin-1")
    return int(head.split(" ")[1]), head.lower()


def normal_calls_succeed(port: int) -> None:
    """A read and a write by a valid key, each answered within a second or two."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=ADMIN, timeout=5) as c:
        started = time.monotonic()
        assert c.get("/v1/events").status_code == 200
        event = {"slug": f"e{time.monotonic_ns()}", "title": "Busy day"}
        assert c.post("/v1/events", json=event).status_code == 201
        assert time.monotonic() - started < 2


# Two slots and a short queue: slow clients that held slots would turn normal calls into 503s.
TIGHT = {"threads": 2, "db_timeout_seconds": 2.0}


def test_keyless_slow_senders_are_refused_before_their_body_and_hold_nothing(
    settings: Settings,
) -> None:
    with serving(settings, **TIGHT) as port, ExitStack() as stack:
        keyless = [slow_sender(stack, port) for _ in range(SLOW_SENDERS // 2)]
        wrong = "Authorization: Bearer wrong-key\r\n"
        invalid = [slow_sender(stack, port, wrong) for _ in range(SLOW_SENDERS // 2)]
        normal_calls_succeed(port)
        for sock in keyless + invalid:
            status, head = answer(sock)
            assert status == 401
            assert "application/problem+json" in head
            assert "www-authenticate: bearer" in head


def test_slow_bodies_hold_no_slot_and_time_out_with_408(settings: Settings) -> None:
    with (
        serving(settings, **TIGHT, body_idle_timeout_seconds=3.0) as port,
        ExitStack() as stack,
    ):
        started = time.monotonic()
        senders = [slow_sender(stack, port, f"Authorization: Bearer {ADMIN_KEY}\r\n")]
        senders += [slow_sender(stack, port, f"Authorization: Bearer {ADMIN_KEY}\r\n")
                    for _ in range(SLOW_SENDERS - 1)]  # fmt: skip
        normal_calls_succeed(port)
        for sock in senders:
            status, head = answer(sock)
            assert status == 408
            assert "application/problem+json" in head
        assert 2.5 < time.monotonic() - started < 8


def test_a_trickling_body_times_out_in_all(settings: Settings) -> None:
    """Each byte comes within the idle timeout, but the whole body not within the total."""
    with (
        serving(settings, body_idle_timeout_seconds=1.0, body_timeout_seconds=2.0) as port,
        ExitStack() as stack,
    ):
        started = time.monotonic()
        sock = slow_sender(stack, port, f"Authorization: Bearer {ADMIN_KEY}\r\n")
        sock.settimeout(0.3)
        while time.monotonic() - started < 6:
            try:
                status, _ = answer(sock)
                break
            except TimeoutError:
                sock.sendall(b" ")
        assert status == 408
        assert 1.8 < time.monotonic() - started < 4


def test_a_declared_length_past_the_limit_is_413_before_the_body(settings: Settings) -> None:
    with serving(settings) as port, socket.create_connection(("127.0.0.1", port), 5) as sock:
        head = (
            "POST /v1/events HTTP/1.1\r\nHost: tally\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {ADMIN_KEY}\r\nContent-Length: 999999999\r\n\r\n"
        )
        sock.sendall(head.encode())
        assert answer(sock)[0] == 413


def test_malformed_request_lines_get_uvicorns_own_400(settings: Settings) -> None:
    """A deliberate deviation from "every error is problem+json" (SPEC §8): a request that is
    not HTTP never reaches the application, and uvicorn answers it with a text/plain 400 of
    its own. uvicorn offers no hook for that answer (only its protocol classes' private
    `send_400_response`), and such a client is no HTTP client to read a problem anyway."""
    with serving(settings) as port, socket.create_connection(("127.0.0.1", port), 5) as sock:
        sock.sendall(b"NOT A REQUEST LINE\r\n\r\n")
        status, head = answer(sock)
    assert status == 400
    assert "text/plain" in head


def test_405_lists_every_method_of_the_path(client: TestClient) -> None:
    for path, methods in {
        "/v1/claims": {"GET", "POST"},
        "/v1/events/quake": {"GET", "PATCH"},
        "/v1/keys/1": {"DELETE"},
    }.items():
        response = client.put(path, json={})
        assert response.status_code == 405
        assert response.headers["content-type"] == "application/problem+json"
        allowed = {m.strip() for m in response.headers["allow"].split(",")}
        assert methods <= allowed, (path, allowed)


def test_only_safe_request_ids_are_taken_from_the_client(client: TestClient) -> None:
    import structlog
    from structlog.testing import capture_logs

    from app.logs import configure_logging

    kept = client.get("/healthz", headers={"X-Request-Id": "trace.01-AB_c"})
    assert kept.headers["x-request-id"] == "trace.01-AB_c"
    unsafe = ["a b", "x" * 65, "evil\u00e9\u2028", '{"json": 1}', "line\\nbreak"]
    configure_logging("info")
    try:
        with capture_logs([structlog.contextvars.merge_contextvars]) as logs:
            for sent in unsafe:
                header = sent.encode("utf-8")
                answered = client.get("/healthz", headers={"X-Request-Id": header})
                assert len(answered.headers["x-request-id"]) == 32
                assert answered.headers["x-request-id"].isalnum()
    finally:
        configure_logging("warning")
    logged = [entry["request_id"] for entry in logs if entry["event"] == "request"]
    assert len(logged) == len(unsafe)
    assert all(len(request_id) == 32 and request_id.isalnum() for request_id in logged)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"])
def test_public_routes_need_no_key_even_with_a_body(client: TestClient, path: str) -> None:
    response = client.request("GET", path, content=b"{}", headers={"Authorization": ""})
    assert response.status_code == 200
