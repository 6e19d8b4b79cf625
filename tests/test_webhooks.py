"""Signed webhooks (SPEC §7): an outbox written with each change, a worker that delivers it.

Every delivery goes to a real HTTP receiver on 127.0.0.1 started by the test, and every
signature is checked with the official `standardwebhooks` package.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from structlog.testing import capture_logs

from app import models, repository
from app.config import Settings
from app.db import begin_write, make_engine, make_sessionmaker
from app.domain import records
from app.main import create_app
from app.services import delivery, ssrf
from app.worker import Worker
from tests.conftest import ADMIN_KEY, claim_body, new_key, seed
from tests.pgcluster import free_port

EVENTS = [
    "claim.created",
    "claim.updated",
    "claim.retracted",
    "claim.disputed",
    "conflict.opened",
    "conflict.cleared",
    "conflict.resolved",
]


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Fast polls and retries, so that every wait below is short."""
    return Settings(
        database_url=database_url,
        admin_key=ADMIN_KEY,
        webhook_allow_private=True,
        webhook_poll_seconds=0.02,
        webhook_retry_base_seconds=0.05,
        webhook_timeout_seconds=2,
    )


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    def verify(self, secret: str) -> dict[str, Any]:
        """The payload, after the official library checked its signature."""
        payload: dict[str, Any] = Webhook(secret).verify(self.body, self.headers)
        return payload


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records each POST and answers from a script."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.answers: list[int] = []  # statuses to answer, in order; 200 once they run out
        self.delay = 0.0
        lock, receiver = threading.Lock(), self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(receiver.delay)
                with lock:
                    receiver.received.append(Received(dict(self.headers.items()), body))
                    status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/tally"

    def payloads(self, secret: str) -> list[dict[str, Any]]:
        return [r.verify(secret) for r in list(self.received)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def wait_until(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy, failing after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


def register(client: TestClient, url: str, events: list[str] | None = None) -> dict[str, Any]:
    response = client.post("/v1/webhooks", json={"url": url, "events": events or EVENTS})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def deliveries(client: TestClient, webhook: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/v1/webhooks/{webhook['id']}/deliveries", params={"limit": 1000})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def all_delivered(client: TestClient, webhook: dict[str, Any], count: int) -> bool:
    rows = deliveries(client, webhook)
    return len(rows) == count and all(d["status"] == "delivered" for d in rows)


def post_claim(client: TestClient, **fields: object) -> dict[str, Any]:
    response = client.post("/v1/claims", json=claim_body(**fields))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def delivery_count(settings: Settings) -> int:
    engine = make_engine(settings)
    with make_sessionmaker(engine)() as session:
        count = session.scalar(select(func.count()).select_from(models.WebhookDelivery))
    engine.dispose()
    return int(count or 0)


# --- events ----------------------------------------------------------------------------


def test_every_change_kind_sends_a_signed_event(client: TestClient, receiver: Receiver) -> None:
    seed(client)
    hook = register(client, receiver.url)
    a = post_claim(client, claimant="Ministry", figure="at least 164")["id"]
    b = post_claim(client, claimant="Police", figure="100")["id"]  # opens value_mismatch
    fix = {"figure": "200", "reason": "corrected"}
    assert client.patch(f"/v1/claims/{b}", json=fix, headers={"If-Match": '"1"'}).status_code == 200
    dispute = client.post(f"/v1/claims/{a}/disputes", json={"by": "NGO", "reason": "too low"})
    [disputed] = client.get("/v1/conflicts", params={"kind": "disputed"}).json()["items"]
    resolve = client.post(f"/v1/conflicts/{disputed['id']}/resolve", json={"note": "checked"})
    assert resolve.status_code == 200
    close = f"/v1/claims/{a}/disputes/{dispute.json()['id']}/close"
    assert client.post(close, json={}).status_code == 200
    assert client.post(f"/v1/claims/{a}/retract", json={"reason": "deleted"}).status_code == 200

    expected = [
        "claim.created", "claim.created", "conflict.opened", "claim.updated", "conflict.cleared",
        "claim.disputed", "conflict.opened", "conflict.resolved", "claim.updated",
        "claim.retracted", "conflict.opened",
    ]  # fmt: skip
    wait_until(lambda: all_delivered(client, hook, len(expected)), what="every delivery")
    rows = deliveries(client, hook)
    assert [d["event_type"] for d in rows] == expected  # the outbox keeps the order of changes
    payloads = {r.headers["webhook-id"]: r.verify(hook["secret"]) for r in receiver.received}
    assert set(payloads) == {d["message_id"] for d in rows}
    assert {p["type"] for p in payloads.values()} == set(EVENTS)
    by_type = {d["event_type"]: payloads[d["message_id"]] for d in rows}  # the last of each type
    assert set(by_type["claim.retracted"]) == {"type", "timestamp", "data"}
    assert by_type["claim.retracted"]["data"] == client.get(f"/v1/claims/{a}").json()
    resolved = by_type["conflict.resolved"]["data"]
    assert resolved == client.get(f"/v1/conflicts/{disputed['id']}").json()
    assert by_type["conflict.opened"]["data"]["kind"] == "retracted_figure"
    assert all(d["attempts"] == 1 and d["response_status"] == 200 for d in rows)


def test_subscriptions_filter_events_and_deleted_webhooks_get_nothing(
    client: TestClient, receiver: Receiver
) -> None:
    seed(client)
    conflicts_only = register(client, receiver.url, ["conflict.opened"])
    gone = register(client, receiver.url)
    assert client.delete(f"/v1/webhooks/{gone['id']}").status_code == 204
    post_claim(client, claimant="Ministry", figure="at least 164")
    post_claim(client, claimant="Police", figure="100")
    wait_until(lambda: all_delivered(client, conflicts_only, 1), what="the conflict event")
    [payload] = receiver.payloads(conflicts_only["secret"])
    assert payload["type"] == "conflict.opened"
    assert client.get(f"/v1/webhooks/{gone['id']}/deliveries").status_code == 404


# --- retries, 410, rotation ---------------------------------------------------------------


def test_a_failing_endpoint_is_retried_with_the_same_message_id(
    client: TestClient, receiver: Receiver
) -> None:
    seed(client)
    hook = register(client, receiver.url, ["claim.created"])
    receiver.answers = [500, 503, 200]
    post_claim(client)
    wait_until(lambda: all_delivered(client, hook, 1), what="delivery after two failures")
    [row] = deliveries(client, hook)
    assert (row["attempts"], row["response_status"], row["last_error"]) == (3, 200, None)
    assert [r.headers["webhook-id"] for r in receiver.received] == [row["message_id"]] * 3
    assert len({json.dumps(r.verify(hook["secret"])) for r in receiver.received}) == 1


def test_a_receiver_that_was_down_gets_the_event_when_it_comes_back(client: TestClient) -> None:
    seed(client)
    port = free_port()
    hook = register(client, f"http://127.0.0.1:{port}/hooks", ["claim.created"])
    claim = post_claim(client)

    def failed_once() -> dict[str, Any] | None:
        [row] = deliveries(client, hook)
        return row if row["attempts"] >= 1 and row["last_error"] else None

    row = wait_until(failed_once, what="a failed attempt")
    assert row["status"] == "pending"
    assert row["response_status"] is None
    assert row["next_attempt_at"] is not None
    assert "ConnectError" in row["last_error"]
    back = Receiver(port)
    try:
        wait_until(lambda: all_delivered(client, hook, 1), what="delivery once the receiver is up")
        [payload] = back.payloads(hook["secret"])
        assert payload["data"]["id"] == claim["id"]
    finally:
        back.close()


def test_retries_end_when_the_retry_period_is_over(settings: Settings, receiver: Receiver) -> None:
    brief = settings.model_copy(update={"webhook_retry_hours": 1.5 / 3600})  # 1.5 seconds
    with TestClient(create_app(brief), headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        seed(client)
        hook = register(client, receiver.url, ["claim.created"])
        receiver.answers = [500] * 1000
        post_claim(client)

        def given_up() -> dict[str, Any] | None:
            [row] = deliveries(client, hook)
            return row if row["status"] == "failed" else None

        row = wait_until(given_up, what="the delivery given up")
    assert row["attempts"] >= 2
    assert row["attempts"] == len(receiver.received)
    assert (row["response_status"], row["next_attempt_at"]) == (500, None)
    assert "500" in row["last_error"]


def test_410_gone_disables_the_webhook(client: TestClient, receiver: Receiver) -> None:
    seed(client)
    hook = register(client, receiver.url, ["claim.created"])
    receiver.answers = [410]
    post_claim(client)
    wait_until(
        lambda: client.get(f"/v1/webhooks/{hook['id']}").json()["status"] == "disabled",
        what="the webhook disabled",
    )
    [row] = deliveries(client, hook)
    assert (row["status"], row["response_status"], row["attempts"]) == ("failed", 410, 1)
    assert "410" in client.get(f"/v1/webhooks/{hook['id']}").json()["disabled_reason"]
    post_claim(client, claimant="Another")
    assert len(deliveries(client, hook)) == 1  # nothing more is queued for it
    assert len(receiver.received) == 1


def test_a_rotated_secret_signs_alongside_the_previous_one(
    client: TestClient, receiver: Receiver
) -> None:
    seed(client)
    hook = register(client, receiver.url, ["claim.created"])
    rotated = client.post(f"/v1/webhooks/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != hook["secret"]
    assert rotated.json()["previous_secret_expires_at"] is not None
    assert "secret" not in client.get(f"/v1/webhooks/{hook['id']}").json()
    post_claim(client)
    wait_until(lambda: all_delivered(client, hook, 1), what="delivery")
    [request] = receiver.received
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    assert request.verify(new_secret) == request.verify(hook["secret"])
    with pytest.raises(WebhookVerificationError):
        request.verify("whsec_" + base64.b64encode(os.urandom(32)).decode())


def test_the_previous_secret_stops_signing_when_its_window_ends() -> None:
    now = datetime.now(UTC)
    hook = records.Webhook(
        id=1,
        url="https://hooks.example.org/tally",
        events=("claim.created",),
        description=None,
        status="active",
        disabled_reason=None,
        secret="whsec_new",
        previous_secret="whsec_old",
        previous_secret_expires_at=now + timedelta(seconds=1),
        created_at=now,
        updated_at=now,
    )
    assert delivery.signing_secrets(hook, now) == ("whsec_new", "whsec_old")
    hook = replace(hook, previous_secret_expires_at=now - timedelta(seconds=1))
    assert delivery.signing_secrets(hook, now) == ("whsec_new",)


def test_backoff_grows_exponentially_with_jitter() -> None:
    delays = [delivery.backoff(n, 5).total_seconds() for n in range(1, 8)]
    assert all(5 * 2 ** (n - 1) / 2 <= d <= 5 * 2 ** (n - 1) for n, d in enumerate(delays, 1))
    assert delivery.backoff(40, 5).total_seconds() <= delivery.MAX_BACKOFF_SECONDS
    assert len({delivery.backoff(3, 5) for _ in range(20)}) > 1


# --- the outbox is transactional ------------------------------------------------------------


def test_no_event_for_a_change_that_was_rolled_back(
    client: TestClient, receiver: Receiver, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(client)
    hook = register(client, receiver.url)
    first = post_claim(client)
    path = f"/v1/claims/{first['id']}"
    assert client.post("/v1/claims", json=claim_body(event="nope")).status_code == 422
    stale = client.patch(path, json={"figure": "3", "reason": "x"}, headers={"If-Match": '"9"'})
    assert stale.status_code == 412
    assert client.post(f"{path}/disputes", json={"by": "", "reason": "x"}).status_code == 422

    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("the database went away after the event was queued")

    monkeypatch.setattr("app.services.detection.reevaluate", fail)
    with capture_logs() as logs:  # (and spares the console renderer's slow tracebacks)
        assert client.post("/v1/claims", json=claim_body(claimant="Lost")).status_code == 500
        assert client.post(f"{path}/retract", json={"reason": "x"}).status_code == 500
    assert [entry["event"] for entry in logs].count("unhandled error") == 2
    monkeypatch.undo()
    marker = post_claim(client, claimant="Marker")
    wait_until(lambda: all_delivered(client, hook, 2), what="the two committed events")
    created = [p["data"]["id"] for p in receiver.payloads(hook["secret"])]
    assert sorted(created) == sorted([first["id"], marker["id"]])
    assert delivery_count(settings) == 2
    assert client.get(path).json()["status"] == "active"


# --- the worker --------------------------------------------------------------------------------


def quiet_client(settings: Settings, **changes: Any) -> TestClient:
    """A client of an app that does not deliver by itself (the test drives the workers)."""
    app = create_app(settings.model_copy(update={"run_worker": False, **changes}))
    return TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"})


def test_two_workers_never_send_one_attempt_twice(settings: Settings, receiver: Receiver) -> None:
    with quiet_client(settings) as client:
        seed(client)
        hook = register(client, receiver.url, ["claim.created"])
        for n in range(40):
            post_claim(client, claimant=f"Claimant {n}")
        receiver.delay = 0.005  # sends overlap the other worker's claims
        engines = [make_engine(settings) for _ in range(2)]
        workers = [Worker(make_sessionmaker(engine), settings) for engine in engines]
        for worker in workers:
            worker.start()
        try:
            wait_until(lambda: all_delivered(client, hook, 40), what="every delivery")
        finally:
            for worker, engine in zip(workers, engines, strict=True):
                worker.stop()
                engine.dispose()
        ids = [r.headers["webhook-id"] for r in receiver.received]
        assert len(ids) == len(set(ids)) == 40
        assert all(d["attempts"] == 1 for d in deliveries(client, hook))


def test_postgresql_workers_skip_the_deliveries_another_worker_holds(
    settings: Settings, receiver: Receiver
) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite admits one writer: a second claim waits instead of skipping")
    with quiet_client(settings) as client:
        seed(client)
        register(client, receiver.url, ["claim.created"])
        for n in range(6):
            post_claim(client, claimant=f"Claimant {n}")
    engine = make_engine(settings)
    first, second = make_sessionmaker(engine)(), make_sessionmaker(engine)()
    try:
        now = datetime.now(UTC)
        begin_write(first)
        held = {
            d.id for d in repository.webhooks.due_deliveries(first, now, 4)
        }  # locked, not committed
        started = time.monotonic()
        begin_write(second)
        rest = {d.id for d in repository.webhooks.due_deliveries(second, now, 100)}
        assert time.monotonic() - started < 2  # passed over, not waited for
        assert len(held) == 4
        assert len(rest) == 2
        assert not held & rest
    finally:
        first.close()
        second.close()
        engine.dispose()


def test_the_delivery_check_refuses_private_addresses_without_sending(
    settings: Settings, receiver: Receiver
) -> None:
    with quiet_client(settings) as client:
        seed(client)
        hook = register(client, receiver.url, ["claim.created"])
        post_claim(client)
        strict = settings.model_copy(update={"webhook_allow_private": False})
        engine = make_engine(strict)
        with httpx.Client(trust_env=False) as http, ThreadPoolExecutor(1) as pool:
            attempted = delivery.deliver_due(make_sessionmaker(engine), strict, http, pool)
        engine.dispose()
        assert attempted == 1
        [row] = deliveries(client, hook)
        assert (row["status"], row["attempts"], row["response_status"]) == ("pending", 1, None)
        assert "loopback" in row["last_error"]
    assert receiver.received == []


# --- a crash between commit and delivery ---------------------------------------------------------


def tally(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "tally"), *args]
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=out, cwd=log.parent)


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    process.send_signal(sig)
    return process.wait(20)


@pytest.mark.slow
def test_no_event_is_lost_when_tally_is_killed_before_delivering(
    settings: Settings, receiver: Receiver, tmp_path: Path
) -> None:
    port = free_port()
    env = os.environ | {
        "TALLY_DATABASE_URL": settings.database_url,
        "TALLY_ADMIN_KEY": ADMIN_KEY,
        "TALLY_WEBHOOK_ALLOW_PRIVATE": "true",
        "TALLY_WEBHOOK_POLL_SECONDS": "0.05",
        "TALLY_LOG_LEVEL": "warning",
        "TALLY_PORT": str(port),
    }
    log = tmp_path / "tally.log"
    server = tally(env | {"TALLY_RUN_WORKER": "false"}, "serve", log=log)
    try:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers=headers, trust_env=False
        ) as api:
            wait_until(lambda: _ready(api), timeout=30, what="tally serve")
            seed(api)  # type: ignore[arg-type]
            hook = api.post("/v1/webhooks", json={"url": receiver.url, "events": ["claim.created"]})
            claim = api.post("/v1/claims", json=claim_body())
            assert claim.status_code == 201  # committed ...
        assert stop(server, signal.SIGKILL) == -signal.SIGKILL  # ... and never delivered
        assert receiver.received == []
        worker = tally(env, "worker", log=log)
        try:
            wait_until(lambda: receiver.received, what="the event after the restart")
            assert stop(worker) == 0, log.read_text()
        finally:
            if worker.poll() is None:
                stop(worker, signal.SIGKILL)
    finally:
        if server.poll() is None:
            stop(server, signal.SIGKILL)
    [payload] = receiver.payloads(hook.json()["secret"])
    assert payload["data"] == claim.json() | {"superseded_by": None}


def _ready(api: httpx.Client) -> bool:
    try:
        return api.get("/readyz").status_code == 200
    except httpx.TransportError:
        return False


# --- administration, validation, SSRF ---------------------------------------------------------


def test_admins_manage_webhooks_and_see_the_secret_once(client: TestClient) -> None:
    response = client.post(
        "/v1/webhooks",
        json={"url": "https://hooks.example.org/tally", "events": EVENTS, "description": "desk"},
    )
    assert response.status_code == 201, response.text
    hook = response.json()
    assert response.headers["location"] == f"/v1/webhooks/{hook['id']}"
    assert hook["secret"].startswith("whsec_")
    assert len(base64.b64decode(hook["secret"].removeprefix("whsec_"))) >= 24
    assert (hook["status"], hook["events"], hook["description"]) == ("active", EVENTS, "desk")
    second = register(client, "https://hooks.example.org/other", ["claim.created", "claim.created"])
    assert second["events"] == ["claim.created"]
    read = client.get(f"/v1/webhooks/{hook['id']}").json()
    assert read == {k: v for k, v in hook.items() if k != "secret"}
    page = client.get("/v1/webhooks", params={"limit": 1}).json()
    assert [w["id"] for w in page["items"]] == [hook["id"]]
    rest = client.get("/v1/webhooks", params={"cursor": page["next_cursor"]}).json()
    assert [w["id"] for w in rest["items"]] == [second["id"]]
    assert "whsec_" not in json.dumps(page) + json.dumps(rest)
    assert client.delete(f"/v1/webhooks/{hook['id']}").status_code == 204
    assert client.get(f"/v1/webhooks/{hook['id']}").status_code == 404
    assert client.delete(f"/v1/webhooks/{hook['id']}").status_code == 404
    assert [w["id"] for w in client.get("/v1/webhooks").json()["items"]] == [second["id"]]


def test_only_admins_manage_webhooks(client: TestClient) -> None:
    hook = register(client, "https://hooks.example.org/tally")
    base = f"/v1/webhooks/{hook['id']}"
    body = {"url": "https://hooks.example.org/x", "events": ["claim.created"]}
    for role in ("reader", "editor"):
        headers = new_key(client, role)
        calls = [
            client.post("/v1/webhooks", json=body, headers=headers),
            client.get("/v1/webhooks", headers=headers),
            client.get(base, headers=headers),
            client.get(f"{base}/deliveries", headers=headers),
            client.post(f"{base}/rotate-secret", headers=headers),
            client.delete(base, headers=headers),
        ]
        assert [c.status_code for c in calls] == [403] * 6, role
    assert client.get("/v1/webhooks", headers={"Authorization": ""}).status_code == 401
    assert len(client.get("/v1/webhooks").json()["items"]) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["claim.created"]}, "url"),
        ({"url": "ftp://hooks.example.org/x", "events": ["claim.created"]}, "url"),
        ({"url": "not a url", "events": ["claim.created"]}, "url"),
        ({"url": "https://hooks.example.org/x"}, "events"),
        ({"url": "https://hooks.example.org/x", "events": []}, "events"),
        ({"url": "https://hooks.example.org/x", "events": ["claim.exploded"]}, "events.0"),
        ({"url": "https://hooks.example.org/x", "events": "claim.created"}, "events"),
        (
            {"url": "https://h.example.org/", "events": EVENTS, "description": "x" * 10_001},
            "description",
        ),
        ({"url": "https://h.example.org/", "events": EVENTS, "secret": "mine"}, "secret"),
    ],
)
def test_bad_webhooks_are_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/webhooks", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert client.get("/v1/webhooks").json()["items"] == []


