"""A database that cannot serve — unreachable, restarting, read-only, locked, out of space —
is a 503 problem with Retry-After, never a 500; /readyz says so; Tally recovers by itself.
A genuine bug in a query stays a logged 500."""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg.errors
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.exc import (
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    ProgrammingError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.services.ops import migrate
from tests.conftest import ADMIN_KEY, claim_body, seed
from tests.pgcluster import find_bindir, free_port
from tests.test_hardening_transport import serving

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}


def sqlite_error(code: int, message: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code
    return error


UNAVAILABLE = {  # what the drivers raise -> the Retry-After of the 503
    "sqlite full": OperationalError("INSERT", {}, sqlite_error(13, "database or disk is full")),
    "sqlite read-only": OperationalError("INSERT", {}, sqlite_error(8, "readonly database")),
    "sqlite busy": OperationalError("BEGIN", {}, sqlite_error(5, "database is locked")),
    "sqlite i/o": OperationalError("COMMIT", {}, sqlite_error(522, "disk I/O error")),
    "pg restarting": OperationalError("SELECT", {}, psycopg.errors.AdminShutdown()),
    "pg starting": OperationalError("SELECT", {}, psycopg.errors.CannotConnectNow()),
    "pg disk full": OperationalError("INSERT", {}, psycopg.errors.DiskFull()),
    "pg read-only": InternalError("INSERT", {}, psycopg.errors.ReadOnlySqlTransaction()),
    "pg lock timeout": OperationalError("UPDATE", {}, psycopg.errors.LockNotAvailable()),
    "pg refused": OperationalError("connect", {}, psycopg.OperationalError("Connection refused")),
    "connection lost": InterfaceError(
        "SELECT", {}, psycopg.InterfaceError("the connection is lost"), connection_invalidated=True
    ),
    "no connection free": PoolTimeout("QueuePool limit reached"),
}
BUGS = {  # a retry would meet these again: logged 500s
    "sqlite no such table": OperationalError("SELECT", {}, sqlite_error(1, "no such table: x")),
    "sqlite corrupt": OperationalError("SELECT", {}, sqlite_error(11, "malformed")),
    "pg undefined table": ProgrammingError("SELECT", {}, psycopg.errors.UndefinedTable()),
    "pg syntax": ProgrammingError("SELEC", {}, psycopg.errors.SyntaxError()),
    "pg unique": IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation()),
    "unexpected": RuntimeError("a bug"),
}


def raising(tmp_path: Path, error: Exception) -> TestClient:
    """A client of an app with a route, /boom, that raises `error`."""
    app: FastAPI = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"))

    @app.get("/boom")
    def boom() -> None:
        raise error

    return TestClient(app, raise_server_exceptions=False)


@pytest.mark.parametrize("name", UNAVAILABLE)
def test_a_database_that_cannot_serve_now_is_a_503(tmp_path: Path, name: str) -> None:
    with raising(tmp_path, UNAVAILABLE[name]) as client:
        response = client.get("/boom")
    assert response.status_code == 503, name
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize("name", BUGS)
def test_a_bug_in_a_query_stays_a_500(tmp_path: Path, name: str) -> None:
    with raising(tmp_path, BUGS[name]) as client:
        response = client.get("/boom")
    assert response.status_code == 500, name
    assert response.headers["content-type"] == "application/problem+json"


