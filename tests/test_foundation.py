"""Operations, resources, errors and the database setup."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_builtin_metrics_and_populations(client: TestClient) -> None:
    metrics = {m["name"]: m["kind"] for m in client.get("/v1/metrics").json()["items"]}
    assert metrics["deaths"] == "cumulative"
    assert metrics["troops_deployed"] == "stock"
    assert len(metrics) == 9
    tree = {p["name"]: p["parent"] for p in client.get("/v1/populations").json()["items"]}
    assert tree == {"all": None, "civilians": "all", "security_forces": "all", "children": "civilians"}
