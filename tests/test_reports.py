"""Event reports in JSON, CSV and Markdown, time travel, and the discrepancy report (SPEC §6)."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

from app.api.formats import REPORT_COLUMNS
from app.services.kept import Kept
from app.services.reports import CachedReport, claims_held
from tests.ledger import (
    D1,
    D2,
    D3,
    add_claim,
    add_event,
    close_dispute,
    dispute,
    open_conflicts,
    patch_claim,
    retract,
)


def report(client: TestClient, event: str = "quake", **params: str) -> dict[str, Any]:
    response = client.get(f"/v1/events/{event}/report", params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def group_of(found: dict[str, Any], metric: str, population: str, location: str | None) -> Any:
    [group] = [
        g
        for g in found["groups"]
        if (g["metric"], g["population"], g["location"]) == (metric, population, location)
    ]
    return group


def test_groups_latest_range_consensus_and_conflicts(ledger: TestClient) -> None:
    first = add_claim(ledger, figure="at least 10", claimant="Ministry of Health", as_of=D1)["id"]
    latest = add_claim(ledger, figure="at least 12", claimant="ministry of health", as_of=D2)["id"]
    red_cross = add_claim(ledger, figure="between 8 and 20", claimant="Red Cross", as_of=D2)["id"]
    police = add_claim(ledger, figure="50", claimant="Police", as_of=D2)["id"]
    retract(ledger, police)
    low = add_claim(ledger, location="Almaty", figure="5", claimant="Akimat")["id"]
    high = add_claim(ledger, location=" almaty", figure="100", claimant="Ministry")["id"]
    add_claim(ledger, metric="missing", figure="about 30", claimant="Red Cross")
    found = report(ledger)
    assert (found["event"], found["as_of"]) == ("quake", None)
    keys = [(g["metric"], g["population"], g["location"]) for g in found["groups"]]
    assert keys == [("deaths", "all", None), ("deaths", "all", "Almaty"), ("missing", "all", None)]
    whole = group_of(found, "deaths", "all", None)
    assert (whole["kind"], whole["unit"]) == ("cumulative", "people")
    assert [c["id"] for c in whole["claims"]] == [first, latest, red_cross, police]
    flags = {c["id"]: (c["status"], c["superseded_by"]) for c in whole["claims"]}
    assert flags[first] == ("active", latest)
    assert flags[police] == ("retracted", None)
    assert [(e["claimant"], e["claim"]) for e in whole["latest_by_claimant"]] == [
        ("ministry of health", latest),
        ("Red Cross", red_cross),
    ]
    assert whole["latest_by_claimant"][0]["figure"]["low"] == 12
    assert whole["range"] == {"low": 8, "high": None}
    assert whole["consensus"] == {"low": 12, "high": 20}
    assert [(c["kind"], c["claims"]) for c in whole["conflicts"]] == [
        ("retracted_figure", [police])
    ]
    almaty = group_of(found, "deaths", "all", "Almaty")
    assert almaty["range"] == {"low": 5, "high": 100}
    assert almaty["consensus"] is None
    assert [(c["kind"], c["claims"]) for c in almaty["conflicts"]] == [
        ("value_mismatch", [low, high])
    ]
    missing = group_of(found, "missing", "all", None)
    assert (missing["kind"], missing["range"], missing["consensus"]) == (
        "stock",
        {"low": 27, "high": 33},
        {"low": 27, "high": 33},
    )
    assert missing["conflicts"] == []
    assert found["open_conflicts"] == {"retracted_figure": 1, "value_mismatch": 1}


def test_a_part_exceeding_its_whole_shows_in_both_groups(ledger: TestClient) -> None:
    whole = add_claim(ledger, figure="30", claimant="Police")["id"]
    part = add_claim(ledger, population="children", figure="50", claimant="UNICEF")["id"]
    found = report(ledger)
    for population in ("all", "children"):
        conflicts = group_of(found, "deaths", population, None)["conflicts"]
        assert [(c["kind"], c["claims"]) for c in conflicts] == [
            ("part_exceeds_whole", [part, whole])
        ]
    assert found["open_conflicts"] == {"part_exceeds_whole": 1}


def test_an_event_without_claims_has_no_groups(ledger: TestClient) -> None:
    found = report(ledger)
    assert (found["groups"], found["open_conflicts"]) == ([], {})


def test_independent_origins_follow_citations_and_count_claimants_once(ledger: TestClient) -> None:
    old = add_claim(ledger, figure="at least 10", claimant="Ministry of Health", as_of=D1)["id"]
    new = add_claim(ledger, figure="at least 12", claimant="Ministry of Health", as_of=D2)["id"]
    tv = add_claim(ledger, figure="at least 12", claimant="Khabar 24", cites=new, as_of=D2)["id"]
    add_claim(ledger, figure="at least 12", claimant="Wire", cites=tv, as_of=D2)
    add_claim(ledger, figure="at least 10", claimant="Agency", cites=old, as_of=D2)
    assert group_of(report(ledger), "deaths", "all", None)["independent_origins"] == 1
    add_claim(ledger, figure="15", claimant="Red Cross", as_of=D2)
    add_claim(ledger, figure="at least 15", claimant="Paper", cites=new, as_of=D3)
    assert group_of(report(ledger), "deaths", "all", None)["independent_origins"] == 2
    add_claim(ledger, location="Almaty", figure="12", claimant="Akimat", cites=new)
    add_claim(ledger, location="Almaty", figure="12", claimant="Hospital", cites=old)
    assert group_of(report(ledger), "deaths", "all", "Almaty")["independent_origins"] == 1


def comparable(found: dict[str, Any]) -> tuple[Any, ...]:
    return found["groups"], found["open_conflicts"]


def test_as_of_reproduces_the_report_as_it_stood(ledger: TestClient) -> None:
    a = add_claim(ledger, figure="at least 164", claimant="Ministry of Health", as_of=D1)["id"]
    b = add_claim(ledger, figure="100", claimant="Akimat", as_of=D2)["id"]
    c = add_claim(ledger, location="Almaty", figure="40", claimant="Police")["id"]
    d = add_claim(ledger, location="Almaty", figure="4", claimant="Hospital")["id"]
    objection = dispute(ledger, c)
    earlier = report(ledger)
    assert earlier["open_conflicts"] == {"disputed": 1, "value_mismatch": 2}
    [almaty_pair] = [x for x in open_conflicts(ledger) if x["claims"] == [c, d]]
    ledger.post(f"/v1/conflicts/{almaty_pair['id']}/resolve", json={"note": "known"})
    patch_claim(ledger, b, figure="90")  # the conflict holds with another gap and detail
    patch_claim(ledger, a, claimant="Ministry of Health of Kazakhstan")
    patch_claim(ledger, c, figure="41")  # re-describes the open dispute of c
    close_dispute(ledger, c, objection)
    retract(ledger, d)
    add_claim(ledger, figure="at least 200", claimant="Red Cross", as_of=D3)
    add_claim(ledger, metric="injuries", figure="hundreds")
    now = report(ledger)
    assert comparable(now) != comparable(earlier)
    then = report(ledger, as_of=earlier["generated_at"])
    assert then["as_of"] is not None
    assert comparable(then) == comparable(earlier)
    before_anything = report(ledger, as_of="2000-01-01T00:00:00Z")
    assert comparable(before_anything) == ([], {})


def test_as_of_without_a_zone_is_utc(ledger: TestClient) -> None:
    add_claim(ledger)
    stamp = report(ledger)["generated_at"]
    naive = stamp.replace("Z", "").replace("+00:00", "")
    assert comparable(report(ledger, as_of=naive)) == comparable(report(ledger, as_of=stamp))


FORMULAS = ['=HYPERLINK("http://x","y")', "+1 Agency", "-Dash Agency", "@SUM(A1)"]


def test_csv_has_one_row_per_claim_and_no_formulas(ledger: TestClient) -> None:
    ids = [add_claim(ledger, claimant=name, figure="10")["id"] for name in FORMULAS]
    ids.append(add_claim(ledger, claimant='Ministry, "of" Health', figure="5")["id"])
    ids.append(add_claim(ledger, location="=cmd|' /C calc'!A0", figure="about 300")["id"])
    response = ledger.get("/v1/events/quake/report", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert list(rows[0]) == REPORT_COLUMNS
    assert sorted(row["claim"] for row in rows) == sorted(ids)
    by_claim = {row["claim"]: row for row in rows}
    for claim_id, name in zip(ids, FORMULAS, strict=False):
        assert by_claim[claim_id]["claimant"] == "'" + name
    assert by_claim[ids[4]]["claimant"] == 'Ministry, "of" Health'
    assert by_claim[ids[5]]["location"] == "'=cmd|' /C calc'!A0"
    assert by_claim[ids[5]]["low"] == "270"
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())
    assert {row["group_conflicts"] for row in rows if row["location"] == ""} == {"4"}  # 10 vs 5


def test_markdown_reads_as_headings_and_tables(ledger: TestClient) -> None:
    add_claim(ledger, figure="at least 164", claimant="Ministry of Health", as_of=D1)
    add_claim(ledger, figure="100", claimant="Akimat | city hall", as_of=D2)
    add_claim(ledger, location="Almaty", metric="missing", figure="about 30")
    response = ledger.get("/v1/events/quake/report", params={"format": "markdown"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    lines = response.text.splitlines()
    assert lines[0] == "# Earthquake"  # the event's title
    assert [line for line in lines if line.startswith("## ")] == [
        "## Deaths",
        "## Missing in Almaty",
    ]
    assert lines.count("| Claimant | Figure | As of | Source | Status |") == 2
    assert "| Akimat \\| city hall | 100 | 7 February 2023 | wire | active |" in lines
    assert any(line.startswith("- **Figures disagree** (open): ") for line in lines)
    assert "Open conflicts: figures disagree (1)." in lines
    assert "- Range of the latest figures: between 27 and 33" in lines


def test_report_errors(ledger: TestClient) -> None:
    for params in ({}, {"format": "csv"}, {"format": "markdown"}):
        response = ledger.get("/v1/events/nope/report", params=params)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    for params, field in (({"as_of": "yesterday"}, "as_of"), ({"format": "xml"}, "format")):
        response = ledger.get("/v1/events/quake/report", params=params)
        assert response.status_code == 422, params
        assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]]


# --- discrepancies -------------------------------------------------------------------------


def discrepancies(client: TestClient, **params: str) -> list[dict[str, Any]]:
    response = client.get("/v1/reports/discrepancies", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def where(entries: list[dict[str, Any]]) -> list[tuple[str, str, str | None]]:
    return [(e["event"], e["metric"], e["location"]) for e in entries]


def test_discrepancies_across_events_largest_relative_gap_first(ledger: TestClient) -> None:
    add_event(ledger, "flood")
    add_claim(ledger, figure="100", claimant="Ministry", as_of=D1)
    add_claim(ledger, figure="50", claimant="Governor", as_of=D2)  # 0.5
    dispute(ledger, add_claim(ledger, metric="injuries", figure="10")["id"])  # no gap
    add_claim(ledger, event="flood", figure="100", claimant="Ministry")
    add_claim(ledger, event="flood", figure="10", claimant="Governor")  # 0.9
    add_claim(ledger, event="flood", metric="missing", figure="200", location="Valencia")
    calm = add_claim(ledger, event="flood", metric="missing", figure="150", location="valencia")
    entries = discrepancies(ledger)
    assert where(entries) == [
        ("flood", "deaths", None),
        ("quake", "deaths", None),
        ("flood", "missing", "Valencia"),
        ("quake", "injuries", None),
    ]
    assert [e["largest_gap"] for e in entries] == [
        {"absolute": 90, "relative": 0.9},
        {"absolute": 50, "relative": 0.5},
        {"absolute": 50, "relative": 0.25},
        None,
    ]
    assert [len(e["conflicts"]) for e in entries] == [1, 1, 1, 1]
    assert where(discrepancies(ledger, event="quake")) == [
        ("quake", "deaths", None),
        ("quake", "injuries", None),
    ]
    assert where(discrepancies(ledger, metric="missing")) == [("flood", "missing", "Valencia")]
    patch_claim(ledger, calm["id"], figure="about 200")
    assert where(discrepancies(ledger, metric="missing")) == []


def test_discrepancies_since(ledger: TestClient) -> None:
    add_claim(ledger, figure="100", claimant="Ministry")
    add_claim(ledger, figure="50", claimant="Governor")
    [first] = open_conflicts(ledger)
    add_claim(ledger, metric="injuries", figure="100", claimant="Ministry")
    add_claim(ledger, metric="injuries", figure="50", claimant="Governor")
    later = max(c["opened_at"] for c in open_conflicts(ledger))
    assert len(discrepancies(ledger, since=first["opened_at"])) == 2
    assert where(discrepancies(ledger, since=later)) == [("quake", "injuries", None)]
    assert discrepancies(ledger, since="2999-01-01T00:00:00Z") == []


def test_discrepancy_filter_errors(ledger: TestClient) -> None:
    for params, field in (
        ({"event": "nope"}, "event"),
        ({"metric": "nope"}, "metric"),
        ({"since": "last week"}, "since"),
    ):
        response = ledger.get("/v1/reports/discrepancies", params=params)
        assert response.status_code == 422, params
        assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]]


# --- the reports kept in memory until their event changes ----------------------------------


def test_a_report_is_kept_until_its_event_changes(ledger: TestClient) -> None:
    first = report(ledger)
    assert report(ledger) == first  # the same report, generated_at included: not made again
    claim = add_claim(ledger, figure="41", claimant="Police", as_of=D1)
    after = report(ledger)
    assert after["generated_at"] > first["generated_at"]
    assert [c["id"] for g in after["groups"] for c in g["claims"]] == [claim["id"]]
    retract(ledger, claim["id"])
    [group] = report(ledger)["groups"]
    assert group["claims"][0]["status"] == "retracted"
    # Another format of the same version is its own rendering of the same report.
    markdown = ledger.get("/v1/events/quake/report", params={"format": "markdown"})
    assert markdown.status_code == 200
    assert "retracted" in markdown.text.lower()


def test_the_kept_reports_hold_at_most_their_number_of_claims() -> None:
    def made(claims: int) -> CachedReport:
        return CachedReport({"groups": [{"claims": [object()] * (claims - 1)}]})

    cache = Kept(10, claims_held)
    a, b = made(4), made(4)
    cache.put(("a",), a)
    cache.put(("b",), b)
    assert cache.get(("a",)) is a  # a is now the most recently used
    cache.put(("c",), made(4))  # 12 > 10: the least recently used (b) goes
    assert cache.get(("b",)) is None
    assert cache.get(("a",)) is a
    cache.put(("big",), made(11))  # larger than the whole cache: never kept
    assert cache.get(("big",)) is None
    none = Kept(0, claims_held)
    assert none.put(("a",), a) is a
    assert none.get(("a",)) is None
