"""Conflict detection through the API: lifecycle, rules over stored claims, listing (SPEC §5)."""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import hypothesis
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import models, repository
from app.domain.conflicts import is_current, successors
from app.schemas import RetractBody
from app.services import claims, detection
from tests.conftest import ADMIN_KEY, claim_body, new_key
from tests.ledger import (
    D1,
    D2,
    D3,
    VALUE_KINDS,
    add_claim,
    add_event,
    close_dispute,
    conflicts,
    dispute,
    fresh_event,
    kinds_and_claims,
    open_conflicts,
    patch_claim,
    retract,
)


def mismatch(client: TestClient) -> tuple[str, str, dict[str, object]]:
    """Two claims of the same group that cannot both be right, and their open conflict."""
    a = add_claim(client, figure="at least 164", claimant="Ministry of Health", as_of=D1)
    b = add_claim(client, figure="100", claimant="Akimat", as_of=D2)
    [conflict] = open_conflicts(client)
    return a["id"], b["id"], conflict


# --- lifecycle -----------------------------------------------------------------------------


def test_a_conflict_opens_on_create_with_a_readable_detail(ledger: TestClient) -> None:
    a, b, conflict = mismatch(ledger)
    assert conflict["kind"] == "value_mismatch"
    assert conflict["claims"] == [a, b]
    where = (conflict["event"], conflict["metric"], conflict["population"], conflict["location"])
    assert where == ("quake", "deaths", "all", None)
    assert (conflict["status"], conflict["closed_at"]) == ("open", None)
    assert conflict["opened_at"] is not None
    detail = str(conflict["detail"])
    for words in ("Ministry of Health", "at least 164", D1, "Akimat", "100", D2):
        assert words in detail, detail
    assert detail.index("Ministry of Health") < detail.index("Akimat")
    assert detail.endswith(".")
    assert ledger.get(f"/v1/conflicts/{conflict['id']}").json() == conflict


GAPS = [  # metric, (figure, as_of) of the earlier claim and of the later one, absolute, relative
    ("deaths", ("at least 164", D1), ("100", D2), 64, 64 / 164),
    ("troops_deployed", ("100", D1), ("about 300", D1), 170, 170 / 270),
    ("deaths", ("at most 50", D1), ("between 80 and 90", D1), 30, 30 / 80),
    ("missing", ("more than 1,000", D2), ("fewer than 10", D2), 992, 992 / 1001),
]


def test_gap_is_the_distance_between_the_intervals(ledger: TestClient) -> None:
    for metric, first, second, absolute, relative in GAPS:
        event = fresh_event(ledger)
        add_claim(ledger, event=event, metric=metric, figure=first[0], as_of=first[1])
        add_claim(
            ledger, event=event, metric=metric, figure=second[0], as_of=second[1], claimant="X"
        )
        [conflict] = open_conflicts(ledger, event)
        assert conflict["gap"] == {"absolute": absolute, "relative": pytest.approx(relative)}


def test_a_correction_updates_then_clears_the_conflict(ledger: TestClient) -> None:
    _, b, conflict = mismatch(ledger)
    patch_claim(ledger, b, figure="120")
    [still] = open_conflicts(ledger)
    assert still["id"] == conflict["id"]
    assert still["gap"]["absolute"] == 44
    assert "120" in still["detail"]
    patch_claim(ledger, b, figure="at least 170")
    assert open_conflicts(ledger) == []
    cleared = ledger.get(f"/v1/conflicts/{conflict['id']}").json()
    assert cleared["status"] == "cleared"
    assert cleared["closed_at"] is not None
    assert cleared["closed_at"] >= cleared["opened_at"]


def test_a_retraction_clears_value_conflicts_and_flags_the_claims_citing_it(
    ledger: TestClient,
) -> None:
    a, b, conflict = mismatch(ledger)
    relay = add_claim(
        ledger, figure="at least 164", claimant="Khabar 24", cites=a, location="Almaty", as_of=D1
    )
    assert open_conflicts(ledger) == [conflict]
    retract(ledger, a)
    assert ledger.get(f"/v1/conflicts/{conflict['id']}").json()["status"] == "cleared"
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("retracted_figure", (a,)),
        ("cites_retracted", (relay["id"], a)),
    }
    by_kind = {c["kind"]: c for c in open_conflicts(ledger)}
    assert "Ministry of Health" in by_kind["retracted_figure"]["detail"]
    assert "retracted" in by_kind["retracted_figure"]["detail"]
    # The sentence names the outlets: the one that relays and the one that retracted.
    assert by_kind["cites_retracted"]["detail"].startswith("Wire relays a figure that Wire")
    assert by_kind["cites_retracted"]["location"] == "Almaty"
    assert by_kind["retracted_figure"]["gap"] is None
    assert b not in {claim for c in open_conflicts(ledger) for claim in c["claims"]}


