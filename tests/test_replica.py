"""Reads served by a PostgreSQL streaming replica (TALLY_READ_DATABASE_URL), against a real
primary and hot standby made with pg_basebackup: lists, reports, exports, feeds and the desk's
read pages read the replica; a claim by its id, and anything right after a write, the primary;
a replica that lags or is down sends reads to the primary, with no error."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pydantic
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text

import app.db
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.services.ops import migrate
from tests.conftest import ADMIN_KEY, claim_body
from tests.pgcluster import Cluster, find_bindir, replicated_clusters
from tests.test_desk import sign_in

DATABASE = "tally"


@dataclass
class Replication:
    primary: Cluster
    replica: Cluster
    on_primary: Engine  # AUTOCOMMIT connections, for the test's own statements
    on_replica: Engine

    def wait_for_replay(self) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with self.on_primary.connect() as conn:
            lsn = conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
        replayed = text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
        until(lambda: bool(self._on_replica(replayed, lsn=lsn)))

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        """The replica receives the primary's WAL but applies none of it, then catches up."""
        self._on_replica(text("SELECT pg_wal_replay_pause()"))
        state = text("SELECT pg_get_wal_replay_pause_state()")
        until(lambda: self._on_replica(state) == "paused")
        try:
            yield
        finally:
            self._on_replica(text("SELECT pg_wal_replay_resume()"))
        self.wait_for_replay()

    def _on_replica(self, statement: Any, **params: Any) -> Any:
        with self.on_replica.connect() as conn:
            return conn.execute(statement, params).scalar_one()


def until(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def replicated() -> Iterator[Replication]:
    """A migrated primary and its streaming replica, for this module's tests."""
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("TALLY_REQUIRE_POSTGRES") == "1":
            pytest.fail("TALLY_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries were found")
        pytest.skip("PostgreSQL server binaries not found (set TALLY_REQUIRE_POSTGRES=1 to fail)")
    with replicated_clusters(bindir) as (primary, replica):
        admin = create_engine(f"{primary.url}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {DATABASE}"))
        admin.dispose()
        engine = make_engine(Settings(database_url=f"{primary.url}/{DATABASE}"))
        migrate(engine)
        engine.dispose()
        on_primary, on_replica = (
            create_engine(f"{c.url}/{DATABASE}", isolation_level="AUTOCOMMIT", pool_pre_ping=True)
            for c in (primary, replica)
        )
        until(lambda: _connects(on_replica))
        replication = Replication(primary, replica, on_primary, on_replica)
        replication.wait_for_replay()
        try:
            yield replication
        finally:
            on_primary.dispose()
            on_replica.dispose()


def _connects(engine: Engine) -> bool:
    try:
        with engine.connect():
            return True
    except Exception:
        return False


@contextmanager
def tally(replication: Replication, **settings: Any) -> Iterator[TestClient]:
    """A client (with the admin key) of an app that reads from the replica."""
    config = Settings(
        database_url=f"{replication.primary.url}/{DATABASE}",
        read_database_url=f"{replication.replica.url}/{DATABASE}",
        admin_key=ADMIN_KEY,
        run_worker=False,
        **settings,
    )
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with TestClient(create_app(config), headers=headers, raise_server_exceptions=False) as c:
        yield c


def new_event(client: TestClient, slug: str) -> None:
    """An event and a source, both named `slug`."""
    assert client.post("/v1/events", json={"slug": slug, "title": slug}).status_code == 201
    source = {"slug": slug, "name": slug, "kind": "news_agency"}
    assert client.post("/v1/sources", json=source).status_code == 201


