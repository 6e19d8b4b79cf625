"""Past one machine (issue 20): three `tally serve` processes on one PostgreSQL database.

Writers post, correct and retract claims of the same few groups through all three processes
at once; afterwards the stored conflicts must equal what the rules find from scratch, and no
pair may be open twice. Each process has its own group commit and its own connections: only
the per-event advisory locks of PostgreSQL keep their detections from racing.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from app import repository
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.domain.model import ConflictFilter
from app.services import detection
from tests.conftest import postgres_database
from tests.pgcluster import free_port

TALLY = [sys.executable, "-c", "from app.cli import main; main()"]
SERVERS, WRITERS, OPERATIONS_EACH = 3, 6, 30
CLAIMANTS = ["Ministry", "Red Cross", "Police", "Governor"]
DATES = ["2023-02-06", "2023-02-07", "2023-02-08", "2023-02-09"]
VALUE_KINDS = {"value_mismatch", "downward_revision", "part_exceeds_whole"}


def tally(*args: str, env: dict[str, str]) -> str:
    """Run a `tally` command to the end; its stdout."""
    done = subprocess.run([*TALLY, *args], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture
def empty_database(postgres_base: str | None) -> Iterator[str]:
    """The URL of a new, empty database in the session's throwaway cluster (not migrated)."""
    if postgres_base is None:
        pytest.skip("PostgreSQL server binaries not found (set TALLY_REQUIRE_POSTGRES=1 to fail)")
    with postgres_database(postgres_base) as url:
        yield url


@contextmanager
def servers(env: dict[str, str], logs: Path) -> Iterator[list[str]]:
    """SERVERS `tally serve` processes on one database, all ready; stopped on exit."""
    ports = [free_port() for _ in range(SERVERS)]
    with ExitStack() as stack:
        processes = []
        for port in ports:
            log = stack.enter_context((logs / f"serve-{port}.log").open("wb"))
            command = [*TALLY, "serve", "--port", str(port)]
            processes.append(subprocess.Popen(command, env=env, stdout=log, stderr=log))
            stack.callback(stop, processes[-1])
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, processes, strict=True):
            wait_ready(url, process, logs)
        yield urls


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ten seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def wait_ready(url: str, process: subprocess.Popen[bytes], logs: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    output = "\n".join(log.read_text(errors="replace")[-2000:] for log in logs.glob("*.log"))
    pytest.fail(f"tally serve at {url} did not become ready:\n{output}")


def claim(rng: random.Random) -> dict[str, object]:
    """A claim of one of the two groups (with or without a location) of `quake` deaths."""
    return {
        "event": "quake",
        "metric": "deaths",
        "figure": rng.choice(["5", "10", "at least 50", "100", "about 500"]),
        "claimant": rng.choice(CLAIMANTS),
        "population": rng.choice(["all", "all", "children"]),
        "location": rng.choice([None, "Almaty"]),
        "source": "wire",
        "as_of": rng.choice(DATES),
    }


def write(
    urls: list[str], key: str, writer: int, start: threading.Barrier, ids: list[str]
) -> list[int]:
    """One writer's claims, corrections and retractions, sent to each server in turn."""
    rng = random.Random(writer)
    headers = {"Authorization": f"Bearer {key}"}
    statuses: list[int] = []
    with ExitStack() as stack:
        clients = [
            stack.enter_context(httpx.Client(base_url=url, headers=headers, timeout=60))
            for url in urls
        ]
        start.wait()
        for step in range(OPERATIONS_EACH):
            http, roll = clients[(writer + step) % len(clients)], rng.random()
            if ids and roll < 0.15:  # a correction of someone's figure, or of its date
                fields = (
                    {"figure": claim(rng)["figure"]}
                    if roll < 0.1
                    else {"as_of": claim(rng)["as_of"]}
                )
                body = {"reason": "correction", **fields}
                target = f"/v1/claims/{rng.choice(ids)}"
                response = http.patch(target, json=body, headers={"If-Match": "*"})
            elif ids and roll < 0.25:
                target = f"/v1/claims/{rng.choice(ids)}/retract"
                response = http.post(target, json={"reason": "withdrawn"})
            else:
                body = claim(rng) | ({"cites": rng.choice(ids)} if ids and roll > 0.9 else {})
                response = http.post("/v1/claims", json=body)
                if response.status_code == 201:
                    ids.append(response.json()["id"])
            statuses.append(response.status_code)
    return statuses


@pytest.mark.slow
def test_three_server_processes_keep_the_conflicts_a_recomputation_finds(
    empty_database: str, tmp_path: Path
) -> None:
    env = os.environ | {
        "TALLY_DATABASE_URL": empty_database,
        "TALLY_RUN_WORKER": "false",  # as README advises for several server processes
        "TALLY_THREADS": "8",
        "TALLY_LOG_LEVEL": "warning",
    }
    tally("migrate", env=env)
    key = tally("keys", "create", "--name", "writers", "--role", "editor", env=env)
    with servers(env, tmp_path) as urls:
        headers = {"Authorization": f"Bearer {key}"}
        for path, body in (
            ("/v1/events", {"slug": "quake", "title": "Earthquake"}),
            ("/v1/sources", {"slug": "wire", "name": "Wire", "kind": "news_agency"}),
        ):
            assert httpx.post(urls[0] + path, json=body, headers=headers).status_code == 201
        start, ids = threading.Barrier(WRITERS), []
        with ThreadPoolExecutor(WRITERS) as pool:
            runs = [pool.submit(write, urls, key, n, start, ids) for n in range(WRITERS)]
            statuses = [status for run in runs for status in run.result(timeout=120)]
    # 409: a retraction or correction of a claim another writer had retracted already.
    assert set(statuses) <= {200, 201, 409}, sorted(set(statuses))
    assert statuses.count(201) >= WRITERS * OPERATIONS_EACH // 2
    check_stored_conflicts_equal_a_recomputation(empty_database)


def check_stored_conflicts_equal_a_recomputation(database_url: str) -> None:
    engine = make_engine(Settings(database_url=database_url))
    try:
        with make_sessionmaker(engine)() as session:
            live = repository.conflicts.event_conflicts(session, "quake")
            found = detection.recompute(session, "quake")  # reads only
            everything = repository.conflicts.find_conflicts(session, ConflictFilter("quake"))
    finally:
        engine.dispose()
    stored = sorted((c.kind.value, c.claims) for c in live)
    assert {c.status for c in live} <= {"open"}
    assert len(set(stored)) == len(stored), "a pair is open twice"
    assert stored == sorted((f.kind.value, f.claims) for f in found)
    # The run did what it is meant to test: value conflicts opened, and newer figures of the
    # same claimant cleared some of them (SPEC §5, current figures).
    assert any(kind in VALUE_KINDS for kind, _ in stored)
    assert any("gave a newer figure" in c.detail for c in everything if c.status == "cleared")
