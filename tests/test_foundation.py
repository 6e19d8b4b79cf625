"""Operations, resources, errors and the database setup."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, text, update

from app import models
from app.config import Settings
from app.main import create_app
from app.models import utcnow
from app.services.keys import hash_key
from tests.conftest import ADMIN_KEY, new_key


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_builtin_metrics_and_populations(client: TestClient) -> None:
    metrics = {m["name"]: m["kind"] for m in client.get("/v1/metrics").json()["items"]}
    assert metrics["deaths"] == "cumulative"
    assert metrics["troops_deployed"] == "stock"
    assert len(metrics) == 9
    tree = {p["name"]: p["parent"] for p in client.get("/v1/populations").json()["items"]}
    assert tree == {
        "all": None,
        "civilians": "all",
        "security_forces": "all",
        "children": "civilians",
    }


def test_migrations_and_models_agree(database_url: str) -> None:
    """Autogenerate finds nothing to do on a database migrated by alembic."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from app.config import Settings
    from app.db import Base, make_engine

    engine = make_engine(Settings(database_url=database_url))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_readyz_reports_unmigrated_database(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "migrate" in response.json()["detail"]


def test_readyz_says_not_ready_while_sqlite_lacks_disk_space(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """Writes would fail on a full disk (tests/test_database_faults.py fills a real one)."""
    shutil.copy(sqlite_template, tmp_path / "tally.db")
    url = f"sqlite:///{tmp_path / 'tally.db'}"
    with TestClient(create_app(Settings(database_url=url, sqlite_min_free_bytes=2**62))) as c:
        response = c.get("/readyz")
    assert response.status_code == 503
    assert "cannot take writes" in response.json()["detail"]


def test_resources_create_read_update_list(client: TestClient) -> None:
    event = {
        "slug": "floods-2024",
        "title": "Floods",
        "location": "Valencia",
        "started_on": "2024-10-29",
    }
    assert client.post("/v1/events", json=event).status_code == 201
    assert client.post("/v1/events", json=event).status_code == 409
    changed = client.patch("/v1/events/floods-2024", json={"title": "Valencia floods"}).json()
    assert (changed["title"], changed["location"]) == ("Valencia floods", "Valencia")
    source = {"slug": "efe", "name": "EFE", "kind": "news_agency", "url": "https://efe.com"}
    assert client.post("/v1/sources", json=source).json()["url"] == "https://efe.com/"
    assert client.get("/v1/sources/efe").json()["kind"] == "news_agency"
    metric = {"name": "buildings_destroyed", "kind": "cumulative", "unit": "buildings"}
    assert client.post("/v1/metrics", json=metric).status_code == 201
    assert client.get("/v1/metrics/buildings_destroyed").json()["unit"] == "buildings"
    population = {"name": "journalists", "parent": "civilians"}
    assert client.post("/v1/populations", json=population).json()["parent"] == "civilians"
    orphan = client.post("/v1/populations", json={"name": "x", "parent": "nope"})
    assert orphan.status_code == 422
    assert orphan.json()["errors"][0]["field"] == "parent"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/events", {"slug": "Bad Slug", "title": "t"}, "slug"),
        ("/v1/events", {"slug": "ok", "title": ""}, "title"),
        ("/v1/events", {"slug": "ok", "title": "t", "started_on": "2024-13-01"}, "started_on"),
        ("/v1/sources", {"slug": "ok", "name": "n", "kind": "blog"}, "kind"),
        ("/v1/sources", {"slug": "ok", "name": "n", "url": "ftp://x"}, "url"),
        ("/v1/metrics", {"name": "m", "kind": "flow"}, "kind"),
        ("/v1/keys", {"name": "n", "role": "root"}, "role"),
    ],
)
def test_bad_resources_are_422_naming_the_field(
    client: TestClient, path: str, body: dict[str, object], field: str
) -> None:
    before = client.get(path).json()["items"]
    response = client.post(path, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert client.get(path).json()["items"] == before


def test_every_error_is_problem_json(client: TestClient) -> None:
    cases = [
        client.get("/nowhere"),
        client.put("/v1/events"),
        client.get("/v1/events/unknown"),
        client.post(
            "/v1/events", content=b"{not json", headers={"content-type": "application/json"}
        ),
        client.post(
            "/v1/events", content=b"x" * 2_000_000, headers={"content-type": "application/json"}
        ),
        client.get("/v1/events", headers={"Authorization": "Bearer wrong"}),
    ]
    assert [r.status_code for r in cases] == [404, 405, 404, 400, 413, 401]
    for response in cases:
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert {"type", "title", "status", "detail"} <= problem.keys()
        assert problem["status"] == response.status_code


def test_oversized_chunked_body_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 50_000

    response = client.post(
        "/v1/events", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert client.get("/v1/events").json()["items"] == []


def test_keys_are_shown_once_stored_hashed_and_revocable(
    client: TestClient, database_url: str
) -> None:
    created = client.post("/v1/keys", json={"name": "desk", "role": "reader"}).json()
    key = created["key"]
    listed = client.get("/v1/keys").json()["items"]
    assert all("key" not in k for k in listed)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = [row[0] for row in conn.execute(text("SELECT key_hash FROM api_key"))]
    engine.dispose()
    assert key not in stored
    assert len(stored) == 1
    reader = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/events", headers=reader).status_code == 200
    assert client.delete(f"/v1/keys/{created['id']}").json()["revoked_at"] is not None
    assert client.get("/v1/events", headers=reader).status_code == 401


def test_a_key_revoked_by_another_process_fails_within_the_cache_time(
    client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("app.services.keys.time.monotonic", lambda: clock[0])
    reader = new_key(client, "reader")
    assert client.get("/v1/events", headers=reader).status_code == 200
    engine = create_engine(database_url)  # another server process on the same database
    with engine.begin() as conn:
        conn.execute(update(models.ApiKey).values(revoked_at=utcnow()))
    engine.dispose()
    assert client.get("/v1/events", headers=reader).status_code == 200  # still remembered
    clock[0] += client.app.state.settings.key_cache_seconds + 0.01
    assert client.get("/v1/events", headers=reader).status_code == 401


def test_an_unknown_key_is_looked_up_again_at_every_request(
    client: TestClient, database_url: str
) -> None:
    key = "tly_" + "k" * 43
    late = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/events", headers=late).status_code == 401
    engine = create_engine(database_url)  # created by another process (or just now)
    with engine.begin() as conn:
        row = {"name": "late", "role": "reader", "key_hash": hash_key(key), "prefix": key[:10]}
        conn.execute(insert(models.ApiKey).values(row))
    engine.dispose()
    assert client.get("/v1/events", headers=late).status_code == 200


def test_metrics_and_request_ids(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc"})
    assert response.headers["x-request-id"] == "abc"
    assert client.get("/healthz").headers["x-request-id"]
    metrics = client.get("/metrics", headers={"Authorization": ""}).text
    assert 'tally_http_requests_total{method="GET",route="/healthz",status="200"}' in metrics


def test_docs_and_openapi_need_no_key(client: TestClient) -> None:
    anonymous = {"Authorization": ""}
    assert client.get("/openapi.json", headers=anonymous).status_code == 200
    assert client.get("/docs", headers=anonymous).status_code == 200
    assert client.get("/healthz", headers=anonymous).status_code == 200


def test_nul_characters_are_refused_not_500(client: TestClient) -> None:
    response = client.post("/v1/events", json={"slug": "nul", "title": "a\x00b"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "title"
    assert client.get("/v1/claims", params={"claimant": "a\x00"}).status_code == 400
    assert client.get("/v1/events").json()["items"] == []


def test_request_logs_never_carry_keys(client: TestClient) -> None:
    from structlog.testing import capture_logs

    from app.logs import configure_logging

    created = client.post("/v1/keys", json={"name": "desk", "role": "reader"}).json()
    configure_logging("info")
    try:
        with capture_logs() as logs:
            client.get("/v1/events", headers={"Authorization": f"Bearer {created['key']}"})
            client.get("/nowhere")
    finally:
        configure_logging("warning")
    assert {"event": "request", "status": 404, "route": "unmatched"}.items() <= logs[-1].items()
    assert created["key"] not in repr(logs)
    assert ADMIN_KEY not in repr(logs)
