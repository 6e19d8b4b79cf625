"""The change feed (SPEC §12): every change of SPEC §7 once, in commit order, gap-free
across server processes; a long poll that holds no connection and no thread while it waits."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app import models
from app.config import Settings
from app.db import begin_write, make_engine, make_sessionmaker
from app.domain.newsroom import START, ChangeFilter, Position
from app.main import create_app
from app.repository import changes as change_log
from tests.conftest import ADMIN_KEY, claim_body, seed
from tests.pgcluster import free_port
from tests.test_newsroom_share import tally_serve

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
EXPECTED = [
    "claim.created", "claim.created", "conflict.opened", "claim.updated", "conflict.cleared",
    "claim.disputed", "conflict.opened", "conflict.resolved", "claim.updated",
    "claim.retracted", "conflict.opened",
]  # fmt: skip


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, admin_key=ADMIN_KEY, run_worker=False, change_poll_seconds=0.2
    )


def every_kind_of_change(client: Any) -> tuple[str, str]:
    """One change of each type of SPEC §7, as tests/test_webhooks.py makes them."""
    a = client.post("/v1/claims", json=claim_body(claimant="Ministry", figure="at least 164"))
    b = client.post("/v1/claims", json=claim_body(claimant="Police", figure="100"))
    a_id, b_id = a.json()["id"], b.json()["id"]
    fix = {"figure": "200", "reason": "corrected"}
    assert (
        client.patch(f"/v1/claims/{b_id}", json=fix, headers={"If-Match": '"1"'}).status_code == 200
    )
    dispute = client.post(f"/v1/claims/{a_id}/disputes", json={"by": "NGO", "reason": "too low"})
    [disputed] = client.get("/v1/conflicts", params={"kind": "disputed"}).json()["items"]
    resolve = client.post(f"/v1/conflicts/{disputed['id']}/resolve", json={"note": "checked"})
    assert resolve.status_code == 200
    close = f"/v1/claims/{a_id}/disputes/{dispute.json()['id']}/close"
    assert client.post(close, json={}).status_code == 200
    assert client.post(f"/v1/claims/{a_id}/retract", json={"reason": "deleted"}).status_code == 200
    return a_id, b_id


def test_every_change_is_in_the_feed_once_in_commit_order(client: TestClient) -> None:
    seed(client)
    a_id, b_id = every_kind_of_change(client)
    page = client.get("/v1/changes").json()
    items = page["items"]
    assert [i["type"] for i in items] == EXPECTED
    assert [i["id"] for i in items[:2]] == [a_id, b_id]
    assert all(set(i) == {"seq", "type", "at", "id", "data"} for i in items)
    assert page["next_cursor"] == items[-1]["seq"]
    retracted = items[-2]
    assert retracted["data"] == client.get(f"/v1/claims/{a_id}").json()
    resolved = items[7]
    assert resolved["data"] == client.get(f"/v1/conflicts/{resolved['id']}").json()
    assert items[0]["data"]["version"] == 1  # as it was then, not as it is now
    moments = [datetime.fromisoformat(i["at"].replace("Z", "+00:00")) for i in items]
    assert moments == sorted(moments)

    followed, cursor = [], None
    for _ in range(20):
        params = {"limit": 3} | ({"after": cursor} if cursor else {})
        answer = client.get("/v1/changes", params=params).json()
        followed += answer["items"]
        if not answer["items"]:
            assert answer["next_cursor"] == cursor  # nothing new: the same place
            break
        cursor = answer["next_cursor"]
    assert followed == items
    resumed = client.get("/v1/changes", params={"after": items[4]["seq"]}).json()["items"]
    assert resumed == items[5:]


@pytest.mark.parametrize("after", ["!!", "x" * 61, "Zm9v", "MS4y.", "LTEuMg", ""])
def test_a_cursor_tally_did_not_give_is_422(client: TestClient, after: str) -> None:
    response = client.get("/v1/changes", params={"after": after})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "after"


def test_wait_and_limit_are_bounded(client: TestClient) -> None:
    for params in ({"wait": 31}, {"wait": -1}, {"limit": 0}, {"limit": 1001}):
        assert client.get("/v1/changes", params=params).status_code == 422, params
    assert client.get("/v1/changes", headers={"Authorization": ""}).status_code == 401


# --- the long poll -------------------------------------------------------------------------


@dataclass
class Served:
    url: str
    app: FastAPI


@pytest.fixture
def served(settings: Settings) -> Iterator[Served]:
    """The app with 2 request threads, served by uvicorn in this process."""
    app = create_app(settings.model_copy(update={"threads": 2}))
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        thread.join(0.01)
    yield Served(f"http://127.0.0.1:{port}", app)
    running.should_exit = True
    thread.join(10)


def test_a_waiting_reader_gets_a_change_as_soon_as_it_commits(served: Served) -> None:
    with httpx.Client(base_url=served.url, headers=AUTH, timeout=30) as api:
        seed(api)  # type: ignore[arg-type]
        cursor = api.get("/v1/changes").json()["next_cursor"]

        def write_later() -> None:
            time.sleep(1.0)
            assert api.post("/v1/claims", json=claim_body()).status_code == 201

        writer = threading.Thread(target=write_later)
        started = time.monotonic()
        writer.start()
        answer = api.get("/v1/changes", params={"after": cursor, "wait": 20}).json()
        waited = time.monotonic() - started
        writer.join()
    assert [i["type"] for i in answer["items"]] == ["claim.created"]
    assert 0.9 <= waited < 5


def test_a_long_poll_holds_no_connection_and_no_thread_while_it_waits(served: Served) -> None:
    """Six long polls wait on a server of two request threads: other requests pass at once,
    and no more connections are checked out than two threads' short reads and one request
    take — never one per waiting request."""
    pool = served.app.state.sessionmaker.kw["bind"].pool
    with httpx.Client(base_url=served.url, headers=AUTH, timeout=30) as api:
        seed(api)  # type: ignore[arg-type]
        cursor = api.get("/v1/changes").json()["next_cursor"]
        with ThreadPoolExecutor(6) as waiting:
            polls = [
                waiting.submit(api.get, "/v1/changes", params={"after": cursor, "wait": 8})
                for _ in range(6)
            ]
            time.sleep(1.0)
            checked_out = []
            for _ in range(5):
                begun = time.monotonic()
                assert api.get("/v1/claims").status_code == 200
                assert time.monotonic() - begun < 3  # not after the polls (8 s)
                for _ in range(5):
                    checked_out.append(pool.checkedout())
                    time.sleep(0.02)
            answers = [poll.result() for poll in polls]
    assert all(a.status_code == 200 and a.json()["items"] == [] for a in answers)
    assert all(a.json()["next_cursor"] == cursor for a in answers)
    assert max(checked_out) <= 3 < len(polls)


# --- gap-free across transactions (PostgreSQL) ----------------------------------------------


def test_a_row_committed_late_is_never_overtaken(settings: Settings) -> None:
    """Row ids follow inserts, not commits: `late` inserts id 1, `early` inserts id 2 and
    commits first. A reader that took id 2 and moved its cursor past it would never see id 1;
    the feed shows neither until `late` has ended, then both, each once."""
    if settings.is_sqlite:
        pytest.skip("SQLite admits one writer at a time: its ids follow commits")
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    late, early, reader = sessions(), sessions(), sessions()

    def change(session: Any, subject: str) -> None:
        change_log.add_change(
            session, type="claim.created", at=datetime.now(UTC), subject=subject,
            event="quake", metric="deaths", kind=None, data={"id": subject},
        )  # fmt: skip
        change_log.write_changes(session)

    def version() -> tuple[Any, ...]:
        key = change_log.version(reader, ChangeFilter()).key
        reader.rollback()
        return key

    try:
        begin_write(late)
        change(late, "late-1")
        begin_write(early)
        change(early, "early")
        alone = version()
        early.commit()
        assert change_log.changes_after(reader, START, 10) == []  # `late` may still commit
        reader.rollback()
        with_early = version()
        change(late, "late-2")
        late.commit()
        found = change_log.changes_after(reader, START, 10)
    finally:
        for session in (late, early, reader):
            session.close()
        engine.dispose()
    assert [c.subject for c in found] == ["late-1", "late-2", "early"]
    assert found[0].position.id < found[2].position.id < found[1].position.id
    assert [c.position for c in found] == sorted(c.position for c in found)
    assert alone != with_early  # an ETag sees `early` at once, though the feed waits


# --- under concurrent writers and two server processes ----------------------------------------


@dataclass(frozen=True)
class Write:
    key: tuple[str, int]  # (claim id, version): its change row
    sent: float
    acknowledged: float


class Writer(threading.Thread):
    """Records claims and corrects them, remembering when each write was sent and answered."""

    def __init__(self, url: str, n: int, steps: int) -> None:
        super().__init__(daemon=True)
        self.url, self.n, self.steps = url, n, steps
        self.writes: list[Write] = []
        self.failures: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=AUTH, timeout=30) as api:
            last: tuple[str, int] | None = None
            for step in range(self.steps):
                sent = time.monotonic()
                if step % 3 == 2 and last is not None:
                    body = {"figure": str(1000 + step), "reason": "correction"}
                    headers = {"If-Match": f'"{last[1]}"'}
                    r = api.patch(f"/v1/claims/{last[0]}", json=body, headers=headers)
                    expected = 200
                else:
                    fields = {"event": f"event-{self.n % 4}", "claimant": f"Writer {self.n}"}
                    r = api.post("/v1/claims", json=claim_body(figure=str(step + 1), **fields))
                    expected = 201
                if r.status_code != expected:
                    self.failures.append(r.text)
                    continue
                last = (r.json()["id"], r.json()["version"])
                self.writes.append(Write(last, sent, time.monotonic()))


class Reader(threading.Thread):
    """Follows next_cursor with long polls, alternating between the servers."""

    def __init__(self, urls: list[str], done: threading.Event) -> None:
        super().__init__(daemon=True)
        self.urls, self.done = urls, done
        self.items: list[dict[str, Any]] = []

    def run(self) -> None:
        cursor: str | None = None
        quiet = 0
        for url in itertools.cycle(self.urls):
            params: dict[str, Any] = {"limit": 37, "wait": 1}
            if cursor:
                params["after"] = cursor
            answer = httpx.get(f"{url}/v1/changes", params=params, headers=AUTH, timeout=30)
            page = answer.json()
            self.items += page["items"]
            cursor = page["next_cursor"]
            quiet = 0 if page["items"] or not self.done.is_set() else quiet + 1
            if quiet >= 3:
                return


@pytest.mark.slow
def test_a_reader_sees_every_change_once_in_commit_order_under_concurrent_writers(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "tally.log"
    with (
        tally_serve(database_url, log, "warning") as first,
        tally_serve(database_url, log, "warning") as second,
    ):
        urls = [first, second]
        with httpx.Client(base_url=urls[0], headers=AUTH) as api:
            assert api.post("/v1/sources", json={"slug": "wire", "name": "Wire"}).status_code == 201
            for n in range(4):
                event = {"slug": f"event-{n}", "title": f"Event {n}"}
                assert api.post("/v1/events", json=event).status_code == 201
        done = threading.Event()
        reader = Reader(urls, done)
        reader.start()
        writers = [Writer(urls[n % 2], n, steps=24) for n in range(8)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(300)
        done.set()
        reader.join(120)
        assert not reader.is_alive()
    assert not [f for w in writers for f in w.failures]
    check_the_feed(database_url, reader.items, [x for w in writers for x in w.writes])


def check_the_feed(database_url: str, items: list[dict[str, Any]], writes: list[Write]) -> None:
    positions = [Position.of_cursor(i["seq"]) for i in items]
    assert None not in positions
    assert positions == sorted(positions)  # type: ignore[type-var]
    assert len(set(positions)) == len(positions)  # exactly once
    engine = make_engine(Settings(database_url=database_url))
    with make_sessionmaker(engine)() as session:
        stored = session.scalar(select(func.count()).select_from(models.Change))
    engine.dispose()
    assert len(items) == stored  # every change
    place = {
        (i["data"]["id"], i["data"]["version"]): n
        for n, i in enumerate(items)
        if i["type"] in ("claim.created", "claim.updated")
    }
    assert len(writes) >= 150
    assert all(w.key in place for w in writes)
    # A write answered before another was sent committed first: the feed says so too.
    by_answer = sorted(writes, key=lambda w: w.acknowledged)
    for before in by_answer:
        for after in writes:
            if before.acknowledged < after.sent:
                assert place[before.key] < place[after.key], (before, after)
