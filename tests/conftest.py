"""Fixtures: a migrated database per test, on SQLite and on a throwaway PostgreSQL.

Each test gets a fresh copy of a migrated template database rather than a rolled-back
transaction: services commit (with BEGIN IMMEDIATE on SQLite), and the concurrency and
crash tests need commits that other connections and processes can see.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import hypothesis
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.config import Settings
from app.db import make_engine
from app.logs import configure_logging
from app.main import create_app
from app.services.ops import migrate
from tests.pgcluster import find_bindir, postgres_cluster

# In CI every property test draws the same examples each run: a failure there is one that
# a developer can reproduce, not a coin toss (run locally, hypothesis keeps exploring).
hypothesis.settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")

# JSON log lines, as in production: structlog's default console renderer would print rich
# tracebacks with locals, which takes seconds per logged error.
configure_logging("warning")

# No test fetches the pages its claims link to (example.org …): the source watch is off for
# every app and `tally` process the tests start; tests/test_source_watch.py turns it on.
os.environ.setdefault("TALLY_WATCH_INTERVAL_HOURS", "0")

ADMIN_KEY = "test-admin-key"
TEMPLATE = "tally_template"
_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres_base() -> Iterator[str | None]:
    """A base URL of a private cluster holding a migrated template database, or None."""
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("TALLY_REQUIRE_POSTGRES") == "1":
            pytest.fail("TALLY_REQUIRE_POSTGRES=1 but no PostgreSQL server binaries were found")
        yield None
        return
    with postgres_cluster(bindir) as base:
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {TEMPLATE}"))
        engine = make_engine(Settings(database_url=f"{base}/{TEMPLATE}"))
        migrate(engine)
        engine.dispose()
        yield base
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "tally.db"
    engine = make_engine(Settings(database_url=f"sqlite:///{path}"))
    migrate(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A freshly migrated, empty database of each kind."""
    if request.param == "sqlite":
        shutil.copy(sqlite_template, tmp_path / "tally.db")
        yield f"sqlite:///{tmp_path / 'tally.db'}"
        return
    base = request.getfixturevalue("postgres_base")
    if base is None:
        pytest.skip("PostgreSQL server binaries not found (set TALLY_REQUIRE_POSTGRES=1 to fail)")
    with postgres_database(base, TEMPLATE) as url:
        yield url


@contextmanager
def postgres_database(base: str, template: str | None = None) -> Iterator[str]:
    """A new database in the cluster at `base` (a copy of `template`, else empty), dropped
    on the way out."""
    name = f"test_{os.getpid()}_{next(_numbers)}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    copy = f" TEMPLATE {template}" if template else ""
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}{copy}"))
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, admin_key=ADMIN_KEY, webhook_allow_private=True)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of a fresh app, sending the admin key unless a test sets other headers."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with TestClient(create_app(settings), headers=headers, raise_server_exceptions=False) as c:
        yield c


def new_key(client: TestClient, role: str) -> dict[str, str]:
    """Authorization headers of a new key with `role`."""
    response = client.post("/v1/keys", json={"name": f"{role}-key", "role": role})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    """The app served by a real uvicorn server in this process, for concurrent clients."""
    import threading

    import uvicorn

    from tests.pgcluster import free_port

    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        thread.join(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def seed(client: TestClient) -> None:
    """An event and a source for claims to refer to."""
    assert (
        client.post("/v1/events", json={"slug": "quake", "title": "Earthquake"}).status_code == 201
    )
    assert (
        client.post(
            "/v1/sources", json={"slug": "wire", "name": "Wire", "kind": "news_agency"}
        ).status_code
        == 201
    )


@pytest.fixture
def ledger(client: TestClient) -> TestClient:
    """A client whose database holds the event "quake" and the source "wire"."""
    seed(client)
    return client


def run_async(main: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """`anyio.run` in a thread of its own: the browser tests' Playwright keeps an event loop
    running in the main thread for the rest of the worker's session."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(anyio.run, main, *args).result()


def claim_body(**fields: object) -> dict[str, object]:
    """A valid claim body, with `fields` replacing or adding to the defaults."""
    body: dict[str, object] = {
        "event": "quake",
        "metric": "deaths",
        "figure": "at least 10",
        "claimant": "Civil Defence",
        "source": "wire",
        "as_of": "2023-02-07",
    }
    return body | fields


def count_claims(client: TestClient) -> int:
    """How many claims the ledger holds (retracted ones too: nothing is ever deleted)."""
    return len(client.get("/v1/claims", params={"limit": 1000}).json()["items"])


# Lines a test files for the end of the run, where a person reads them (extraction scores).
REPORT = pytest.StashKey[list[str]]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under xdist, a worker hands its REPORT lines to the controller, which prints them."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["tally_report"] = session.config.stash.get(REPORT, [])


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """(xdist, on the controller) A worker's REPORT lines, kept for the summary."""
    lines = node.workeroutput.get("tally_report", [])
    node.config.stash.setdefault(REPORT, []).extend(lines)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print the lines tests filed under REPORT, in this process or in xdist's workers."""
    lines = config.stash.get(REPORT, [])
    if lines:
        terminalreporter.section("extraction quality")
        for line in lines:
            terminalreporter.write_line(line)
