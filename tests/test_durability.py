"""Nothing acknowledged is lost: SIGKILL the real server while clients write, then check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from tests.conftest import ADMIN_KEY, claim_body
from tests.pgcluster import free_port

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


@contextmanager
def server(database_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`tally serve` in its own process, ready to answer; killed on exit if still alive."""
    env = os.environ | {"TALLY_DATABASE_URL": database_url, "TALLY_ADMIN_KEY": ADMIN_KEY}
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