def test_a_database_fault_outside_the_routes_is_a_503(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys and Idempotency-Key records are looked up by middleware, outside the routes."""
    full = UNAVAILABLE["sqlite full"]

    def fail(*_: object) -> None:
        raise full

    with TestClient(create_app(settings), headers=AUTH, raise_server_exceptions=False) as client:
        seed(client)
        monkeypatch.setattr("app.services.idempotency.IdempotencyStore.peek", fail)
        keyed = client.post("/v1/claims", json=claim_body(), headers={"Idempotency-Key": "k"})
        monkeypatch.setattr("app.services.keys._look_up", fail)
        unknown = client.get("/v1/events", headers={"Authorization": "Bearer not-cached"})
    for response in (keyed, unknown):
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"


# --- SQLite on a full disk ----------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs of our own, to fill (mounting one needs root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs to fill needs root; run as root to test a full disk")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    """A file that takes every free byte of `disk`."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out:
        for size in (1 << 16, 1 << 12, 1 << 9, 1):
            try:
                while True:
                    out.write(b"\0" * size)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
    return filler


def test_sqlite_on_a_full_disk_is_503_and_not_ready_then_recovers(
    small_disk: Path, sqlite_template: Path
) -> None:
    shutil.copy(sqlite_template, small_disk / "tally.db")
    settings = Settings(
        database_url=f"sqlite:///{small_disk / 'tally.db'}",
        admin_key=ADMIN_KEY,
        sqlite_min_free_bytes=256 * 1024,
        run_worker=False,
    )
    with TestClient(create_app(settings), headers=AUTH, raise_server_exceptions=False) as client:
        seed(client)
        assert client.get("/readyz").status_code == 200
        filler = fill(small_disk)
        assert client.get("/readyz").status_code == 503
        answers = [write(client, n) for n in range(40)]
        assert {r.status_code for r in answers} <= {201, 503}
        refused = [r for r in answers if r.status_code == 503]
        assert refused, "every write succeeded on a full disk"
        assert all(r.headers["retry-after"] for r in refused)
        assert all(r.headers["content-type"] == "application/problem+json" for r in refused)
        filler.unlink()
        assert write(client, 99).status_code == 201
        assert client.get("/readyz").status_code == 200


def write(client: TestClient, n: int) -> httpx.Response:
    return client.post("/v1/events", json={"slug": f"event-{n}", "title": "x" * 200})


# --- PostgreSQL stopped, restarted, read-only ---------------------------------------------------


@dataclass
class Cluster:
    """A private PostgreSQL cluster that a test may stop and start again."""

    bindir: Path
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def ctl(self, *args: str) -> None:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        command = [*as_user, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), *args]
        subprocess.run(command, check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self.ctl("-o", options, "-l", str(self.root / "log"), "-w", "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "-w", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found")
    root = Path(tempfile.mkdtemp(prefix="tally-pg-faults-"))
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_user:
        shutil.chown(root, "postgres")
    initdb = [*as_user, str(bindir / "initdb"), "-D", str(root / "data"), "-U", "postgres"]
    subprocess.run([*initdb, "-A", "trust", "-E", "UTF8"], check=True, capture_output=True)
    cluster = Cluster(bindir, root, free_port())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


class Load(threading.Thread):
    """Posts claims until stopped, keeping every answer's status and headers."""

    def __init__(self, url: str, headers: dict[str, str], n: int) -> None:
        super().__init__(daemon=True)
        self.url, self.headers, self.n = url, headers, n
        self.answers: list[tuple[float, int, httpx.Headers]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=self.headers, timeout=20) as client:
            step = 0
            while not self.stopping.is_set():
                step += 1
                body = claim_body(figure=str(step), claimant=f"Load {self.n}")
                response = client.post("/v1/claims", json=body)
                self.answers.append((time.monotonic(), response.status_code, response.headers))
                time.sleep(0.01)


@contextmanager
def load(url: str, headers: dict[str, str]) -> Iterator[list[Load]]:
    threads = [Load(url, headers, n) for n in range(3)]
    for thread in threads:
        thread.start()
    try:
        yield threads
    finally:
        for thread in threads:
            thread.stopping.set()
            thread.join(30)


def until(condition: Callable[[], bool], seconds: float = 20) -> float:
    """Wait for `condition`; when it came true."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never came true"
        time.sleep(0.05)
    return time.monotonic()


def migrated(cluster: Cluster, **changes: object) -> Settings:
    """Settings of a new, migrated database in the cluster: short timeouts, no worker."""
    admin = create_engine(f"{cluster.url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE tally"))
    admin.dispose()
    settings = Settings(
        database_url=f"{cluster.url}/tally",
        admin_key=ADMIN_KEY,
        db_timeout_seconds=2,
        run_worker=False,
    ).model_copy(update=changes)
    engine = make_engine(settings)
    migrate(engine)
    engine.dispose()
    return settings


def seeded(client: httpx.Client) -> dict[str, str]:
    """Seed the ledger; the headers of a new editor key."""
    assert client.post("/v1/events", json={"slug": "quake", "title": "Quake"}).status_code == 201
    assert client.post("/v1/sources", json={"slug": "wire", "name": "Wire"}).status_code == 201
    key = client.post("/v1/keys", json={"name": "load", "role": "editor"}).json()["key"]
    return {"Authorization": f"Bearer {key}"}


def assert_only_201_and_503(threads: list[Load]) -> None:
    answers = [answer for thread in threads for answer in thread.answers]
    assert {status for _, status, _ in answers} == {201, 503}
    for _, status, headers in answers:
        if status == 503:
            assert headers["content-type"] == "application/problem+json"
            assert int(headers["retry-after"]) >= 1


@pytest.mark.slow
def test_postgresql_stopped_and_restarted_mid_load(cluster: Cluster) -> None:
    """Only 201s and 503s with Retry-After while PostgreSQL stops and starts again; /readyz
    follows; writes succeed again without restarting Tally. The editor key is looked up in
    the database whenever the key cache (0.2 s here) forgets it."""
    settings = migrated(cluster, key_cache_seconds=0.2)
    with serving(settings) as port, httpx.Client(headers=AUTH, timeout=20) as client:
        url = client.base_url = f"http://127.0.0.1:{port}"
        with load(url, seeded(client)) as threads:
            time.sleep(0.5)
            cluster.stop()
            until(lambda: client.get("/readyz").status_code == 503)
            time.sleep(1.0)
            restarted = time.monotonic()
            cluster.start()
            until(lambda: client.get("/readyz").status_code == 200)
            recovered = until(lambda: all(t.answers[-1][1] == 201 for t in threads))
    assert_only_201_and_503(threads)
    assert recovered - restarted < 10


@pytest.mark.slow
def test_postgresql_read_only_is_503_and_not_ready(cluster: Cluster) -> None:
    """As when a primary is demoted, or a disk-full guard makes the server read-only."""
    settings = migrated(cluster)
    with serving(settings) as port, httpx.Client(headers=AUTH, timeout=20) as client:
        url = client.base_url = f"http://127.0.0.1:{port}"
        with load(url, seeded(client)) as threads:
            time.sleep(0.3)
            read_only(cluster, True)
            until(lambda: client.get("/readyz").status_code == 503)
            until(lambda: all(t.answers[-1][1] == 503 for t in threads))
            read_only(cluster, False)
            until(lambda: client.get("/readyz").status_code == 200)
            until(lambda: all(t.answers[-1][1] == 201 for t in threads))
    assert_only_201_and_503(threads)


def read_only(cluster: Cluster, on: bool) -> None:
    """Make every transaction of the cluster read-only by default, or no longer."""
    admin = create_engine(f"{cluster.url}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            change = "SET default_transaction_read_only = on" if on else "RESET ALL"
            conn.execute(text(f"ALTER SYSTEM {change}"))
            conn.execute(text("SELECT pg_reload_conf()"))
    finally:
        admin.dispose()
