"""Nothing acknowledged is lost: SIGKILL the real server while clients write, then check.
Retries are safe: an Idempotency-Key replays what a write answered, keeps no secret and no
more than it must, is purged once expired, and is freed when its first request died."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text

from app import models
from app.api.idempotency import Idempotency
from app.api.middleware import PRINCIPAL
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.domain.model import utcnow
from app.domain.records import Principal, Role
from app.main import create_app
from app.services.idempotency import IdempotencyStore
from app.worker import Worker
from tests.conftest import ADMIN_KEY, claim_body, count_claims, new_key, run_async, seed
from tests.pgcluster import free_port

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


@contextmanager
def server(database_url: str, port: int, **settings: str) -> Iterator[subprocess.Popen[bytes]]:
    """`tally serve` in its own process, ready to answer; killed on exit if still alive.
    `settings` are more settings, by name without the TALLY_ prefix."""
    env = os.environ | {"TALLY_DATABASE_URL": database_url, "TALLY_ADMIN_KEY": ADMIN_KEY}
    env |= {f"TALLY_{name.upper()}": value for name, value in settings.items()}
    command = [
        sys.executable,
        "-c",
        "from app.cli import main; main()",
        "serve",
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}", process)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "tally serve exited"
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail("tally serve did not become ready")


class Writer(threading.Thread):
    """Posts claims and corrects them, remembering what the server acknowledged."""

    def __init__(self, url: str, n: int, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.url, self.n, self.stop = url, n, stop
        self.acknowledged: dict[str, tuple[int, str]] = {}  # id -> (version, figure text)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=AUTH, timeout=5) as client:
            step = 0
            while not self.stop.is_set():
                step += 1
                try:
                    self.write(client, step)
                except httpx.TransportError:
                    time.sleep(0.02)  # the server is down or restarting

    def write(self, client: httpx.Client, step: int) -> None:
        figure = str(self.n * 100_000 + step)
        if step % 3 == 0 and self.acknowledged:
            claim_id, (version, _) = next(reversed(self.acknowledged.items()))
            body = {"figure": figure, "reason": "correction"}
            r = client.patch(
                f"/v1/claims/{claim_id}", json=body, headers={"If-Match": f'"{version}"'}
            )
            if r.status_code == 200:
                self.acknowledged[claim_id] = (r.json()["version"], figure)
            return
        r = client.post("/v1/claims", json=claim_body(figure=figure, claimant=f"Writer {self.n}"))
        if r.status_code == 201:
            self.acknowledged[r.json()["id"]] = (1, figure)


@pytest.mark.slow
def test_acknowledged_claims_survive_sigkill(database_url: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with server(database_url, port):
        httpx.post(f"{url}/v1/events", json={"slug": "quake", "title": "Quake"}, headers=AUTH)
        httpx.post(f"{url}/v1/sources", json={"slug": "wire", "name": "Wire"}, headers=AUTH)
    stop = threading.Event()
    writers = [Writer(url, n, stop) for n in range(4)]
    for writer in writers:
        writer.start()
    for _ in range(3):
        with server(database_url, port) as process:
            time.sleep(1.0)
            process.send_signal(signal.SIGKILL)
    with server(database_url, port):
        stop.set()
        for writer in writers:
            writer.join(10)
        check_everything_acknowledged_is_there(url, writers)


def check_everything_acknowledged_is_there(url: str, writers: list[Writer]) -> None:
    acknowledged = {k: v for w in writers for k, v in w.acknowledged.items()}
    assert len(acknowledged) >= 10, "the writers got too few acknowledgements to prove anything"
    with httpx.Client(base_url=url, headers=AUTH, timeout=10) as client:
        for claim_id, (version, figure) in acknowledged.items():
            claim = client.get(f"/v1/claims/{claim_id}").json()
            assert claim["version"] >= version
            if claim["version"] == version:
                assert claim["figure"]["text"] == figure
            revisions = client.get(f"/v1/claims/{claim_id}/revisions").json()["items"]
            assert [r["version"] for r in revisions] == list(range(1, claim["version"] + 1))


# --- Idempotency-Key records -----------------------------------------------------------------


def rows_of(database_url: str, sql: str) -> list[Any]:
    """The rows of a query, read on a connection of its own."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql)))
    finally:
        engine.dispose()


def pending_records(database_url: str) -> int:
    sql = "SELECT count(*) FROM idempotency_record WHERE status_code = 0"
    return int(rows_of(database_url, sql)[0][0])


def bulk_rows(n: int) -> str:
    """An NDJSON import of `n` claims, each in a group of its own."""
    rows = (claim_body(figure=str(i), location=f"District {i}") for i in range(n))
    return "".join(json.dumps(row) + "\n" for row in rows)


