"""Source watch (SPEC §13) end to end: a page server on 127.0.0.1 started by each test, whose
pages the test changes, and the checks, states and conflicts Tally keeps of them."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from app import models, repository
from app.config import Settings
from app.db import begin_write, make_engine, make_sessionmaker
from app.domain.model import StateConflict
from app.main import create_app
from app.repository import checks as check_log
from app.services import ssrf, watch
from app.worker import Worker
from tests.conftest import ADMIN_KEY, claim_body, new_key, seed

FIGURE = "at least 8,000"
PRESENT = "<html><body><h1>Quake</h1><p>At least <b>8 000</b> people died.</p></body></html>"
EDITED = "<html><body><h1>Quake</h1><p>The toll is being verified.</p></body></html>"


# --- the page server ------------------------------------------------------------------------


@dataclass
class Page:
    status: int = 200
    body: str = PRESENT
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    size: int = 0  # stream this many bytes (the body, then filler) instead of the body


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    started: float
    ended: float = 0.0
    sent: int = 0


class PageServer:
    """Serves `pages` by path (404 for the rest) and notes every request and how many ran at
    once."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.seen: list[Seen] = []
        self.active = 0
        self.most_at_once = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen = Seen(self.path, dict(self.headers.items()), time.monotonic())
                with server.lock:
                    server.active += 1
                    server.most_at_once = max(server.most_at_once, server.active)
                    server.seen.append(seen)
                try:
                    page = server.pages.get(self.path, Page(404, "not here"))
                    time.sleep(page.delay)
                    seen.sent = self.answer(page)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    seen.ended = time.monotonic()
                    with server.lock:
                        server.active -= 1

            def answer(self, page: Page) -> int:
                etag = page.headers.get("ETag")
                if etag is not None and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return 0
                body = page.body.encode()
                self.send_response(page.status)
                for name, value in {"Content-Type": "text/html; charset=utf-8"}.items():
                    self.send_header(name, value)
                for name, value in page.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(max(page.size, len(body))))
                self.end_headers()
                self.wfile.write(body)
                sent = len(body)
                filler = b"<p>" + b"x" * 65_530 + b"</p>"
                while sent < page.size:
                    chunk = filler[: page.size - sent]
                    self.wfile.write(chunk)
                    sent += len(chunk)
                return sent

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def pages() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.close()