def test_retracting_the_citing_claim_clears_cites_retracted(ledger: TestClient) -> None:
    origin = add_claim(ledger, claimant="Ministry of Health")
    relay = add_claim(ledger, claimant="Khabar 24", cites=origin["id"])
    retract(ledger, origin["id"])
    assert "cites_retracted" in {c["kind"] for c in open_conflicts(ledger)}
    retract(ledger, relay["id"])
    assert {c["kind"] for c in open_conflicts(ledger)} == {"retracted_figure"}
    assert len(open_conflicts(ledger)) == 2


def test_each_open_dispute_is_a_conflict_until_it_closes(ledger: TestClient) -> None:
    claim = add_claim(ledger, claimant="Ministry of Health")["id"]
    first, second = dispute(ledger, claim, by="Red Crescent"), dispute(ledger, claim, by="NGO")
    found = open_conflicts(ledger)
    assert sorted(c["dispute"] for c in found) == sorted([first, second])
    assert {(c["kind"], tuple(c["claims"])) for c in found} == {("disputed", (claim,))}
    assert all("Ministry of Health" in c["detail"] and "disputed" in c["detail"] for c in found)
    close_dispute(ledger, claim, first)
    [left] = open_conflicts(ledger)
    assert left["dispute"] == second
    [closed] = conflicts(ledger, status="cleared")
    assert closed["dispute"] == first
    assert closed["closed_at"] is not None
    close_dispute(ledger, claim, second)
    assert open_conflicts(ledger) == []


def test_an_editor_resolves_a_conflict_with_a_note(ledger: TestClient) -> None:
    editor, reader = new_key(ledger, "editor"), new_key(ledger, "reader")
    *_, conflict = mismatch(ledger)
    path = f"/v1/conflicts/{conflict['id']}/resolve"
    assert ledger.post(path, json={"note": "checked"}, headers=reader).status_code == 403
    for body in ({}, {"note": "   "}, {"note": "ok", "extra": 1}):
        response = ledger.post(path, json=body, headers=editor)
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], response.json()
    assert ledger.get(f"/v1/conflicts/{conflict['id']}").json() == conflict
    response = ledger.post(path, json={"note": "Different counting dates."}, headers=editor)
    assert response.status_code == 200, response.text
    resolved = response.json()
    assert resolved["status"] == "resolved"
    assert (resolved["resolution_note"], resolved["resolved_by"]) == (
        "Different counting dates.",
        "editor-key",
    )
    assert resolved["closed_at"] is not None
    assert ledger.get(f"/v1/conflicts/{conflict['id']}").json() == resolved
    assert ledger.post(path, json={"note": "again"}, headers=editor).status_code == 409


def test_a_resolved_conflict_stays_resolved_while_it_holds(ledger: TestClient) -> None:
    a, b, conflict = mismatch(ledger)
    ledger.post(f"/v1/conflicts/{conflict['id']}/resolve", json={"note": "known"})
    patch_claim(ledger, b, figure="90")
    patch_claim(ledger, a, note="checked again")
    dispute_id = dispute(ledger, a)
    close_dispute(ledger, a, dispute_id)
    third = add_claim(ledger, figure="90", claimant="Police", as_of=D2)["id"]
    pairs = [c for c in conflicts(ledger) if set(c["claims"]) == {a, b}]
    assert [c["id"] for c in pairs] == [conflict["id"]]
    assert pairs[0]["status"] == "resolved"
    assert kinds_and_claims(open_conflicts(ledger)) == {("value_mismatch", (a, third))}


