# ruff: noqa: RUF001  (confusable letters and digits are the point of these tests)
"""Hostile input over every route: no 5xx, a clear 4xx, and a refused request changes nothing.

Also the defects a red team found (issue 13): ids in other scripts, forged cursors, moments
that overflow, names that split a group by their Unicode form, text that injects Markdown,
spreadsheet formulas or HTML.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_KEY, claim_body
from tests.ledger import add_claim, open_conflicts

NASTY = [
    "İ", "ı", "ſ", "\u212a", "²", "١", "٣٤", "𝟘", "\u200b", "\ufeff", "\u202e", "\x00", "%00",
    "../../etc/passwd", "<script>alert(1)</script>", "=cmd|' /C calc'!A0", "\r\n## Forged",
    "9" * 30, "-1", "0", "1e309", "NaN", "Infinity", "x" * 5000, "🙂" * 50,
    "'; DROP TABLE claim;--",
]  # fmt: skip
MOMENTS = ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+14:00", "123", "1e10", "tomorrow"]
KEPT = ["2999-01-01T00:00:00Z", "1700-01-01"]  # fine to ask about, not to record


def state(client: TestClient) -> dict[str, Any]:
    """What a refused request must not change: every claim, conflict, event and source."""

    def items(path: str) -> list[Any]:
        return client.get(path, params={"limit": 1000}).json()["items"]

    return {
        path: items(path) for path in ("/v1/claims", "/v1/conflicts", "/v1/events", "/v1/sources")
    }


def get_routes(client: TestClient) -> list[str]:
    """The path templates of every GET operation in the OpenAPI document."""
    paths = client.get("/openapi.json").json()["paths"]
    return [path for path, operations in paths.items() if "get" in operations]


def test_hostile_path_and_query_values_never_give_a_server_error(ledger: TestClient) -> None:
    add_claim(ledger)
    before = state(ledger)
    for template in get_routes(ledger):
        for value in NASTY:
            path = re.sub(r"\{[^}]+\}", quote(value, safe="").replace("\\", "\\\\"), template)
            for params in ({}, {"event": value, "cursor": value, "as_of": value, "since": value}):
                answer = ledger.get(path, params=params)
                assert answer.status_code < 500, (template, value, answer.text)
    assert state(ledger) == before


def test_hostile_bodies_are_refused_without_a_server_error_or_a_change(ledger: TestClient) -> None:
    claim = add_claim(ledger)
    before = state(ledger)
    fields = ["event", "metric", "population", "figure", "claimant", "source", "cites", "as_of",
              "published_at", "url", "location"]  # fmt: skip
    for field in fields:
        for value in [*NASTY, *MOMENTS]:
            body = claim_body(**{field: value})
            answer = ledger.post("/v1/claims", json=body)
            assert answer.status_code < 500, (field, value, answer.text)
            if answer.status_code == 201:  # a text that is a fine claimant or location
                continue
            assert answer.headers["content-type"] == "application/problem+json"
    for value in NASTY:
        etag = {"If-Match": ledger.get(f"/v1/claims/{claim['id']}").headers["etag"]}
        for body in ({"reason": "x", "figure": value}, {"reason": "x", "cites": value}):
            answer = ledger.patch(f"/v1/claims/{claim['id']}", json=body, headers=etag)
            assert answer.status_code < 500, (body, answer.text)
    created = [c for c in state(ledger)["/v1/claims"] if c["id"] != claim["id"]]
    assert {c["id"] for c in created} >= {c["id"] for c in before["/v1/claims"]} - {claim["id"]}


@pytest.mark.parametrize("claim_path", ["/v1/claims/{}", "/v1/claims/{}/revisions",
                                        "/v1/claims/{}/disputes", "/v1/claims/{}/claimreview",
                                        "/v1/conflicts/{}"])  # fmt: skip
def test_ids_are_ascii_digits_within_range(ledger: TestClient, claim_path: str) -> None:
    claim = add_claim(ledger)
    assert claim["id"] == "1"
    for other in ("¹", "١", "１", "1\u200b", "9" * 20, "9" * 30, "0", "-1", " 1"):
        answer = ledger.get(claim_path.format(other))
        assert answer.status_code in (404, 422), (other, answer.status_code, answer.text)


def test_other_script_digits_never_alias_an_id(ledger: TestClient) -> None:
    key = ledger.post("/v1/keys", json={"name": "desk", "role": "reader"}).json()
    assert key["id"] == "1"
    for alias in ("١", "¹", "１"):
        assert ledger.delete(f"/v1/keys/{alias}").status_code == 404
    assert ledger.delete(f"/v1/keys/{'9' * 30}").status_code == 404
    reader = {"Authorization": f"Bearer {key['key']}"}
    assert ledger.get("/v1/claims", headers=reader).status_code == 200  # still valid


@pytest.mark.parametrize("cursor", ["MTIzNDU2Nzg5MDEyMzQ1Njc4OTA", "0" * 100, "LTE", "wqk"])
def test_forged_cursors_are_422_naming_the_cursor(ledger: TestClient, cursor: str) -> None:
    for path in ("/v1/claims", "/v1/conflicts", "/v1/events", "/v1/keys"):
        answer = ledger.get(path, params={"cursor": cursor})
        assert answer.status_code == 422, (path, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == ["cursor"]


@pytest.mark.parametrize("moment", MOMENTS)
def test_moments_out_of_range_or_not_iso_are_422(ledger: TestClient, moment: str) -> None:
    claim = add_claim(ledger)
    for path, name in (
        (f"/v1/claims/{claim['id']}", "as_of"),
        ("/v1/events/quake/report", "as_of"),
        ("/v1/reports/discrepancies", "since"),
        ("/v1/conflicts", "since"),
    ):
        answer = ledger.get(path, params={name: moment})
        assert answer.status_code == 422, (path, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [name]
    answer = ledger.post("/v1/claims", json=claim_body(published_at=moment, as_of=None))
    assert answer.status_code == 422
    assert len(state(ledger)["/v1/claims"]) == 1


@pytest.mark.parametrize("moment", KEPT)
def test_moments_beyond_the_kept_years_are_asked_about_but_never_recorded(
    ledger: TestClient, moment: str
) -> None:
    claim = add_claim(ledger)
    assert ledger.get("/v1/conflicts", params={"since": moment}).status_code == 200
    answer = ledger.post("/v1/claims", json=claim_body(published_at=moment, as_of=None))
    assert [e["field"] for e in answer.json()["errors"]] == ["published_at"]
    body = {"reason": "gone", "retracted_at": moment}
    assert ledger.post(f"/v1/claims/{claim['id']}/retract", json=body).status_code == 422
    assert state(ledger)["/v1/claims"] == [ledger.get(f"/v1/claims/{claim['id']}").json()]


@pytest.mark.parametrize(
    ("written", "rewritten"),
    [
        ("Zürich", "Zu\u0308rich"),  # composed, decomposed
        ("Almaty", "Al\u200bmaty"),  # zero-width space
        ("Almaty", "Al\u00admaty"),  # soft hyphen
        ("Almaty", "\ufeffAlmaty"),  # byte order mark
        ("Almaty", "Ａｌｍａｔｙ"),  # fullwidth letters
        ("İstanbul", "ISTANBUL"),  # Turkish dotted capital I
    ],
)
def test_one_name_in_any_unicode_form_is_one_group(
    ledger: TestClient, written: str, rewritten: str
) -> None:
    first = add_claim(ledger, location=written, claimant=f"Police of {written}", figure="10")
    second = add_claim(ledger, location=rewritten, claimant="Hospital", figure="50")
    assert second["location"] == rewritten  # the text is kept as given
    [conflict] = open_conflicts(ledger, "quake")
    assert set(conflict["claims"]) == {first["id"], second["id"]}
    # The claimant too: a later figure from the same claimant, written otherwise, supersedes.
    later = add_claim(
        ledger, location=written, claimant=f"Police of {rewritten}", figure="50", as_of="2023-02-08"
    )
    assert ledger.get(f"/v1/claims/{first['id']}").json()["superseded_by"] == later["id"]


NASTY_TEXT = "Almaty\n\n## Forged\r| cell | <script>alert(1)</script> [x](javascript:alert(1))"


def test_the_markdown_report_keeps_nasty_text_inert(ledger: TestClient) -> None:
    add_claim(ledger, location=NASTY_TEXT, claimant=NASTY_TEXT, figure="10")
    add_claim(ledger, location=NASTY_TEXT, claimant="Other", figure="50")
    text = ledger.get("/v1/events/quake/report", params={"format": "markdown"}).text
    lines = text.split("\n")
    assert not any(line.startswith("## Forged") for line in lines)
    assert "<script>" not in text
    assert not re.search(r"(?<!\\)\]\(", text)  # no link: every ] is escaped
    assert "\r" not in text
    table_rows = [line for line in lines if line.startswith("| ")]
    assert all(line.count(" | ") == 4 for line in table_rows)  # five cells each: no forged cell


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(ledger: TestClient) -> None:
    formulas = ["=1+1", " =1+1", "\u00a0=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"]
    for formula in formulas:
        add_claim(ledger, claimant=f"Office {formula}", quote=formula, location=formula)
    exported = ledger.get("/v1/claims/export", params={"format": "csv"}).text
    rows = list(csv.DictReader(io.StringIO(exported, newline="")))
    assert sorted(row["quote"] for row in rows) == sorted("'" + f for f in formulas)
    report = ledger.get("/v1/events/quake/report", params={"format": "csv"}).text
    locations = {row["location"] for row in csv.DictReader(io.StringIO(report, newline=""))}
    assert all(location.startswith("'") for location in locations)


def test_claimreview_json_ld_cannot_close_a_script_element(ledger: TestClient) -> None:
    claim = add_claim(ledger, quote="</script><script>alert(1)</script> & more")
    answer = ledger.get(f"/v1/claims/{claim['id']}/claimreview")
    assert "</script>" not in answer.text
    assert "<" not in answer.text
    assert "&" not in answer.text
    assert json.loads(answer.text)["claimReviewed"] == "</script><script>alert(1)</script> & more"


def test_claimreview_names_the_public_address_not_the_host_header(settings: Settings) -> None:
    public = settings.model_copy(update={"public_url": "https://tally.newsroom.example/"})
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", "Host": "evil.example"}
    with TestClient(create_app(public), headers=headers) as client:
        client.post("/v1/events", json={"slug": "quake", "title": "Earthquake"})
        client.post("/v1/sources", json={"slug": "wire", "name": "Wire", "kind": "news_agency"})
        claim = add_claim(client)
        doc = client.get(f"/v1/claims/{claim['id']}/claimreview").json()
    assert doc["url"] == f"https://tally.newsroom.example/v1/claims/{claim['id']}"