def record(client: TestClient, event: str, figure: str = "at least 10") -> str:
    body = claim_body(event=event, source=event, figure=figure)
    response = client.post("/v1/claims", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def listed(client: TestClient, event: str, **headers: str) -> set[str]:
    response = client.get("/v1/claims", params={"event": event}, headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


@pytest.mark.slow
def test_lists_reports_exports_and_desk_pages_read_the_replica(
    replicated: Replication,
) -> None:
    with tally(replicated, read_max_lag_seconds=3600) as client:
        new_event(client, "paused")
        first = record(client, "paused")
        replicated.wait_for_replay()
        sign_in(client, ADMIN_KEY)
        with replicated.replay_paused():
            second = record(client, "paused", "at least 20")
            # The replica stands where it stood before the second claim…
            assert listed(client, "paused") == {first}
            for path in ("/v1/events/paused/report", "/v1/claims/export?event=paused"):
                answer = client.get(path)
                assert answer.status_code == 200, answer.text
                assert "at least 10" in answer.text, path
                assert "at least 20" not in answer.text, path
            assert "at least 20" not in client.get("/events/paused").text
            assert client.get("/readyz").json()["replica"] == "up"
            # …while a claim by its id, and anything asked fresh, reads the primary.
            assert client.get(f"/v1/claims/{second}").json()["id"] == second
            assert len(client.get(f"/v1/claims/{second}/revisions").json()["items"]) == 1
            assert listed(client, "paused", **{"Cache-Control": "no-cache"}) == {first, second}
            after_a_write = client.get("/events/paused?done=recorded&recorded=1").text
            assert "at least 20" in after_a_write
        assert listed(client, "paused") == {first, second}


@pytest.mark.slow
def test_a_replica_too_far_behind_sends_reads_to_the_primary(replicated: Replication) -> None:
    with tally(replicated, read_max_lag_seconds=0.5) as client:
        new_event(client, "behind")
        replicated.wait_for_replay()
        with replicated.replay_paused():
            claim = record(client, "behind")
            time.sleep(1.5)  # the replica's last replayed commit is now older than 0.5 s
            assert listed(client, "behind") == {claim}
            ready = client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["replica"] == "lagging", ready.json()


@pytest.mark.slow
def test_a_stopped_replica_sends_reads_to_the_primary_and_readyz_says_so(
    replicated: Replication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.db, "REPLICA_RETRY_SECONDS", 0.5)
    reads = (
        "/v1/claims?event=down",
        "/v1/claims/export?event=down",
        "/v1/events/down/report",
        "/v1/reports/discrepancies",
        "/v1/conflicts",
        "/v1/feeds/conflicts.atom",
        "/v1/events/down/feed.atom",
        "/v1/events",
        "/events/down",
        "/conflicts",
    )
    with tally(replicated) as client:
        new_event(client, "down")
        sign_in(client, ADMIN_KEY)
        assert listed(client, "down") == set()  # the replica's connections are pooled now
        replicated.replica.stop("fast")
        try:
            claim = record(client, "down")
            for _ in range(2):  # the first read finds the replica down, the next skips it
                for path in reads:
                    answer = client.get(path)
                    assert answer.status_code == 200, (path, answer.text)
            assert listed(client, "down") == {claim}
            ready = client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json() | {"replica_detail": ""} == {
                "status": "ready",
                "primary": "ready",
                "replica": "down",
                "replica_detail": "",
            }
        finally:
            replicated.replica.start()
        until(lambda: client.get("/readyz").json()["replica"] == "up")
        replicated.wait_for_replay()
        assert listed(client, "down") == {claim}


@pytest.mark.slow
def test_a_claim_just_recorded_is_always_found_by_its_id(replicated: Replication) -> None:
    with tally(replicated, read_max_lag_seconds=3600) as client:
        new_event(client, "own")
        replicated.wait_for_replay()
        with replicated.replay_paused():  # the replica sees none of them…
            for n in range(1, 31):
                claim = record(client, "own", f"at least {n}")
                assert client.get(f"/v1/claims/{claim}").json()["id"] == claim
            assert listed(client, "own") == set()
        for n in range(31, 61):  # …and while it replays, it may see them late
            claim = record(client, "own", f"at least {n}")
            assert client.get(f"/v1/claims/{claim}").json()["id"] == claim
            assert client.get(f"/v1/claims/{claim}/revisions").status_code == 200


def test_a_read_replica_needs_a_postgresql_primary_and_is_one() -> None:
    replica = "postgresql+psycopg://reader@replica.internal/tally"
    with pytest.raises(pydantic.ValidationError, match="PostgreSQL TALLY_DATABASE_URL"):
        Settings(database_url="sqlite:///tally.db", read_database_url=replica)
    with pytest.raises(pydantic.ValidationError, match="streaming replica"):
        Settings(database_url=replica, read_database_url="sqlite:///copy.db")