def test_resolving_a_cleared_conflict_is_409_and_unknown_ids_404(ledger: TestClient) -> None:
    _, b, conflict = mismatch(ledger)
    patch_claim(ledger, b, figure="at least 200")
    path = f"/v1/conflicts/{conflict['id']}/resolve"
    response = ledger.post(path, json={"note": "late"})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert ledger.get(f"/v1/conflicts/{conflict['id']}").json()["status"] == "cleared"
    for unknown in ("999999", "abc", "99999999999999999999999"):
        assert ledger.get(f"/v1/conflicts/{unknown}").status_code == 404
        assert (
            ledger.post(f"/v1/conflicts/{unknown}/resolve", json={"note": "x"}).status_code == 404
        )


def test_a_conflict_keeps_its_id_across_unrelated_changes(ledger: TestClient) -> None:
    a, b, conflict = mismatch(ledger)
    add_event(ledger, "flood")
    other = add_claim(ledger, event="flood", figure="5", claimant="Ministry of Health")["id"]
    add_claim(ledger, metric="injuries", figure="3", claimant="Akimat")
    add_claim(ledger, location="Almaty", figure="1", claimant="Akimat")
    add_claim(ledger, figure="at least 5", claimant="Police", as_of=D3)
    patch_claim(ledger, a, note="a newsroom note")
    retract(ledger, other)
    dispute(ledger, b)
    [pair] = [c for c in open_conflicts(ledger) if c["kind"] == "value_mismatch"]
    assert pair["id"] == conflict["id"]
    assert pair["opened_at"] == conflict["opened_at"]


# --- the rules over stored claims ----------------------------------------------------------


def test_part_exceeds_whole_follows_the_population_tree(ledger: TestClient) -> None:
    whole = add_claim(ledger, population="all", figure="30", claimant="Police")["id"]
    civilians = add_claim(ledger, population="civilians", figure="40", claimant="Hospital")["id"]
    children = add_claim(ledger, population="children", figure="at least 50", claimant="UNICEF")[
        "id"
    ]
    soldiers = add_claim(ledger, population="security_forces", figure="100", claimant="Army")["id"]
    assert kinds_and_claims(open_conflicts(ledger)) == {
        ("part_exceeds_whole", (civilians, whole)),
        ("part_exceeds_whole", (children, civilians)),
        ("part_exceeds_whole", (children, whole)),
        ("part_exceeds_whole", (soldiers, whole)),
    }
    detail = next(c["detail"] for c in open_conflicts(ledger) if c["claims"][0] == children)
    assert "UNICEF" in detail
    assert "children" in detail


def test_an_admin_population_joins_the_tree(ledger: TestClient) -> None:
    created = ledger.post("/v1/populations", json={"name": "police", "parent": "security_forces"})
    assert created.status_code == 201, created.text
    whole = add_claim(ledger, population="all", figure="10", claimant="Ministry")["id"]
    part = add_claim(ledger, population="police", figure="12", claimant="Union")["id"]
    add_claim(ledger, population="civilians", figure="5", claimant="Hospital")
    assert kinds_and_claims(open_conflicts(ledger)) == {("part_exceeds_whole", (part, whole))}


PART_IN_TIME = [  # metric, the part's as_of, the whole's as_of, whether they conflict
    ("deaths", D1, D2, True),  # cumulative: an earlier part cannot exceed a later whole
    ("deaths", D2, D2, True),
    ("deaths", D3, D2, False),  # a later part may have grown past an earlier whole
    ("missing", D1, D2, False),  # stock: only the same date compares
    ("missing", D2, D2, True),
    ("missing", D3, D2, False),
]


def test_part_exceeds_whole_in_time(ledger: TestClient) -> None:
    for metric, part_as_of, whole_as_of, conflicting in PART_IN_TIME:
        event = fresh_event(ledger)
        add_claim(
            ledger, event=event, metric=metric, population="children", figure="50", as_of=part_as_of
        )
        add_claim(ledger, event=event, metric=metric, figure="30", as_of=whole_as_of, claimant="X")
        kinds = [c["kind"] for c in open_conflicts(ledger, event)]
        assert kinds == (["part_exceeds_whole"] if conflicting else []), (metric, part_as_of)


