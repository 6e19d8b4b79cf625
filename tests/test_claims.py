"""The claim ledger: recording, correcting, retracting, disputing, time travel (SPEC §3)."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_KEY, claim_body, count_claims


def test_create_claim_normalises_figure_and_keeps_attribution(ledger: TestClient) -> None:
    response = ledger.post(
        "/v1/claims",
        json=claim_body(
            figure="almost 8,000",
            claimant="  Kazakh   authorities ",
            quote="almost 8,000 people were arrested",
            url="https://example.org/a",
            location="Almaty",
        ),
    )
    assert response.status_code == 201, response.text
    claim = response.json()
    assert response.headers["etag"] == '"1"'
    assert claim["figure"] == {
        "text": "almost 8,000", "low": 7200, "high": 8000, "point": 8000, "qualifier": "almost"
    }  # fmt: skip
    assert claim["claimant"] == "Kazakh   authorities"
    assert (claim["status"], claim["disputed"], claim["version"]) == ("active", False, 1)
    assert claim["location"] == "Almaty"
    assert ledger.get(f"/v1/claims/{claim['id']}").json() == claim


def test_as_of_defaults_to_publication_date(ledger: TestClient) -> None:
    body = claim_body(published_at="2023-02-09T08:00:00Z")
    del body["as_of"]
    assert ledger.post("/v1/claims", json=body).json()["as_of"] == "2023-02-09"


@pytest.mark.parametrize(
    ("figure", "low", "high", "qualifier"),
    [
        ({"value": 164, "qualifier": "at_least"}, 164, None, "at_least"),
        ({"low": 100, "high": 300, "point": 200}, 100, 300, "range"),
        ("hundreds", 200, 999, "vague"),
    ],
)
def test_structured_and_text_figures(
    ledger: TestClient, figure: object, low: int, high: int | None, qualifier: str
) -> None:
    claim = ledger.post("/v1/claims", json=claim_body(figure=figure)).json()
    assert (claim["figure"]["low"], claim["figure"]["high"]) == (low, high)
    assert claim["figure"]["qualifier"] == qualifier


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"event": "nope"}, "event"),
        ({"metric": "nope"}, "metric"),
        ({"population": "nope"}, "population"),
        ({"source": "nope"}, "source"),
        ({"cites": "999999"}, "cites"),
        ({"cites": "not-an-id"}, "cites"),
        ({"figure": "a great many"}, "figure"),
        ({"figure": "-5"}, "figure"),
        ({"figure": "2.5"}, "figure"),
        ({"figure": {"value": -1}}, "figure.value.value"),
        ({"figure": {"value": 2.5}}, "figure.value.value"),
        ({"figure": {"value": 10**13}}, "figure.value.value"),
        ({"figure": {"low": 10, "high": 5}}, "figure"),
        ({"figure": None}, "figure"),
        ({"claimant": "   "}, "claimant"),
        ({"as_of": "2023-02-30"}, "as_of"),
        ({"url": "not a url"}, "url"),
        ({"unknown_field": 1}, "unknown_field"),
        ({"quote": 5}, "quote"),
    ],
)
def test_bad_claims_are_422_naming_the_field_and_write_nothing(
    ledger: TestClient, fields: dict[str, object], field: str
) -> None:
    response = ledger.post("/v1/claims", json=claim_body(**fields))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert field in [e["field"] for e in problem["errors"]], problem
    assert count_claims(ledger) == 0


def test_a_reference_refused_once_is_accepted_once_created(ledger: TestClient) -> None:
    body = claim_body(event="flood", metric="rescued", population="pupils", source="radio")
    for kind, create, fields in (
        ("event", "/v1/events", {"slug": "flood", "title": "Flood"}),
        ("metric", "/v1/metrics", {"name": "rescued", "kind": "stock", "unit": "people"}),
        ("population", "/v1/populations", {"name": "pupils", "parent": "children"}),
        ("source", "/v1/sources", {"slug": "radio", "name": "Radio", "kind": "broadcaster"}),
    ):
        refused = ledger.post("/v1/claims", json=body)
        assert [e["field"] for e in refused.json()["errors"]] == [kind], refused.text
        assert ledger.post(create, json=fields).status_code == 201
    created = ledger.post("/v1/claims", json=body)
    assert created.status_code == 201, created.text
    assert {k: created.json()[k] for k in ("event", "metric", "population", "source")} == {
        "event": "flood",
        "metric": "rescued",
        "population": "pupils",
        "source": "radio",
    }


def test_missing_required_fields(ledger: TestClient) -> None:
    response = ledger.post("/v1/claims", json={})
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"event", "metric", "figure", "claimant", "source"}


def test_patch_needs_current_version_and_records_revision(ledger: TestClient) -> None:
    claim = ledger.post("/v1/claims", json=claim_body()).json()
    path = f"/v1/claims/{claim['id']}"
    change = {"figure": "at least 12", "reason": "ministry update"}
    assert ledger.patch(path, json=change).status_code == 428
    assert ledger.patch(path, json=change, headers={"If-Match": '"7"'}).status_code == 412
    response = ledger.patch(path, json=change, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    assert response.json()["figure"]["low"] == 12
    assert ledger.patch(path, json=change, headers={"If-Match": '"1"'}).status_code == 412
    revisions = ledger.get(f"{path}/revisions").json()["items"]
    assert [r["version"] for r in revisions] == [1, 2]
    assert revisions[1]["reason"] == "ministry update"
    assert revisions[1]["actor"] == "admin"
    assert revisions[1]["changes"]["figure"]["from"]["low"] == 10
    assert revisions[0]["claim"]["figure"]["low"] == 10


def test_patch_requires_a_reason_and_rejects_bad_input_without_change(ledger: TestClient) -> None:
    claim = ledger.post("/v1/claims", json=claim_body()).json()
    path, match = f"/v1/claims/{claim['id']}", {"If-Match": '"1"'}
    assert ledger.patch(path, json={"figure": "5"}, headers=match).status_code == 422
    bad = ledger.patch(path, json={"figure": "lots", "reason": "x"}, headers=match)
    assert bad.status_code == 422
    assert ledger.get(path).json() == {**claim, "superseded_by": None}
    assert len(ledger.get(f"{path}/revisions").json()["items"]) == 1


def test_time_travel_over_recorded_time(ledger: TestClient) -> None:
    before = ledger.get("/healthz").headers  # noqa: F841  (a request, so the clock moves on)
    claim = ledger.post("/v1/claims", json=claim_body()).json()
    path = f"/v1/claims/{claim['id']}"
    time.sleep(0.01)
    revs = ledger.get(f"{path}/revisions").json()["items"]
    first_recorded = revs[0]["recorded_at"]
    ledger.patch(path, json={"figure": "20", "reason": "r"}, headers={"If-Match": '"1"'})
    old = ledger.get(path, params={"as_of": first_recorded}).json()
    assert (old["version"], old["figure"]["text"]) == (1, "at least 10")
    assert ledger.get(path).json()["version"] == 2
    early = ledger.get(path, params={"as_of": "2000-01-01T00:00:00Z"})
    assert early.status_code == 404


def test_retraction_is_a_state_not_a_delete(ledger: TestClient) -> None:
    claim = ledger.post("/v1/claims", json=claim_body()).json()
    path = f"/v1/claims/{claim['id']}"
    response = ledger.post(f"{path}/retract", json={"reason": "deleted by the broadcaster"})
    assert response.status_code == 200
    retracted = response.json()
    assert retracted["status"] == "retracted"
    assert retracted["retraction"]["reason"] == "deleted by the broadcaster"
    assert ledger.post(f"{path}/retract", json={"reason": "again"}).status_code == 409
    assert ledger.get(path).json()["status"] == "retracted"
    assert ledger.delete(path).status_code == 405
    statuses = ledger.get("/v1/claims", params={"status": "retracted"}).json()["items"]
    assert [c["id"] for c in statuses] == [claim["id"]]


def test_disputes_open_and_close(ledger: TestClient) -> None:
    claim = ledger.post("/v1/claims", json=claim_body()).json()
    path = f"/v1/claims/{claim['id']}"
    first = ledger.post(f"{path}/disputes", json={"by": "dpa", "reason": "unclear"})
    second = ledger.post(f"{path}/disputes", json={"by": "afp", "reason": "unverified"})
    assert first.status_code == 201
    assert second.status_code == 201
    assert ledger.get(path).json()["disputed"] is True
    close = f"{path}/disputes/{first.json()['id']}/close"
    assert ledger.post(close, json={"note": "confirmed"}).json()["status"] == "closed"
    assert ledger.post(close, json={}).status_code == 409
    assert ledger.get(path).json()["disputed"] is True
    ledger.post(f"{path}/disputes/{second.json()['id']}/close", json={})
    assert ledger.get(path).json()["disputed"] is False
    assert ledger.post(f"{path}/disputes/424242/close", json={}).status_code == 404
    assert len(ledger.get(f"{path}/revisions").json()["items"]) == 5


def test_list_filters_and_cursor_pagination(ledger: TestClient) -> None:
    for n in range(5):
        ledger.post("/v1/claims", json=claim_body(figure=str(n), claimant=f"Claimant {n % 2}"))
    ledger.post("/v1/claims", json=claim_body(metric="injuries"))
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "metric": "deaths"} | ({"cursor": cursor} if cursor else {})
        page = ledger.get("/v1/claims", params=params).json()
        seen += [c["figure"]["text"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["0", "1", "2", "3", "4"]
    odd = ledger.get("/v1/claims", params={"claimant": "claimant  1"}).json()["items"]
    assert [c["figure"]["text"] for c in odd] == ["1", "3"]
    assert ledger.get("/v1/claims", params={"event": "nope"}).status_code == 422
    assert ledger.get("/v1/claims", params={"cursor": "!!"}).status_code == 422
    assert ledger.get("/v1/claims", params={"limit": 1001}).status_code == 422


def test_unknown_claim_is_404_problem(ledger: TestClient) -> None:
    for path in ("/v1/claims/123456", "/v1/claims/abc", "/v1/claims/1/revisions"):
        response = ledger.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_concurrent_patches_with_one_version_let_exactly_one_win(
    ledger: TestClient, live_url: str
) -> None:
    claim = ledger.post("/v1/claims", json=claim_body()).json()
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def patch(n: int) -> None:
        with httpx.Client(base_url=live_url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as c:
            barrier.wait()
            body = {"figure": str(100 + n), "reason": f"writer {n}"}
            r = c.patch(
                f"/v1/claims/{claim['id']}", json=body, headers={"If-Match": '"1"'}, timeout=30
            )
            statuses.append(r.status_code)

    threads = [threading.Thread(target=patch, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [412] * 19
    revisions = ledger.get(f"/v1/claims/{claim['id']}/revisions").json()["items"]
    assert [r["version"] for r in revisions] == [1, 2]


def test_idempotent_retry_returns_first_response(ledger: TestClient) -> None:
    headers = {"Idempotency-Key": "abc-123"}
    first = ledger.post("/v1/claims", json=claim_body(), headers=headers)
    again = ledger.post("/v1/claims", json=claim_body(), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    assert count_claims(ledger) == 1
    other = ledger.post("/v1/claims", json=claim_body(figure="3"), headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert count_claims(ledger) == 1


def test_idempotency_keys_are_scoped_to_the_api_key(ledger: TestClient) -> None:
    from tests.conftest import new_key

    editor = new_key(ledger, "editor")
    headers = {"Idempotency-Key": "same"}
    ledger.post("/v1/claims", json=claim_body(), headers=headers)
    ledger.post("/v1/claims", json=claim_body(), headers=headers | editor)
    assert count_claims(ledger) == 2


def test_concurrent_idempotent_duplicates_create_one_claim(
    ledger: TestClient, live_url: str
) -> None:
    barrier = threading.Barrier(10)
    results: list[tuple[int, str]] = []

    def post() -> None:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Idempotency-Key": "k-1"}
        with httpx.Client(base_url=live_url, headers=headers) as c:
            barrier.wait()
            r = c.post("/v1/claims", json=claim_body(), timeout=30)
            results.append((r.status_code, r.json().get("id", "")))

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {status for status, _ in results} == {201}
    assert len({claim_id for _, claim_id in results}) == 1
    assert count_claims(ledger) == 1