@pytest.fixture
def silent() -> Iterator[str]:
    """A host that accepts connections (the kernel does) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


# --- Tally ----------------------------------------------------------------------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Short timeouts, no delay between requests unless a test wants one; the watch is on but
    the app runs no worker (tests check by POST or run a Watcher of their own)."""
    return settings.model_copy(
        update={
            "run_worker": False,
            "watch_interval_hours": 6.0,
            "watch_host_delay_seconds": 0.0,
            "watch_timeout_seconds": 2.0,
            "watch_poll_seconds": 0.02,
        }
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with TestClient(create_app(settings), headers=headers, raise_server_exceptions=False) as c:
        seed(c)
        yield c


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(settings)
    yield make_sessionmaker(engine)
    engine.dispose()


def post_claim(client: TestClient, url: str | None, **fields: object) -> str:
    body = claim_body(figure=FIGURE, url=url, **fields)
    response = client.post("/v1/claims", json=body)
    assert response.status_code == 201, response.text
    claim_id: str = response.json()["id"]
    return claim_id


def check(client: TestClient, claim_id: str) -> dict[str, Any]:
    response = client.post(f"/v1/claims/{claim_id}/checks")
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def open_kinds(client: TestClient, claim_id: str) -> list[str]:
    """The kinds of the claim's open conflicts."""
    items = client.get("/v1/conflicts", params={"status": "open", "limit": 200}).json()["items"]
    return sorted(c["kind"] for c in items if claim_id in c["claims"])


def conflicts_of_kind(client: TestClient, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get("/v1/conflicts", params={"kind": kind}).json()["items"]
    return found


def checks_of(client: TestClient, claim_id: str) -> list[dict[str, Any]]:
    response = client.get(f"/v1/claims/{claim_id}/checks")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def wait_until(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}")


# --- the story of one page ------------------------------------------------------------------


def test_present_edited_deleted_restored(client: TestClient, pages: PageServer) -> None:
    pages.pages["/toll"] = Page()
    claim = post_claim(client, pages.url("/toll"))

    first = check(client, claim)
    assert (first["status"], first["figure_found"], first["state"]) == (200, True, "found")
    assert first["error"] is None
    assert len(first["content_hash"]) == 64
    assert open_kinds(client, claim) == []

    pages.pages["/toll"] = Page(body=EDITED)
    edited = check(client, claim)
    assert (edited["figure_found"], edited["state"], edited["changed"]) == (
        False,
        "figure_missing",
        True,
    )
    assert open_kinds(client, claim) == ["figure_not_in_source"]
    [missing] = conflicts_of_kind(client, "figure_not_in_source")
    assert pages.url("/toll") in missing["detail"]
    assert missing["claims"] == [claim]

    del pages.pages["/toll"]
    gone = check(client, claim)
    assert (gone["status"], gone["figure_found"], gone["state"]) == (404, None, "unavailable")
    assert open_kinds(client, claim) == ["source_unavailable"]  # one conflict per claim
    [unavailable] = conflicts_of_kind(client, "source_unavailable")
    assert "answered 404" in unavailable["detail"]

    pages.pages["/toll"] = Page()
    back = check(client, claim)
    assert (back["figure_found"], back["state"]) == (True, "found")
    assert open_kinds(client, claim) == []
    assert {c["status"] for c in conflicts_of_kind(client, "source_unavailable")} == {"cleared"}
    assert {c["status"] for c in conflicts_of_kind(client, "figure_not_in_source")} == {"cleared"}

    listed = checks_of(client, claim)
    assert [c["state"] for c in listed] == ["found", "figure_missing", "unavailable", "found"]
    assert [c["id"] for c in listed] == [first["id"], edited["id"], gone["id"], back["id"]]


def test_conflicts_reach_webhooks_and_the_feed_like_any_other(
    client: TestClient, pages: PageServer
) -> None:
    pages.pages["/toll"] = Page()
    claim = post_claim(client, pages.url("/toll"))
    check(client, claim)
    del pages.pages["/toll"]
    check(client, claim)
    response = client.get("/v1/changes")
    if response.status_code == 404:  # the change feed (SPEC §12) is not there yet
        pytest.skip("no change feed")
    kinds = [(c["type"], c["data"].get("kind")) for c in response.json()["items"]]
    assert ("conflict.opened", "source_unavailable") in kinds


def test_requests_name_tally_and_send_the_validators_of_the_page_read(
    client: TestClient, pages: PageServer, settings: Settings
) -> None:
    modified = "Tue, 01 Dec 2026 08:00:00 GMT"
    pages.pages["/toll"] = Page(headers={"ETag": '"v1"', "Last-Modified": modified})
    claim = post_claim(client, pages.url("/toll"))
    check(client, claim)
    pages.pages["/toll"] = Page(body=EDITED, headers={"ETag": '"v2"'})
    assert check(client, claim)["state"] == "figure_missing"
    [opened] = conflicts_of_kind(client, "figure_not_in_source")

    unchanged = check(client, claim)  # the server answers 304 to If-None-Match: "v2"
    assert (unchanged["status"], unchanged["figure_found"]) == (304, False)
    assert unchanged["state"] == "figure_missing"
    assert not unchanged["changed"]
    assert unchanged["content_hash"] == checks_of(client, claim)[1]["content_hash"]
    [still] = conflicts_of_kind(client, "figure_not_in_source")
    assert (still["id"], still["status"]) == (opened["id"], "open")

    first, second, third = pages.seen
    assert "If-None-Match" not in first.headers
    assert (second.headers["If-None-Match"], second.headers["If-Modified-Since"]) == (
        '"v1"',
        modified,
    )
    assert third.headers["If-None-Match"] == '"v2"'
    assert "If-Modified-Since" not in third.headers
    agent = first.headers["User-Agent"]
    assert "Tally" in agent
    assert settings.base_url in agent


# --- failures and the grace period ----------------------------------------------------------


def test_5xx_for_less_than_the_grace_period_is_nothing_and_longer_is_unavailable(
    client: TestClient, pages: PageServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    pages.pages["/toll"] = Page()
    claim = post_claim(client, pages.url("/toll"))
    t0 = datetime.now(UTC)

    def at(hours: float) -> dict[str, Any]:
        def clock() -> datetime:
            return t0 + timedelta(hours=hours)

        done = watch.check_now(sessions, claim, settings, clock=clock)
        return {"state": done.state.value, "status": done.status}

    assert at(0)["state"] == "found"
    pages.pages["/toll"] = Page(503, "busy")
    assert at(1) == {"state": "failing", "status": 503}
    assert at(13)["state"] == "failing"
    assert at(24.5)["state"] == "failing"  # 23.5 hours of failures: within the grace period
    assert open_kinds(client, claim) == []
    assert at(25.5)["state"] == "unavailable"
    assert open_kinds(client, claim) == ["source_unavailable"]
    [conflict] = conflicts_of_kind(client, "source_unavailable")
    assert "has failed every check since" in conflict["detail"]
    pages.pages["/toll"] = Page()
    assert at(26)["state"] == "found"
    assert open_kinds(client, claim) == []


def test_a_redirect_to_a_private_address_is_refused_and_recorded(
    client: TestClient,
    pages: PageServer,
    settings: Settings,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The page server's address passes for a public one; every other address keeps its rules.
    real = ssrf.refusal
    monkeypatch.setattr(ssrf, "refusal", lambda ip: None if str(ip) == "127.0.0.1" else real(ip))
    strict = settings.model_copy(update={"webhook_allow_private": False})
    pages.pages["/moved"] = Page(302, "", {"Location": "http://10.1.2.3/internal"})
    pages.pages["/hop1"] = Page(301, "", {"Location": "/hop2"})
    pages.pages["/hop2"] = Page(307, "", {"Location": pages.url("/hop3")})
    pages.pages["/hop3"] = Page(308, "", {"Location": "/toll"})
    pages.pages["/toll"] = Page()
    pages.pages["/loop"] = Page(302, "", {"Location": "/loop"})
    moved = post_claim(client, pages.url("/moved"))
    hops = post_claim(client, pages.url("/hop1"), claimant="Three hops")
    loop = post_claim(client, pages.url("/loop"), claimant="Loop")

    refused = watch.check_now(sessions, moved, strict)
    assert refused.status is None
    assert refused.error is not None
    assert refused.error.startswith("Refused")
    assert "private" in refused.error
    assert [s.path for s in pages.seen] == ["/moved"]  # 10.1.2.3 never contacted

    followed = watch.check_now(sessions, hops, strict)
    assert (followed.status, followed.figure_found) == (200, True)
    looped = watch.check_now(sessions, loop, strict)
    assert looped.error == "Refused: more than 3 redirects."
    assert [s.path for s in pages.seen].count("/loop") == 4  # the first request and 3 more

    monkeypatch.setattr(ssrf, "refusal", real)
    loopback = watch.check_now(sessions, hops, strict)
    assert loopback.error is not None
    assert "loopback" in loopback.error
    assert checks_of(client, moved)[0]["error"] == refused.error


def test_a_50_mb_page_is_cut_at_the_cap(
    client: TestClient, pages: PageServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    capped = settings.model_copy(update={"watch_max_bytes": 256 * 1024})
    pages.pages["/huge"] = Page(size=50 * 1024 * 1024)
    claim = post_claim(client, pages.url("/huge"))
    started = time.monotonic()
    done = watch.check_now(sessions, claim, capped)
    assert time.monotonic() - started < 5
    assert (done.status, done.truncated, done.figure_found) == (200, True, True)
    wait_until(lambda: pages.seen[0].ended, what="the server to stop sending")
    assert pages.seen[0].sent < 10 * 1024 * 1024  # the rest was never fetched


# --- who is watched -------------------------------------------------------------------------


def test_claims_without_a_url_or_retracted_are_not_checked(
    client: TestClient, pages: PageServer, sessions: sessionmaker[Session], settings: Settings
) -> None:
    pages.pages["/toll"] = Page()
    claim = post_claim(client, pages.url("/toll"))
    bare = post_claim(client, None, claimant="No link")
    assert client.post(f"/v1/claims/{bare}/checks").status_code == 409
    del pages.pages["/toll"]
    check(client, claim)
    assert open_kinds(client, claim) == ["source_unavailable"]

    retract = client.post(f"/v1/claims/{claim}/retract", json={"reason": "Withdrawn."})
    assert retract.status_code == 200, retract.text
    assert open_kinds(client, claim) == ["retracted_figure"]
    assert client.post(f"/v1/claims/{claim}/checks").status_code == 409
    later = datetime.now(UTC) + timedelta(days=30)
    with sessions() as session:
        assert watch.lease_due(session, settings, later, 10) == []
    watch.park(sessions)  # what the watcher does now and then: out of the due checks
    with sessions() as session:
        parked = session.get(models.ClaimWatch, int(claim))
        assert parked is not None
        assert parked.next_check_at == watch.NEVER
    assert client.get("/v1/claims/999999/checks").status_code == 404
    off = settings.model_copy(update={"watch_interval_hours": 0})
    with pytest.raises(StateConflict, match="off"):
        watch.check_now(sessions, bare, off)  # off: no page is fetched, even when asked


def test_a_corrected_figure_is_looked_for_afresh(client: TestClient, pages: PageServer) -> None:
    pages.pages["/toll"] = Page()  # shows 8 000
    claim = post_claim(client, pages.url("/toll"))
    assert check(client, claim)["state"] == "found"
    corrected = client.patch(
        f"/v1/claims/{claim}",
        json={"figure": "at least 9,000", "reason": "Misread."},
        headers={"If-Match": '"1"'},
    )
    assert corrected.status_code == 200, corrected.text
    again = check(client, claim)  # 9,000 was never on the page: nothing was lost
    assert (again["figure_found"], again["state"]) == (False, "not_found")
    assert open_kinds(client, claim) == []
    pages.pages["/toll"] = Page(body=PRESENT.replace("8 000", "9 000"))
    assert check(client, claim)["state"] == "found"
    pages.pages["/toll"] = Page()
    assert check(client, claim)["state"] == "figure_missing"
    assert open_kinds(client, claim) == ["figure_not_in_source"]


def test_readers_list_checks_and_editors_run_them(client: TestClient, pages: PageServer) -> None:
    pages.pages["/toll"] = Page()
    claim = post_claim(client, pages.url("/toll"))
    reader = new_key(client, "reader")
    editor = new_key(client, "editor")
    assert client.post(f"/v1/claims/{claim}/checks", headers=reader).status_code == 403
    assert client.post(f"/v1/claims/{claim}/checks", headers=editor).status_code == 201
    response = client.get(f"/v1/claims/{claim}/checks", headers=reader)
    assert [c["figure_found"] for c in response.json()["items"]] == [True]


def test_checks_kept_are_the_last_ones_and_every_change(
    client: TestClient, pages: PageServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    few = settings.model_copy(update={"watch_keep_checks": 3})
    claim = post_claim(client, pages.url("/toll"))
    story = [PRESENT, PRESENT, PRESENT, EDITED, EDITED, EDITED, EDITED, PRESENT, PRESENT]
    for body in story:
        pages.pages["/toll"] = Page(body=body)
        watch.check_now(sessions, claim, few)
    kept = checks_of(client, claim)
    # Every change of state (the first check's too), and the last three.
    assert [(c["state"], c["changed"]) for c in kept] == [
        ("found", True),
        ("figure_missing", True),
        ("figure_missing", False),
        ("found", True),
        ("found", False),
    ]


# --- the watcher ----------------------------------------------------------------------------


def watching(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update={"watch_interval_hours": 6.0, **changes})


@dataclass
class Running:
    watchers: list[watch.Watcher]
    engines: list[Engine]
    stopping: threading.Event


@pytest.fixture
def run_watchers(settings: Settings) -> Iterator[Callable[..., Running]]:
    """Start n watchers, each with an engine of its own (as separate processes would)."""
    started: list[Running] = []

    def start(n: int = 1, **changes: Any) -> Running:
        stopping = threading.Event()
        engines = [make_engine(settings) for _ in range(n)]
        watchers = [
            watch.Watcher(make_sessionmaker(engine), watching(settings, **changes), stopping)
            for engine in engines
        ]
        for watcher in watchers:
            watcher.start()
        started.append(Running(watchers, engines, stopping))
        return started[-1]

    yield start
    for running in started:
        for watcher in running.watchers:
            watcher.stop()
        for engine in running.engines:
            engine.dispose()


def checked(client: TestClient, claims: list[str]) -> bool:
    return all(checks_of(client, claim) for claim in claims)


def test_the_watcher_checks_new_claims_soon(
    client: TestClient, pages: PageServer, run_watchers: Callable[..., Running]
) -> None:
    pages.pages["/toll"] = Page()
    claim = post_claim(client, pages.url("/toll"))
    run_watchers()
    wait_until(lambda: checked(client, [claim]), what="the first check")
    later = post_claim(client, pages.url("/toll"), claimant="Later")
    wait_until(lambda: checked(client, [later]), what="the check of a claim recorded later")
    time.sleep(0.2)
    assert len(checks_of(client, claim)) == 1  # the next one is hours away


def test_two_claims_on_one_host_are_never_fetched_at_the_same_moment(
    client: TestClient, pages: PageServer, run_watchers: Callable[..., Running]
) -> None:
    claims = []
    for n in range(4):
        pages.pages[f"/p{n}"] = Page(delay=0.1)
        claims.append(post_claim(client, pages.url(f"/p{n}"), claimant=f"Claimant {n}"))
    run_watchers(watch_host_delay_seconds=0.15)
    wait_until(lambda: checked(client, claims), what="every claim checked")
    assert pages.most_at_once == 1
    seen = sorted(pages.seen, key=lambda s: s.started)
    assert len(seen) == 4
    gaps = [b.started - a.ended for a, b in itertools.pairwise(seen)]
    assert min(gaps) >= 0.14


def test_two_workers_never_check_the_same_claim_at_once(
    client: TestClient, run_watchers: Callable[..., Running]
) -> None:
    servers = [PageServer() for _ in range(3)]
    try:
        claims = []
        for s, server in enumerate(servers):
            for n in range(4):
                server.pages[f"/p{n}"] = Page(delay=0.05)
                url = server.url(f"/p{n}")
                claims.append(post_claim(client, url, claimant=f"Claimant {s}-{n}"))
        run_watchers(2, watch_concurrency=3)
        wait_until(lambda: checked(client, claims), what="every claim checked")
        time.sleep(0.2)
        assert all(len(checks_of(client, claim)) == 1 for claim in claims)
        assert all(server.most_at_once == 1 for server in servers)
        assert sum(len(server.seen) for server in servers) == 12
    finally:
        for server in servers:
            server.close()


def test_postgresql_workers_skip_the_hosts_another_worker_holds(
    client: TestClient, settings: Settings, pages: PageServer
) -> None:
    if settings.is_sqlite:
        pytest.skip("SQLite admits one writer: a second lease waits instead of skipping")
    second_server = PageServer()
    try:
        post_claim(client, pages.url("/a"))
        post_claim(client, second_server.url("/b"), claimant="Other")
        engine = make_engine(settings)
        factory = make_sessionmaker(engine)
        now = datetime.now(UTC) + timedelta(seconds=1)
        watch.enrol(factory, 0, now - timedelta(seconds=1))
        first, second = factory(), factory()
        try:
            begin_write(first)
            held = check_log.free_hosts(first, now, 1)  # locked, not committed
            started = time.monotonic()
            begin_write(second)
            rest = check_log.free_hosts(second, now, 10)
            assert time.monotonic() - started < 2  # passed over, not waited for
            assert len(held) == 1
            assert len(rest) == 1
            assert set(held) != set(rest)
        finally:
            first.close()
            second.close()
            engine.dispose()
    finally:
        second_server.close()


def test_a_host_that_never_answers_delays_neither_claim_writes_nor_other_hosts(
    client: TestClient, pages: PageServer, silent: str, run_watchers: Callable[..., Running]
) -> None:
    pages.pages["/toll"] = Page()
    stuck = post_claim(client, f"{silent}/toll", claimant="Silent")
    run_watchers(watch_timeout_seconds=3.0)
    time.sleep(0.3)  # the silent host's check is under way
    started = time.monotonic()
    fine = post_claim(client, pages.url("/toll"), claimant="Fine")
    assert time.monotonic() - started < 1.0
    wait_until(lambda: checked(client, [fine]), timeout=2.0, what="the other host's check")
    assert checks_of(client, stuck) == []  # still waiting for its answer
    [failed] = wait_until(lambda: checks_of(client, stuck), timeout=10, what="the timeout")
    assert (failed["status"], failed["state"]) == (None, "failing")
    assert "Timeout" in failed["error"]


def test_a_check_asked_for_waits_for_the_host_and_gives_up_politely(
    client: TestClient, pages: PageServer, settings: Settings, sessions: sessionmaker[Session]
) -> None:
    pages.pages["/toll"] = Page()
    claim = post_claim(client, pages.url("/toll"))
    quick = settings.model_copy(update={"watch_timeout_seconds": 0.2})
    watch.check_now(sessions, claim, quick)
    with sessions() as session:  # another worker holds the host
        begin_write(session)
        host = check_log.watch_host(session, claim)
        assert host is not None
        check_log.lease_claim(session, claim, datetime.now(UTC) + timedelta(minutes=5))
        session.commit()
    with pytest.raises(StateConflict):
        watch.check_now(sessions, claim, quick)
    with sessions() as session:
        assert repository.claims.get_claim(session, claim).url == pages.url("/toll")


def test_fetch_never_raises_for_what_the_network_does(settings: Settings) -> None:
    with httpx.Client(timeout=0.5, trust_env=False) as http:
        refused = watch.fetch(http, "http://127.0.0.1:9/nothing", settings)
        assert refused.status is None
        assert refused.error is not None
        scheme = watch.fetch(http, "ftp://127.0.0.1/x", settings)
        assert scheme.error is not None
        assert scheme.error.startswith("Refused")


def test_the_worker_runs_the_watch_unless_it_is_off(
    client: TestClient, pages: PageServer, settings: Settings
) -> None:
    pages.pages["/toll"] = Page()
    claim = post_claim(client, pages.url("/toll"))
    engine = make_engine(settings)
    for hours, expected in ((0.0, 0), (6.0, 1)):
        worker = Worker(make_sessionmaker(engine), watching(settings, watch_interval_hours=hours))
        worker.start()
        try:
            if expected:
                wait_until(lambda: checked(client, [claim]), what="the worker's watch")
            else:
                time.sleep(0.3)
        finally:
            worker.stop()
            wait_until(
                lambda: not any(t.name == "tally-watch" for t in threading.enumerate()),
                what="the watch to stop",
            )
        assert len(checks_of(client, claim)) == expected
    engine.dispose()


def test_the_desk_claim_page_shows_the_checks(client: TestClient, pages: PageServer) -> None:
    from tests.conftest import ADMIN_KEY
    from tests.test_desk import sign_in

    pages.pages["/toll"] = Page()
    claim = post_claim(client, pages.url("/toll"))
    check(client, claim)
    del pages.pages["/toll"]
    check(client, claim)
    sign_in(client, ADMIN_KEY)
    page = client.get(f"/claims/{claim}")
    assert page.status_code == 200
    section = page.text.split('id="checks-h"')[1].split("</section>")[0]
    assert "HTTP 200" in section
    assert "HTTP 404" in section
    assert section.index("HTTP 404") < section.index("HTTP 200")  # newest first