VALUE_RULES = [  # metric, (figure, as_of, claimant) of two claims in order, the kinds raised
    ("deaths", ("100", D1, "Ministry"), ("50", D2, "Governor"), ["value_mismatch"]),
    ("deaths", ("100", D1, "Ministry"), ("50", D2, "Ministry"), ["downward_revision"]),
    ("deaths", ("100", D1, "Ministry"), ("50", D2, " MINISTRY "), ["downward_revision"]),
    ("deaths", ("50", D1, "Ministry"), ("100", D2, "Governor"), []),
    ("deaths", ("50", D1, "Ministry"), ("100", D1, "Governor"), ["value_mismatch"]),
    ("deaths", ("100", D1, "Ministry"), ("50", D1, "Ministry"), ["value_mismatch"]),
    ("deaths", ("at least 100", D1, "Ministry"), ("hundreds", D2, "Governor"), []),
    ("deaths", ("about 100", D1, "Ministry"), ("90", D2, "Governor"), []),
    ("missing", ("100", D1, "Ministry"), ("50", D2, "Governor"), []),
    ("missing", ("100", D1, "Ministry"), ("50", D2, "Ministry"), []),
    ("missing", ("100", D1, "Ministry"), ("50", D1, "Governor"), ["value_mismatch"]),
    ("missing", ("about 100", D1, "Ministry"), ("110", D1, "Governor"), []),
]


def test_cumulative_and_stock_rules(ledger: TestClient) -> None:
    for metric, first, second, kinds in VALUE_RULES:
        event = fresh_event(ledger)
        ids = [
            add_claim(ledger, event=event, metric=metric, figure=f, as_of=d, claimant=c)["id"]
            for f, d, c in (first, second)
        ]
        found = open_conflicts(ledger, event)
        assert [c["kind"] for c in found] == kinds, (metric, first, second)
        assert all(c["claims"] == ids for c in found)


LOCATIONS = [  # two locations, whether claims in them are compared
    ("Almaty", "  ALMATY ", True),
    ("Almaty Region", "almaty   region", True),
    ("Almaty", "Astana", False),
    (None, "Almaty", False),
]


def test_locations_are_compared_case_and_space_insensitively(ledger: TestClient) -> None:
    for first, second, compared in LOCATIONS:
        event = fresh_event(ledger)
        ministry = add_claim(ledger, event=event, location=first, figure="100")["id"]
        governor = add_claim(ledger, event=event, location=second, figure="5", claimant="X")["id"]
        unicef = add_claim(
            ledger, event=event, location=second, population="children", figure="200"
        )["id"]
        across = {
            ("value_mismatch", (ministry, governor)),
            ("part_exceeds_whole", (unicef, ministry)),
        }
        within = {("part_exceeds_whole", (unicef, governor))}
        expected = within | across if compared else within
        assert kinds_and_claims(open_conflicts(ledger, event)) == expected, (first, second)


def test_different_events_and_metrics_are_never_compared(ledger: TestClient) -> None:
    add_event(ledger, "flood")
    add_claim(ledger, figure="100", claimant="Ministry")
    add_claim(ledger, event="flood", figure="5", claimant="Governor")
    add_claim(ledger, metric="injuries", figure="5", claimant="Governor")
    add_claim(ledger, metric="injuries", population="children", figure="500", as_of=D3)
    assert conflicts(ledger) == []


# --- superseded_by -------------------------------------------------------------------------


def superseded(client: TestClient, claim_id: str) -> str | None:
    value = client.get(f"/v1/claims/{claim_id}").json()["superseded_by"]
    return None if value is None else str(value)


def test_superseded_by_names_the_claimants_next_active_claim(ledger: TestClient) -> None:
    first = add_claim(ledger, figure="at least 10", claimant="Ministry of Health", as_of=D1)["id"]
    later = add_claim(ledger, figure="at least 12", claimant="ministry of  HEALTH", as_of=D2)["id"]
    same_day = add_claim(ledger, figure="at least 13", claimant="Ministry of Health", as_of=D2)
    add_claim(ledger, figure="at least 20", claimant="Red Cross", as_of=D3)
    add_claim(ledger, figure="at least 20", claimant="Ministry of Health", population="civilians")
    add_claim(ledger, figure="at least 20", claimant="Ministry of Health", location="Almaty")
    add_claim(ledger, metric="injuries", figure="5", claimant="Ministry of Health", as_of=D3)
    assert (superseded(ledger, first), superseded(ledger, later)) == (later, same_day["id"])
    assert superseded(ledger, same_day["id"]) is None
    retract(ledger, same_day["id"])
    assert superseded(ledger, later) is None
    assert superseded(ledger, same_day["id"]) is None
    assert superseded(ledger, first) == later
    listed = ledger.get("/v1/claims", params={"claimant": "ministry of health"}).json()["items"]
    assert {c["id"]: c["superseded_by"] for c in listed}[first] == later