@pytest.mark.slow
def test_a_key_whose_first_request_died_is_free_for_a_retry(database_url: str) -> None:
    """kill -9 between the two steps of an Idempotency-Key: its record, committed before the
    request ran, is pending; its answer was never stored. A retry once the lease lapsed runs
    the request, where it used to wait 10 s and get 409 for the record's 24 hours. (What the
    dead request committed stays: an import's first batches, here, are imported again.)"""
    port, lease = free_port(), {"idempotency_lease_seconds": "1"}
    url, rows = f"http://127.0.0.1:{port}", bulk_rows(1000)  # a second or more of work
    headers = AUTH | {"Idempotency-Key": "import-1", "Content-Type": "application/x-ndjson"}
    with server(database_url, port, **lease) as process:
        httpx.post(f"{url}/v1/events", json={"slug": "quake", "title": "Quake"}, headers=AUTH)
        httpx.post(f"{url}/v1/sources", json={"slug": "wire", "name": "Wire"}, headers=AUTH)
        first = threading.Thread(target=post_quietly, args=(f"{url}/v1/claims/bulk", rows, headers))
        first.start()
        wait_until_pending(database_url)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        first.join(10)
    assert pending_records(database_url) == 1  # killed between the two steps
    before = count_rows(database_url, "claim")
    with server(database_url, port, **lease):
        retry = httpx.post(f"{url}/v1/claims/bulk", content=rows, headers=headers, timeout=60)
        assert retry.status_code == 200, retry.text
        assert "idempotent-replayed" not in retry.headers
        assert {r["status"] for r in retry.json()["results"]} == {201}
        again = httpx.post(f"{url}/v1/claims/bulk", content=rows, headers=headers, timeout=60)
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json() == retry.json()
    assert count_rows(database_url, "claim") == before + 1000


def count_rows(database_url: str, table: str) -> int:
    return int(rows_of(database_url, f"SELECT count(*) FROM {table}")[0][0])


def post_quietly(url: str, content: str, headers: dict[str, str]) -> None:
    with contextlib.suppress(httpx.TransportError):
        httpx.post(url, content=content, headers=headers, timeout=60)


def wait_until_pending(database_url: str) -> None:
    deadline = time.monotonic() + 20
    while pending_records(database_url) == 0:
        assert time.monotonic() < deadline, "the request never reserved its key"
        time.sleep(0.005)


def test_keys_that_may_not_write_keep_no_record(ledger: TestClient, database_url: str) -> None:
    reader = new_key(ledger, "reader")
    key = {"Idempotency-Key": "k-1"}
    wrong = {"Authorization": "Bearer wrong"}
    assert ledger.post("/v1/claims", json=claim_body(), headers=key | wrong).status_code == 401
    assert ledger.post("/v1/claims", json=claim_body(), headers=key | reader).status_code == 403
    text_ = {"text": "Officials said at least 12 people died."}
    for _ in range(2):  # a read: runs again, never replayed
        extracted = ledger.post("/v1/extract", json=text_, headers=key | reader)
        assert extracted.status_code == 200
        assert "idempotent-replayed" not in extracted.headers
    refused = ledger.post("/v1/claims", json=claim_body(figure="?"), headers=key)
    assert refused.status_code == 422  # refused: nothing changed, nothing kept
    assert count_rows(database_url, "idempotency_record") == 0
    assert ledger.post("/v1/claims", json=claim_body(), headers=key).status_code == 201


def test_secrets_are_never_kept_nor_shown_again(client: TestClient, database_url: str) -> None:
    hook = {"url": "http://127.0.0.1:9/hook", "events": ["claim.created"]}
    created = []
    for n, (path, body) in enumerate(
        [("/v1/keys", {"name": "desk", "role": "reader"}), ("/v1/webhooks", hook)]
    ):
        headers = {"Idempotency-Key": f"secret-{n}"}
        first = client.post(path, json=body, headers=headers)
        assert first.status_code == 201
        created.append(first.json())
        again = client.post(path, json=body, headers=headers)
        assert_handled_once(again, first.json()["id"])
    rotate = f"/v1/webhooks/{created[1]['id']}/rotate-secret"
    rotated = client.post(rotate, headers={"Idempotency-Key": "rotate"})
    assert rotated.status_code == 200
    assert_handled_once(client.post(rotate, headers={"Idempotency-Key": "rotate"}), None)
    kept = repr(rows_of(database_url, "SELECT * FROM idempotency_record"))
    secrets = [created[0]["key"], created[1]["secret"], rotated.json()["secret"]]
    assert not [secret for secret in secrets if secret in kept]


def assert_handled_once(replayed: httpx.Response, created_id: str | None) -> None:
    assert replayed.status_code == 409
    assert replayed.headers["content-type"] == "application/problem+json"
    assert replayed.headers["idempotent-replayed"] == "true"
    detail = replayed.json()["detail"]
    assert "already handled" in detail
    assert "shown only once" in detail
    if created_id is not None:
        assert f"id {created_id}" in detail
    assert "key" not in replayed.json()
    assert "secret" not in replayed.json()


