"""Helpers for tests that drive claims and conflicts through the API."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import claim_body

D1, D2, D3 = "2023-02-06", "2023-02-07", "2023-02-08"
VALUE_KINDS = {"value_mismatch", "downward_revision", "part_exceeds_whole"}
_events = itertools.count()


def add_event(client: TestClient, slug: str) -> None:
    response = client.post("/v1/events", json={"slug": slug, "title": slug.title()})
    assert response.status_code == 201, response.text


def fresh_event(client: TestClient) -> str:
    """The slug of a new event, so that one database can hold many independent cases."""
    slug = f"case-{next(_events)}"
    add_event(client, slug)
    return slug


def add_claim(client: TestClient, **fields: object) -> dict[str, Any]:
    """A recorded claim (a claim_body with `fields`)."""
    response = client.post("/v1/claims", json=claim_body(**fields))
    assert response.status_code == 201, response.text
    return dict(response.json())


def patch_claim(client: TestClient, claim_id: str, **fields: object) -> dict[str, Any]:
    """The claim after a correction applied to its current version."""
    version = client.get(f"/v1/claims/{claim_id}").headers["etag"]
    body = {"reason": "correction", **fields}
    response = client.patch(f"/v1/claims/{claim_id}", json=body, headers={"If-Match": version})
    assert response.status_code == 200, response.text
    return dict(response.json())


def retract(client: TestClient, claim_id: str) -> None:
    response = client.post(f"/v1/claims/{claim_id}/retract", json={"reason": "deleted"})
    assert response.status_code == 200, response.text


def dispute(client: TestClient, claim_id: str, by: str = "Red Crescent") -> str:
    """The id of a new dispute of the claim."""
    body = {"by": by, "reason": "our count differs"}
    response = client.post(f"/v1/claims/{claim_id}/disputes", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def close_dispute(client: TestClient, claim_id: str, dispute_id: str) -> None:
    response = client.post(f"/v1/claims/{claim_id}/disputes/{dispute_id}/close", json={})
    assert response.status_code == 200, response.text


def conflicts(client: TestClient, **params: str) -> list[dict[str, Any]]:
    """Every stored conflict matching the filters, in id order, page after page."""
    found: list[dict[str, Any]] = []
    cursor: dict[str, str] = {}
    while True:
        response = client.get("/v1/conflicts", params={"limit": "1000", **params, **cursor})
        assert response.status_code == 200, response.text
        found += response.json()["items"]
        if response.json()["next_cursor"] is None:
            return found
        cursor = {"cursor": response.json()["next_cursor"]}


def open_conflicts(client: TestClient, event: str = "quake") -> list[dict[str, Any]]:
    return conflicts(client, event=event, status="open")


def kinds_and_claims(found: list[dict[str, Any]]) -> set[tuple[str, tuple[str, ...]]]:
    """(kind, claim ids in stored order) of each conflict."""
    return {(c["kind"], tuple(c["claims"])) for c in found}