def test_claims_recorded_together_follow_each_other_in_the_order_of_their_ids(
    ledger: TestClient,
) -> None:
    """A bulk batch records its claims at one instant: its claims of one series and date
    follow each other by id, as numbers (claim 9 before claim 10), in every part of Tally."""
    lines = [
        json.dumps(claim_body(figure="about 100", claimant="Ministry", as_of=D1)) + "\n"
        for _ in range(12)
    ]
    response = ledger.post(
        "/v1/claims/bulk", content="".join(lines), headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    ids = sorted((claim["id"] for claim in ledger.get("/v1/claims").json()["items"]), key=int)
    assert len(ids) == 12
    assert [superseded(ledger, i) for i in ids] == [*ids[1:], None]
    assert stored_marks(ledger, "quake") == recomputed_marks(ledger, "quake")
    rival = add_claim(ledger, figure="5", claimant="Police", as_of=D1)["id"]
    assert kinds_and_claims(open_conflicts(ledger)) == {("value_mismatch", (ids[-1], rival))}


def test_a_claim_recorded_with_an_earlier_date_is_superseded_at_once(ledger: TestClient) -> None:
    newer = add_claim(ledger, figure="at least 12", claimant="Ministry", as_of=D2)["id"]
    body = claim_body(figure="at least 10", claimant="Ministry", as_of=D1)
    response = ledger.post("/v1/claims", json=body)
    assert response.status_code == 201
    assert response.json()["superseded_by"] == newer
    assert response.json() == ledger.get(response.headers["location"]).json()


def test_superseded_by_after_a_correction_of_the_date(ledger: TestClient) -> None:
    a = add_claim(ledger, claimant="Ministry", as_of=D1)["id"]
    b = add_claim(ledger, claimant="Ministry", as_of=D2)["id"]
    assert patch_claim(ledger, b, as_of="2023-02-01")["superseded_by"] == a
    assert superseded(ledger, a) is None


# --- listing -------------------------------------------------------------------------------


@pytest.fixture
def two_events(ledger: TestClient) -> None:
    """Conflicts of several kinds, metrics and statuses in two events."""
    add_event(ledger, "flood")
    add_claim(ledger, figure="100", claimant="Ministry", as_of=D1)
    add_claim(ledger, figure="50", claimant="Governor", as_of=D2)
    add_claim(ledger, metric="missing", figure="100", claimant="Ministry")
    add_claim(ledger, metric="missing", figure="5", claimant="Governor")
    disputed = add_claim(ledger, metric="injuries", figure="5", claimant="Ministry")["id"]
    dispute(ledger, disputed)
    add_claim(ledger, event="flood", figure="100", claimant="Ministry")
    retracted = add_claim(ledger, event="flood", figure="5", claimant="Governor")["id"]
    retract(ledger, retracted)


LIST_FILTERS = [  # params, the conflicts listed as kind:event:status
    ({}, ["value_mismatch:quake:open", "value_mismatch:quake:open", "disputed:quake:open",
          "value_mismatch:flood:cleared", "retracted_figure:flood:open"]),
    ({"event": "flood"}, ["value_mismatch:flood:cleared", "retracted_figure:flood:open"]),
    ({"kind": "disputed"}, ["disputed:quake:open"]),
    ({"status": "cleared"}, ["value_mismatch:flood:cleared"]),
    ({"metric": "missing"}, ["value_mismatch:quake:open"]),
    ({"event": "quake", "metric": "deaths", "status": "open", "kind": "value_mismatch"},
     ["value_mismatch:quake:open"]),
    ({"event": "flood", "status": "resolved"}, []),
]  # fmt: skip


def test_list_filters(ledger: TestClient, two_events: None) -> None:
    for params, expected in LIST_FILTERS:
        found = conflicts(ledger, **params)
        assert [f"{c['kind']}:{c['event']}:{c['status']}" for c in found] == expected, params
        assert all(c["metric"] == params.get("metric", c["metric"]) for c in found)


def test_list_pages_with_a_cursor(ledger: TestClient, two_events: None) -> None:
    everything = [c["id"] for c in conflicts(ledger)]
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(len(everything)):
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = ledger.get("/v1/conflicts", params=params).json()
        assert len(page["items"]) <= 2
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    assert len(set(seen)) == len(seen) == 5
    open_page = ledger.get("/v1/conflicts", params={"status": "open", "limit": 4}).json()
    assert len(open_page["items"]) == 4
    assert open_page["next_cursor"] is None


BAD_FILTERS = [
    ({"kind": "mismatch"}, "kind"),
    ({"status": "closed"}, "status"),
    ({"event": "nope"}, "event"),
    ({"metric": "nope"}, "metric"),
    ({"limit": "0"}, "limit"),
    ({"limit": "1001"}, "limit"),
    ({"cursor": "!!"}, "cursor"),
    ({"since": "yesterday"}, "since"),
]


def test_bad_list_filters_are_422_naming_the_parameter(
    ledger: TestClient, two_events: None
) -> None:
    for params, field in BAD_FILTERS:
        response = ledger.get("/v1/conflicts", params=params)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"].split(".")[-1] for e in response.json()["errors"]], params


# --- properties: detection through the service equals the rules over the ledger -----------

FACTS = {
    "metric": st.sampled_from(["deaths", "missing"]),
    "population": st.sampled_from(["all", "civilians", "children", "security_forces"]),
    "location": st.sampled_from([None, "Almaty", " almaty"]),
    "figure": st.sampled_from(
        ["5", "10", "200", "at least 10", "about 100", "hundreds", "at most 50", "20-40"]
    ),
    "as_of": st.sampled_from([D1, D2, D3]),
    "claimant": st.sampled_from(["Ministry", " ministry", "Red Cross", "Police"]),
}
claim_facts = st.fixed_dictionaries(FACTS)
corrections = st.fixed_dictionaries({}, optional=FACTS)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), claim_facts, st.none() | st.integers(0, 50)),
        st.tuples(st.just("patch"), st.integers(0, 50), corrections),
        st.tuples(st.sampled_from(["retract", "dispute", "close"]), st.integers(0, 50)),
    ),
    min_size=1,
    max_size=12,
)
SERVICE_PROPERTY = hypothesis.settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)

