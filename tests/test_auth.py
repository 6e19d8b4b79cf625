"""Every route admits exactly the roles SPEC §8 gives it, walking the OpenAPI document."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.conftest import new_key

PUBLIC = {"/healthz", "/readyz", "/metrics"}
ROLES = ["reader", "editor", "admin"]


def required_role(path: str, method: str) -> str | None:
    """What SPEC §8 says the route needs: readers read; editors write claims, disputes,
    resolutions (and the events and sources they refer to); admins manage keys, metrics,
    populations and webhooks. Extraction stores nothing, so readers may use it. Share links
    (SPEC §12) are an editor's to make, list and revoke."""
    if path in PUBLIC:
        return None
    if path.startswith(("/v1/keys", "/v1/webhooks")):
        return "admin"
    if path.startswith("/v1/share-links"):
        return "editor"
    if method != "get" and path.startswith(("/v1/metrics", "/v1/populations")):
        return "admin"
    if method == "get" or path == "/v1/extract":
        return "reader"
    return "editor"


def routes(client: TestClient) -> list[tuple[str, str]]:
    document = client.get("/openapi.json").json()
    return [(path, method) for path, ops in document["paths"].items() for method in ops]


def call(client: TestClient, path: str, method: str, headers: dict[str, str]) -> int:
    concrete = re.sub(r"\{[^}]+\}", "999999", path)  # no such row: no side effects
    body = {} if method in {"post", "put", "patch"} else None
    return client.request(method, concrete, json=body, headers=headers).status_code


def test_every_route_admits_exactly_its_roles(client: TestClient) -> None:
    keys = {role: new_key(client, role) for role in ROLES}
    keys["none"] = {"Authorization": ""}
    checked = 0
    for path, method in routes(client):
        needed = required_role(path, method)
        for who, headers in keys.items():
            status = call(client, path, method, headers)
            if needed is None:
                assert status not in (401, 403), (path, method, who, status)
            elif who == "none":
                assert status == 401, (path, method, who, status)
            elif ROLES.index(who) < ROLES.index(needed):
                assert status == 403, (path, method, who, status)
            else:
                assert status not in (401, 403), (path, method, who, status)
        checked += 1
    assert checked >= 25


def test_the_key_is_checked_before_the_body_exactly_where_routes_need_one(
    client: TestClient,
) -> None:
    """RequestContext refuses a request to /v1/ without a valid key before reading its body
    (a keyless slow client must hold nothing): that must be exactly the routes needing one."""
    for path, method in routes(client):
        assert (required_role(path, method) is not None) == path.startswith("/v1/"), path
    refused = client.post("/v1/nowhere", content=b"x" * 10, headers={"Authorization": ""})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"


def test_admin_key_from_settings_and_unknown_keys(client: TestClient) -> None:
    assert client.get("/v1/keys").status_code == 200
    assert client.get("/v1/keys", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/v1/keys", headers={"Authorization": "Basic abc"}).status_code == 401