def test_answers_larger_than_the_limit_are_not_kept(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"idempotency_max_response_bytes": 100}))
    with TestClient(app, headers=AUTH) as client:
        seed(client)
        headers = {"Idempotency-Key": "big"}
        assert client.post("/v1/claims", json=claim_body(), headers=headers).status_code == 201
        again = client.post("/v1/claims", json=claim_body(), headers=headers)
        assert again.status_code == 409
        assert "larger than the 100 bytes kept" in again.json()["detail"]
        assert count_claims(client) == 1


def test_the_worker_purges_expired_records(settings: Settings, database_url: str) -> None:
    now, hour = utcnow(), timedelta(hours=1)
    records = {  # key: (status_code, expires_at)
        "answered-expired": (201, now - hour),
        "answered-live": (201, now + hour),
        "pending-lapsed-just-now": (0, now - timedelta(seconds=5)),
        "pending-lapsed-long-ago": (0, now - 25 * hour),
    }
    engine = make_engine(settings)
    with engine.begin() as conn:
        for key, (status, expires_at) in records.items():
            values = {"scope": "s", "key": key, "request_hash": "h", "status_code": status}
            values |= {"body": "", "headers": {}, "expires_at": expires_at}
            conn.execute(insert(models.IdempotencyRecord).values(values))
    Worker(make_sessionmaker(engine), settings).purge_when_due()
    engine.dispose()
    kept = {row[0] for row in rows_of(database_url, "SELECT key FROM idempotency_record")}
    assert kept == {"answered-live", "pending-lapsed-just-now"}


# The middleware on its own, as two server processes would run it on one database.

KEYED: list[tuple[bytes, bytes]] = [(b"authorization", b"Bearer k"), (b"idempotency-key", b"k")]


class SlowApp:
    """Answers 201 after `seconds`, counting its calls."""

    def __init__(self, seconds: float) -> None:
        self.seconds, self.calls = seconds, 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        await anyio.sleep(self.seconds)
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b'{"id": "1"}'})


def process(app: SlowApp, store: IdempotencyStore, lease: float) -> Idempotency:
    """The Idempotency middleware of one server process."""
    return Idempotency(app, store, wait_seconds=0.2, lease_seconds=lease, max_stored_bytes=1000)


async def post_to(middleware: Idempotency) -> tuple[int, dict[bytes, bytes]]:
    scope = {"type": "http", "method": "POST", "path": "/v1/claims", "query_string": b""}
    scope |= {"headers": KEYED, PRINCIPAL: Principal("desk", Role.EDITOR)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await middleware(scope, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"])


@pytest.fixture
def store(settings: Settings) -> Iterator[IdempotencyStore]:
    engine = make_engine(settings)
    yield IdempotencyStore(make_sessionmaker(engine), timedelta(hours=1), timedelta(seconds=0.3))
    engine.dispose()


def test_a_running_request_renews_its_lease(store: IdempotencyStore) -> None:
    """A request that outlives its lease renews it: another process's retry still waits."""
    app = SlowApp(1.5)
    answers: list[tuple[int, dict[bytes, bytes]]] = []

    async def main() -> None:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(keep, answers, post_to(process(app, store, 0.3)))
            await anyio.sleep(0.8)  # the first lease would have lapsed twice over
            answers.append(await post_to(process(app, store, 0.3)))
        answers.append(await post_to(process(app, store, 0.3)))

    run_async(main)
    assert [status for status, _ in answers] == [409, 201, 201]
    assert answers[2][1][b"idempotent-replayed"] == b"true"
    assert app.calls == 1


def test_a_lapsed_lease_lets_a_retry_run_at_once(settings: Settings) -> None:
    """A record pending for a request that died: once its lease lapsed, a retry runs."""
    engine = make_engine(settings)  # a lease of 2 s: a busy machine takes longer than 0.3 s
    store = IdempotencyStore(make_sessionmaker(engine), timedelta(hours=1), timedelta(seconds=2))
    owner = hashlib.sha256(b"Bearer k").hexdigest()
    fingerprint = hashlib.sha256(b"/v1/claims\n\n{}").hexdigest()  # the same request
    assert store.claim(owner, "k", fingerprint, "a-dead-request") == "proceed"
    app = SlowApp(0)
    assert run_async(post_to, process(app, store, 0.3))[0] == 409  # still within the lease
    time.sleep(2.05)
    started = time.monotonic()
    assert run_async(post_to, process(app, store, 0.3))[0] == 201
    assert time.monotonic() - started < 0.2
    assert app.calls == 1
    engine.dispose()


async def keep(answers: list[Any], answer: Awaitable[Any]) -> None:
    answers.append(await answer)