def test_unknown_webhooks_are_404(client: TestClient) -> None:
    for unknown in ("999", "abc", "9" * 30):
        assert client.get(f"/v1/webhooks/{unknown}").status_code == 404
        assert client.get(f"/v1/webhooks/{unknown}/deliveries").status_code == 404
        assert client.post(f"/v1/webhooks/{unknown}/rotate-secret").status_code == 404
        assert client.delete(f"/v1/webhooks/{unknown}").status_code == 404


REFUSED = {
    "http://127.0.0.1/": "loopback",
    "http://127.8.9.10:8080/": "loopback",
    "http://localhost/": "loopback",
    "http://2130706433/": "loopback",  # decimal
    "http://0x7f.1/": "loopback",  # hex, short form
    "http://0177.0.0.1/": "loopback",  # octal
    "http://[::1]/": "loopback",
    "http://[::ffff:127.0.0.1]/": "loopback",  # IPv4-mapped IPv6
    "http://[2002:7f00:1::]/": "loopback",  # 6to4 wrapping 127.0.0.1
    "http://10.0.0.1/": "private",
    "http://172.16.5.4/": "private",
    "http://192.168.1.1/": "private",
    "http://[::ffff:192.168.1.1]/": "private",
    "http://[fc00::1]/": "private",
    "http://[64:ff9b::a00:1]/": "private",  # NAT64 of 10.0.0.1
    "http://169.254.169.254/latest/meta-data/": "link-local",
    "http://[fe80::1]/": "link-local",
    "http://224.0.0.1/": "multicast",
    "http://[ff02::1]/": "multicast",
    "http://240.0.0.1/": "reserved",
    "http://0.0.0.0/": "unspecified",
    "http://[::]/": "unspecified",
    "http://100.64.0.1/": "shared",
    # Special-purpose addresses that some Pythons' `is_global` passes: named by address, since
    # the reason given depends on the Python version.
    "http://192.0.0.8/": "(192.0.0.8)",  # IPv4 dummy address (RFC 7600)
    "http://192.0.0.170/": "(192.0.0.170)",  # NAT64 discovery (RFC 7050)
    "http://192.88.99.1/": "(192.88.99.1)",  # deprecated 6to4 relay anycast (RFC 7526)
    "http://[fec0::1]/": "(fec0::1)",  # deprecated site-local (RFC 3879)
    "http://[2002:c058:6301::]/": "(2002:c058:6301::)",  # 6to4 wrapping 192.88.99.1
    "http://[64:ff9b:1::a]/": "(64:ff9b:1::a)",  # local-use IPv4/IPv6 translation (RFC 8215)
    "http://[5f00::1]/": "(5f00::1)",  # segment routing SIDs (RFC 9602)
    "http://[3fff::1]/": "(3fff::1)",  # documentation (RFC 9637)
    "http://[2001:db8::1]/": "(2001:db8::1)",  # documentation (RFC 3849)
    "http://internal.tally-test.example/": "private",  # a DNS name that resolves there
    "http://mixed.tally-test.example/": "private",  # one public and one private answer
}
FAKE_DNS = {
    "internal.tally-test.example": ["10.1.2.3"],
    "mixed.tally-test.example": ["93.184.215.14", "192.168.0.7"],
    "public.tally-test.example": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
}


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test names resolve to chosen addresses; every other name resolves as usual."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in FAKE_DNS:
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, 0))
            for ip in FAKE_DNS[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.usefixtures("fake_dns")
def test_urls_reaching_non_public_addresses_are_refused(settings: Settings) -> None:
    with quiet_client(settings, webhook_allow_private=False) as client:
        for url, reason in REFUSED.items():
            response = client.post("/v1/webhooks", json={"url": url, "events": EVENTS})
            assert response.status_code == 422, url
            [error] = response.json()["errors"]
            assert error["field"] == "url"
            assert reason in error["detail"], (url, error["detail"])
        unresolvable = {"url": "http://nowhere.invalid/", "events": EVENTS}
        assert client.post("/v1/webhooks", json=unresolvable).status_code == 422
        assert client.get("/v1/webhooks").json()["items"] == []
        for url in ("http://93.184.215.14/hook", "https://public.tally-test.example/hook"):
            assert (
                client.post("/v1/webhooks", json={"url": url, "events": EVENTS}).status_code == 201
            )


def test_pinning_keeps_the_host_for_tls_and_the_host_header(fake_dns: None) -> None:
    target = ssrf.pin("https://public.tally-test.example:8443/h?x=1", allow_private=False)
    assert target.url == "https://93.184.215.14:8443/h?x=1"
    assert target.headers == {"Host": "public.tally-test.example:8443"}
    assert target.extensions == {"sni_hostname": "public.tally-test.example"}


def test_the_outbox_survives_in_rows(settings: Settings, receiver: Receiver) -> None:
    """Deliveries are rows: a worker started later (a new process) finds them."""
    with quiet_client(settings) as client:
        seed(client)
        hook = register(client, receiver.url, ["claim.created"])
        post_claim(client)
        assert [d["status"] for d in deliveries(client, hook)] == ["pending"]
    engine = make_engine(settings)
    later = Worker(make_sessionmaker(engine), settings)
    later.start()
    try:
        wait_until(lambda: receiver.received, what="delivery by a worker started later")
    finally:
        later.stop()
        engine.dispose()