Described = tuple[str, tuple[tuple[str, ...], ...]]


def described(found: list[dict[str, Any]], claims: dict[str, dict[str, Any]]) -> list[Described]:
    """Conflicts as (kind, the facts of their claims), with no claim ids in them."""

    def facts_of(claim_id: str) -> tuple[str, ...]:
        claim = claims[claim_id]
        return (claim["claimant"], claim["figure"]["text"], claim["as_of"], claim["population"],
                claim["location"] or "", claim["metric"])  # fmt: skip

    return sorted((c["kind"], tuple(sorted(facts_of(i) for i in c["claims"]))) for c in found)


def record(
    client: TestClient, event: str, bodies: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The claims recorded in `event`, by id."""
    created = (add_claim(client, event=event, **body) for body in bodies)
    return {claim["id"]: claim for claim in created}


def series_date(body: dict[str, Any]) -> tuple[Any, ...]:
    """A claim's claimant, group, population and as_of (as the rule compares them)."""
    place = " ".join((body.get("location") or "").casefold().split())
    claimant = " ".join(body["claimant"].casefold().split())
    return (claimant, body["metric"], place, body.get("population", "all"), body["as_of"])


@SERVICE_PROPERTY
@given(
    # Distinct (claimant, group, population, as_of): one claimant's claims of one date are
    # ordered by when they were recorded, on purpose (SPEC §5).
    bodies=st.lists(claim_facts, min_size=1, max_size=7, unique_by=series_date),
    data=st.data(),
)
def test_open_conflicts_do_not_depend_on_recording_order(
    ledger: TestClient, bodies: list[dict[str, Any]], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(bodies))
    first, second = fresh_event(ledger), fresh_event(ledger)
    in_order, reordered = record(ledger, first, bodies), record(ledger, second, shuffled)
    assert described(open_conflicts(ledger, first), in_order) == described(
        open_conflicts(ledger, second), reordered
    )


def apply(
    client: TestClient, event: str, operation: tuple[Any, ...], state: dict[str, list[str]]
) -> None:
    """Perform one change; `state` keeps the claim ids and the open disputes (claim:dispute)."""
    kind, *args = operation
    ids, disputes = state["claims"], state["disputes"]
    if kind == "create":
        body, cites = args
        cited = {"cites": ids[cites % len(ids)]} if ids and cites is not None else {}
        ids.append(add_claim(client, event=event, **body, **cited)["id"])
    elif not ids:
        return
    elif kind == "patch":
        patch_claim(client, ids[args[0] % len(ids)], **args[1])
    elif kind == "retract":
        target = ids[args[0] % len(ids)]
        client.post(f"/v1/claims/{target}/retract", json={"reason": "deleted"})  # 409 if done
    elif kind == "dispute":
        target = ids[args[0] % len(ids)]
        disputes.append(f"{target}:{dispute(client, target)}")
    elif disputes:
        close_dispute(client, *disputes.pop(args[0] % len(disputes)).split(":"))


def stored_findings(client: TestClient, event: str) -> list[tuple[Any, ...]]:
    return sorted(
        (c["kind"], tuple(c["claims"]), c["dispute"], c["detail"],
         None if c["gap"] is None else (c["gap"]["absolute"], round(c["gap"]["relative"], 9)))
        for c in open_conflicts(client, event)
    )  # fmt: skip


def recomputed_findings(client: TestClient, event: str) -> list[tuple[Any, ...]]:
    """find_conflicts over every claim of the event as it stands, computed from scratch."""
    with client.app.state.sessionmaker() as session:
        found = detection.recompute(session, event)
    return sorted(
        (f.kind.value, f.claims, f.dispute, f.detail,
         None if f.gap is None else (f.gap.absolute, round(f.gap.relative, 9)))
        for f in found
    )  # fmt: skip


@SERVICE_PROPERTY
@given(changes=operations)
def test_incremental_detection_equals_a_full_recomputation(
    ledger: TestClient, changes: list[tuple[Any, ...]]
) -> None:
    event = fresh_event(ledger)
    state: dict[str, list[str]] = {"claims": [], "disputes": []}
    for operation in changes:
        apply(ledger, event, operation, state)
    assert stored_findings(ledger, event) == recomputed_findings(ledger, event)
    assert stored_marks(ledger, event) == recomputed_marks(ledger, event)


def stored_marks(client: TestClient, event: str) -> dict[str, bool]:
    """Each claim of the event -> its stored last_of_day mark (what detection reads)."""
    query = (
        select(models.Claim.id, models.Claim.last_of_day)
        .join(models.Event)
        .where(models.Event.slug == event)
    )
    with client.app.state.sessionmaker() as session:
        return {str(i): bool(mark) for i, mark in session.execute(query)}


def recomputed_marks(client: TestClient, event: str) -> dict[str, bool]:
    """Each claim -> whether it is its claimant's current figure at its own date (SPEC §5)."""
    with client.app.state.sessionmaker() as session:
        scope = repository.claims.event_scope(session, event)
    following = successors(f for f in scope if not f.retracted)
    return {f.id: not f.retracted and is_current(f, f.as_of, following) for f in scope}


def value_conflicts(
    client: TestClient, event: str, renamed: dict[str, str]
) -> list[tuple[str, ...]]:
    """Open value conflicts as (kind, sorted claim ids), ids renamed by `renamed`."""
    return sorted(
        (c["kind"], *sorted(renamed.get(i, i) for i in c["claims"]))
        for c in open_conflicts(client, event)
        if c["kind"] in VALUE_KINDS
    )


def _series_and_date(body: dict[str, Any]) -> tuple[str, ...]:
    """A claim's series and date, as the rules compare them (names folded, spaces collapsed)."""
    names = (body["claimant"], body["location"] or "", body["metric"], body["population"])
    return (*(" ".join(n.casefold().split()) for n in names), body["as_of"])


# Claims of distinct series and dates: a restored claim is recorded after the others, so one
# of its series' claims of its date would be ordered before it, not after (SPEC §5, on purpose).
@SERVICE_PROPERTY
@given(
    bodies=st.lists(claim_facts, min_size=2, max_size=6, unique_by=_series_and_date),
    pick=st.integers(0, 50),
)
def test_retracting_and_restoring_the_same_facts_gives_the_same_value_conflicts(
    ledger: TestClient, bodies: list[dict[str, Any]], pick: int
) -> None:
    event = fresh_event(ledger)
    ids = list(record(ledger, event, bodies))
    before = value_conflicts(ledger, event, {})
    target = ids[pick % len(ids)]
    retract(ledger, target)
    involved = {
        i for c in open_conflicts(ledger, event) if c["kind"] in VALUE_KINDS for i in c["claims"]
    }
    assert target not in involved
    restored = add_claim(ledger, event=event, **bodies[pick % len(ids)])["id"]
    assert value_conflicts(ledger, event, {restored: target}) == before


# --- concurrency ---------------------------------------------------------------------------

WRITERS, CLAIMS_EACH = 8, 15


def write_concurrently(
    live_url: str, writer: int, start: threading.Barrier, ids: list[str]
) -> list[int]:
    """One writer's claims, retractions and disputes on the same few groups; its statuses."""
    rng = random.Random(writer)
    statuses: list[int] = []
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=live_url, headers=headers, timeout=60) as http:
        start.wait()
        for _ in range(CLAIMS_EACH):
            body = claim_body(
                figure=str(rng.choice([5, 10, 50, 100, 500])),
                claimant=rng.choice(["Ministry", "Red Cross", "Police", "Governor"]),
                population=rng.choice(["all", "children"]),
                location=rng.choice([None, "Almaty"]),
                as_of=rng.choice([D1, D2]),
            )
            if ids and rng.random() < 0.3:
                body["cites"] = rng.choice(ids)
            response = http.post("/v1/claims", json=body)
            statuses.append(response.status_code)
            if response.status_code == 201:
                ids.append(response.json()["id"])
            if rng.random() < 0.2:
                target = rng.choice(ids)
                retraction = http.post(f"/v1/claims/{target}/retract", json={"reason": "gone"})
                statuses.append(200 if retraction.status_code == 409 else retraction.status_code)
            if rng.random() < 0.1:
                objection = {"by": "NGO", "reason": "disputed"}
                statuses.append(
                    http.post(f"/v1/claims/{rng.choice(ids)}/disputes", json=objection).status_code
                )
    return statuses


def test_concurrent_writers_miss_no_conflict(ledger: TestClient, live_url: str) -> None:
    start, ids = threading.Barrier(WRITERS), []
    with ThreadPoolExecutor(WRITERS) as pool:
        runs = [pool.submit(write_concurrently, live_url, n, start, ids) for n in range(WRITERS)]
        statuses = [status for run in runs for status in run.result(timeout=120)]
    assert set(statuses) <= {200, 201}, sorted(set(statuses))
    assert len(ids) == WRITERS * CLAIMS_EACH
    stored = stored_findings(ledger, "quake")
    assert len(set(stored)) == len(stored)
    assert stored == recomputed_findings(ledger, "quake")


def retract_in_a_session_of_its_own(client: TestClient, claim_id: str) -> None:
    with client.app.state.sessionmaker() as session:
        claims.retract_claim(session, claim_id, RetractBody(reason="deleted"), "racer")


@pytest.mark.parametrize("change", ["create", "patch"])
def test_a_claim_citing_one_retracted_meanwhile_gets_cites_retracted(
    ledger: TestClient, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """A retraction commits after the citing writer read the cited claim, before its lock.

    The racer runs at the writer's call to lock_events that follows its read of the cited
    claim: a new claim's only call; a correction's second (its first locks the corrected
    claim's own event, here another one, before the new `cites` is read).
    """
    origin = add_claim(ledger, claimant="Ministry")["id"]
    add_event(ledger, "flood")
    relay = None if change == "create" else add_claim(ledger, event="flood")["id"]
    take_lock, calls = repository.claims.lock_events, [0]
    racer = threading.Thread(target=retract_in_a_session_of_its_own, args=(ledger, origin))

    def lock_events(session: Session, **events: Any) -> None:
        calls[0] += 1
        if racer.ident is None and calls[0] == (1 if change == "create" else 2):
            racer.start()
            if session.get_bind().dialect.name == "postgresql":
                racer.join(10)  # SQLite: the racer waits for this writer's BEGIN IMMEDIATE
        take_lock(session, **events)

    monkeypatch.setattr(repository.claims, "lock_events", lock_events)
    if relay is None:
        relay = add_claim(ledger, claimant="Khabar 24", cites=origin)["id"]
    else:
        patch_claim(ledger, relay, cites=origin)
    racer.join(10)
    monkeypatch.undo()
    assert ledger.get(f"/v1/claims/{origin}").json()["status"] == "retracted"
    found = kinds_and_claims(conflicts(ledger, status="open"))
    assert found == {("retracted_figure", (origin,)), ("cites_retracted", (relay, origin))}
