"""The conflict rules of SPEC §5, table by table, and their properties."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import conflicts
from app.domain.conflicts import find_conflicts, superseded_by
from app.domain.model import (
    ClaimFacts,
    ConflictKind,
    Figure,
    Finding,
    Gap,
    MetricKind,
    OpenDispute,
    Qualifier,
)

VM = ConflictKind.VALUE_MISMATCH
DR = ConflictKind.DOWNWARD_REVISION
PEW = ConflictKind.PART_EXCEEDS_WHOLE
RF = ConflictKind.RETRACTED_FIGURE
CR = ConflictKind.CITES_RETRACTED
DISPUTED = ConflictKind.DISPUTED
VALUE_KINDS = {VM, DR, PEW}

ANCESTORS: dict[str, tuple[str, ...]] = {
    "all": (),
    "civilians": ("all",),
    "security_forces": ("all",),
    "children": ("civilians", "all"),
}
METRIC_KINDS = {
    "deaths": MetricKind.CUMULATIVE,
    "injuries": MetricKind.CUMULATIVE,
    "arrests": MetricKind.CUMULATIVE,
    "evacuated": MetricKind.CUMULATIVE,
    "missing": MetricKind.STOCK,
    "troops_deployed": MetricKind.STOCK,
}
START = date(2021, 12, 31)  # day N is 2022-01-N
RECORDED = datetime(2022, 1, 20, 12, 0, tzinfo=UTC)
PROPERTY = settings(database=None, max_examples=300, deadline=None)

Seen = set[tuple[ConflictKind, tuple[str, ...], str | None]]


def exact(value: int, text: str | None = None) -> Figure:
    """An exact figure."""
    return Figure(text or str(value), value, value, value, Qualifier.EXACT)


def interval(low: int, high: int | None) -> Figure:
    """A figure [low, high] (high None = open), with a text that says so."""
    if high is None:
        return Figure(f"at least {low}", low, None, None, Qualifier.AT_LEAST)
    if low == high:
        return exact(low)
    return Figure(f"{low}-{high}", low, high, None, Qualifier.RANGE)


def claim(
    claim_id: str,
    figure: Figure,
    *,
    day: int = 0,
    metric: str = "deaths",
    population: str = "all",
    claimant: str = "Claimant A",
    location: str = "",
    event: str = "unrest",
    recorded: int = 0,
    retracted: bool = False,
    cites: str | None = None,
    disputes: tuple[str, ...] = (),
) -> ClaimFacts:
    """A claim `day` days after START, recorded `recorded` minutes after RECORDED."""
    return ClaimFacts(
        id=claim_id,
        event=event,
        metric=metric,
        metric_kind=METRIC_KINDS[metric],
        population=population,
        population_ancestors=ANCESTORS[population],
        location_key=" ".join(location.casefold().split()),
        figure=figure,
        as_of=START + timedelta(days=day),
        claimant=claimant,
        claimant_key=" ".join(claimant.casefold().split()),
        recorded_at=RECORDED + timedelta(minutes=recorded),
        retracted=retracted,
        cites=cites,
        open_disputes=disputes,
    )


def seen(findings: Iterable[Finding]) -> Seen:
    """What a table row compares: kind, claims in order, dispute."""
    return {(f.kind, f.claims, f.dispute) for f in findings}


# --- SPEC §5, pair rules ---------------------------------------------------------------------

PAIR_RULES = [
    # value_mismatch, cumulative metric
    pytest.param(
        [claim("a", exact(225)), claim("b", interval(0, 150), day=1, claimant="B")],
        {(VM, ("a", "b"), None)},
        id="cumulative: the earlier low exceeds the later high",
    ),
    pytest.param(
        [claim("late", interval(0, 150), day=1, claimant="B"), claim("early", exact(225))],
        {(VM, ("early", "late"), None)},
        id="cumulative: claims ordered by as_of, not by input",
    ),
    pytest.param(
        [claim("a", exact(150)), claim("b", interval(0, 150), day=1, claimant="B")],
        set(),
        id="not: cumulative, earlier low equal to the later high",
    ),
    pytest.param(
        [claim("a", exact(225)), claim("b", interval(100, None), day=1, claimant="B")],
        set(),
        id="not: cumulative, the later high is open",
    ),
    pytest.param(
        [claim("a", exact(100)), claim("b", exact(200), day=1, claimant="B")],
        set(),
        id="not: cumulative, growth",
    ),
    pytest.param(
        [claim("a", interval(0, 150)), claim("b", exact(210), day=1, claimant="B")],
        set(),
        id="not: cumulative, the later interval lies above the earlier one",
    ),
    pytest.param(
        [claim("a", exact(225)), claim("b", interval(0, 150), claimant="B", recorded=1)],
        {(VM, ("a", "b"), None)},
        id="cumulative: same as_of, disjoint, higher recorded first",
    ),
    pytest.param(
        [claim("a", interval(0, 150)), claim("b", exact(225), claimant="B", recorded=1)],
        {(VM, ("a", "b"), None)},
        id="cumulative: same as_of, disjoint, lower recorded first",
    ),
    pytest.param(
        [claim("b", exact(225)), claim("a", interval(0, 150), claimant="B")],
        {(VM, ("a", "b"), None)},
        id="same as_of and recorded_at: the id breaks the tie",
    ),
    pytest.param(
        [claim("a", interval(100, 200)), claim("b", interval(150, 300), claimant="B")],
        set(),
        id="not: cumulative, same as_of, overlapping",
    ),
    pytest.param(
        [claim("a", interval(100, 200)), claim("b", interval(200, 300), claimant="B")],
        set(),
        id="not: cumulative, same as_of, touching",
    ),
    pytest.param(
        [claim("a", exact(300)), claim("b", exact(250), recorded=1)],
        {(VM, ("a", "b"), None)},
        id="same claimant, same as_of, disjoint: a mismatch, not a revision",
    ),
    # value_mismatch, stock metric
    pytest.param(
        [
            claim("a", exact(2500), metric="troops_deployed"),
            claim("b", exact(1000), metric="troops_deployed", claimant="B"),
        ],
        {(VM, ("a", "b"), None)},
        id="stock: same as_of, disjoint",
    ),
    pytest.param(
        [
            claim("a", exact(2500), metric="troops_deployed"),
            claim("b", exact(1000), metric="troops_deployed", claimant="B", day=1),
        ],
        set(),
        id="not: stock, a level may fall between dates",
    ),
    pytest.param(
        [
            claim("a", exact(1000), metric="troops_deployed"),
            claim("b", exact(2500), metric="troops_deployed", claimant="B", day=1),
        ],
        set(),
        id="not: stock, a level may rise between dates",
    ),
    pytest.param(
        [
            claim("a", interval(2000, 3000), metric="troops_deployed"),
            claim("b", exact(2500), metric="troops_deployed", claimant="B"),
        ],
        set(),
        id="not: stock, same as_of, overlapping",
    ),
    pytest.param(
        [
            claim("a", exact(2500), metric="troops_deployed"),
            claim("b", exact(1000), metric="troops_deployed", day=1),
        ],
        set(),
        id="not: stock, the same claimant lowering a level is no revision",
    ),
    # downward_revision
    pytest.param(
        [claim("a", exact(225), claimant="PG"), claim("b", exact(210), day=5, claimant="PG")],
        {(DR, ("a", "b"), None)},
        id="downward_revision: same claimant, cumulative, falls; no value_mismatch",
    ),
    pytest.param(
        [
            claim("a", exact(225), claimant="Prosecutor General"),
            claim("b", exact(210), day=5, claimant="  prosecutor   GENERAL "),
        ],
        {(DR, ("a", "b"), None)},
        id="downward_revision: claimants compared by key",
    ),
    pytest.param(
        [claim("a", exact(210), claimant="PG"), claim("b", exact(225), day=5, claimant="PG")],
        set(),
        id="not: downward_revision, the same claimant's count grows",
    ),
    pytest.param(
        [claim("a", exact(225)), claim("b", interval(200, None), day=5)],
        set(),
        id="not: downward_revision, the later high is open",
    ),
    pytest.param(
        [claim("a", exact(225)), claim("b", interval(200, 225), day=5)],
        set(),
        id="not: downward_revision, the later high equals the earlier low",
    ),
    pytest.param(
        [claim("a", exact(300), population="civilians"), claim("b", exact(210), day=1)],
        {(PEW, ("a", "b"), None)},
        id="same claimant, part above a later whole: part_exceeds_whole, not a revision",
    ),
    pytest.param(
        [claim("a", exact(300)), claim("b", exact(200), day=1, population="civilians")],
        set(),
        id="not: same claimant, a whole then a smaller part",
    ),
    # part_exceeds_whole
    pytest.param(
        [
            claim("part", interval(301, None), population="civilians", claimant="B"),
            claim("whole", exact(225), day=3),
        ],
        {(PEW, ("part", "whole"), None)},
        id="part_exceeds_whole: cumulative, the part earlier",
    ),
    pytest.param(
        [
            claim("whole", exact(225)),
            claim("part", exact(300), population="civilians", claimant="B", recorded=1),
        ],
        {(PEW, ("part", "whole"), None)},
        id="part_exceeds_whole: cumulative, same as_of, ordered part then whole",
    ),
    pytest.param(
        [
            claim("whole", exact(225)),
            claim("part", exact(300), population="civilians", claimant="B", day=3),
        ],
        set(),
        id="not: cumulative, the part counted later than the whole",
    ),
    pytest.param(
        [
            claim("part", exact(225), population="civilians", claimant="B"),
            claim("whole", exact(225)),
        ],
        set(),
        id="not: the part equals the whole",
    ),
    pytest.param(
        [
            claim("part", exact(300), population="civilians", claimant="B"),
            claim("whole", interval(100, None)),
        ],
        set(),
        id="not: the whole's high is open",
    ),
    pytest.param(
        [
            claim("part", interval(100, 400), population="civilians", claimant="B"),
            claim("whole", exact(225)),
        ],
        set(),
        id="not: only the part's high exceeds the whole",
    ),
    pytest.param(
        [
            claim("part", exact(300), population="children", claimant="B"),
            claim("whole", exact(225)),
        ],
        {(PEW, ("part", "whole"), None)},
        id="part_exceeds_whole: a grandchild against its grandparent",
    ),
    pytest.param(
        [
            claim("kids", exact(300), population="children", claimant="B"),
            claim("civs", exact(250), population="civilians", claimant="C"),
            claim("all", exact(225)),
        ],
        {
            (PEW, ("kids", "civs"), None),
            (PEW, ("kids", "all"), None),
            (PEW, ("civs", "all"), None),
        },
        id="part_exceeds_whole: the whole tree",
    ),
    pytest.param(
        [
            claim("part", exact(300), metric="missing", population="civilians", claimant="B"),
            claim("whole", exact(225), metric="missing"),
        ],
        {(PEW, ("part", "whole"), None)},
        id="part_exceeds_whole: stock, same as_of",
    ),
    pytest.param(
        [
            claim("part", exact(300), metric="missing", population="civilians", claimant="B"),
            claim("whole", exact(225), metric="missing", day=1),
        ],
        set(),
        id="not: stock, the part earlier than the whole",
    ),
    pytest.param(
        [
            claim("whole", exact(225), metric="missing"),
            claim("part", exact(300), metric="missing", population="civilians", day=1),
        ],
        set(),
        id="not: stock, the part later than the whole",
    ),
    # never compared
    pytest.param(
        [
            claim("civ", exact(300), population="civilians"),
            claim("sec", exact(16), population="security_forces", day=1, claimant="B"),
        ],
        set(),
        id="not: siblings civilians and security_forces",
    ),
    pytest.param(
        [
            claim("kids", exact(300), population="children"),
            claim("sec", exact(16), population="security_forces", claimant="B"),
        ],
        set(),
        id="not: children and security_forces",
    ),
    pytest.param(
        [claim("a", exact(225)), claim("b", interval(0, 150), day=1, metric="injuries")],
        set(),
        id="not: different metrics",
    ),
    pytest.param(
        [claim("a", exact(225)), claim("b", exact(100), day=1, location=" Almaty ")],
        set(),
        id="not: different locations",
    ),
    pytest.param(
        [claim("a", exact(225), location="ALMATY"), claim("b", exact(1), location="almaty")],
        {(VM, ("a", "b"), None)},
        id="locations compared by key",
    ),
    pytest.param(
        [claim("a", exact(225)), claim("b", exact(100), day=1, event="other")],
        set(),
        id="not: different events",
    ),
    # retracted claims take no part in value comparisons
    pytest.param(
        [claim("a", exact(225), retracted=True), claim("b", exact(100), day=1, claimant="B")],
        {(RF, ("a",), None)},
        id="not: value_mismatch with a retracted earlier claim",
    ),
    pytest.param(
        [claim("a", exact(225)), claim("b", exact(100), day=1, claimant="B", retracted=True)],
        {(RF, ("b",), None)},
        id="not: value_mismatch with a retracted later claim",
    ),
    pytest.param(
        [claim("a", exact(225)), claim("b", exact(210), day=1, retracted=True)],
        {(RF, ("b",), None)},
        id="not: downward_revision with a retracted claim",
    ),
    pytest.param(
        [
            claim("part", exact(300), population="civilians", claimant="B"),
            claim("whole", exact(225), retracted=True),
        ],
        {(RF, ("whole",), None)},
        id="not: part_exceeds_whole with a retracted whole",
    ),
]


@pytest.mark.parametrize(("claims", "expected"), PAIR_RULES)
def test_pair_rules(claims: list[ClaimFacts], expected: Seen) -> None:
    assert seen(find_conflicts(claims)) == expected


# --- SPEC §5, claim rules --------------------------------------------------------------------

CLAIM_RULES = [
    pytest.param(
        [claim("a", exact(1), retracted=True), claim("b", exact(2), metric="arrests")],
        {(RF, ("a",), None)},
        id="retracted_figure: one per retracted claim",
    ),
    pytest.param(
        [claim("a", exact(1), retracted=True), claim("b", exact(2), day=1, retracted=True)],
        {(RF, ("a",), None), (RF, ("b",), None)},
        id="retracted_figure: each retracted claim",
    ),
    pytest.param(
        [claim("orig", exact(164), retracted=True), claim("relay", exact(164), cites="orig")],
        {(RF, ("orig",), None), (CR, ("relay", "orig"), None)},
        id="cites_retracted: an active claim relays a retracted one",
    ),
    pytest.param(
        [
            claim("orig", exact(164), retracted=True),
            claim("relay", exact(9), metric="injuries", cites="orig"),
        ],
        {(RF, ("orig",), None), (CR, ("relay", "orig"), None)},
        id="cites_retracted: across groups",
    ),
    pytest.param(
        [claim("orig", exact(164)), claim("relay", exact(164), cites="orig")],
        set(),
        id="not: cites_retracted, the cited claim is active",
    ),
    pytest.param(
        [
            claim("orig", exact(164), retracted=True),
            claim("relay", exact(164), cites="orig", retracted=True),
        ],
        {(RF, ("orig",), None), (RF, ("relay",), None)},
        id="not: cites_retracted, the citing claim is retracted too",
    ),
    pytest.param(
        [claim("relay", exact(164), cites="elsewhere")],
        set(),
        id="not: cites_retracted, the cited claim is not given",
    ),
    pytest.param(
        [claim("a", exact(164), disputes=("d1", "d2"))],
        {(DISPUTED, ("a",), "d1"), (DISPUTED, ("a",), "d2")},
        id="disputed: one per open dispute",
    ),
    pytest.param(
        [claim("a", exact(164), disputes=("d1",), retracted=True)],
        {(RF, ("a",), None), (DISPUTED, ("a",), "d1")},
        id="disputed: a retracted claim's dispute is still open",
    ),
]


@pytest.mark.parametrize(("claims", "expected"), CLAIM_RULES)
def test_claim_rules(claims: list[ClaimFacts], expected: Seen) -> None:
    assert seen(find_conflicts(claims)) == expected


def test_claim_kinds_carry_no_gap() -> None:
    claims = [
        claim("orig", exact(164), retracted=True, disputes=("d1",)),
        claim("relay", exact(164), cites="orig"),
    ]
    assert all(f.gap is None for f in find_conflicts(claims))


# --- gaps ------------------------------------------------------------------------------------

GAPS = [
    pytest.param(
        [claim("a", exact(225)), claim("b", interval(0, 150), day=1, claimant="B")],
        Gap(75, 75 / 225),
        id="value_mismatch across dates",
    ),
    pytest.param(
        [claim("a", interval(0, 150)), claim("b", exact(225), claimant="B", recorded=1)],
        Gap(75, 75 / 225),
        id="value_mismatch on one date, lower first",
    ),
    pytest.param(
        [claim("a", exact(225)), claim("b", exact(210), day=5)],
        Gap(15, 15 / 225),
        id="downward_revision",
    ),
    pytest.param(
        [claim("p", interval(301, None), population="civilians"), claim("w", exact(225), day=3)],
        Gap(76, 76 / 301),
        id="part_exceeds_whole",
    ),
    pytest.param(
        [claim("a", exact(5)), claim("b", exact(0), day=1, claimant="B")],
        Gap(5, 1.0),
        id="a later zero",
    ),
]


@pytest.mark.parametrize(("claims", "expected"), GAPS)
def test_gap(claims: list[ClaimFacts], expected: Gap) -> None:
    (finding,) = find_conflicts(claims)
    assert finding.gap == expected


# --- involving -------------------------------------------------------------------------------


def test_involving_an_unknown_id_finds_nothing() -> None:
    assert find_conflicts([claim("a", exact(1), retracted=True)], involving="zzz") == []


def test_involving_a_retracted_claim_includes_who_cites_it() -> None:
    claims = [
        claim("orig", exact(164), retracted=True),
        claim("relay", exact(164), cites="orig"),
        claim("other", exact(1), retracted=True),
    ]
    assert seen(find_conflicts(claims, involving="orig")) == {
        (RF, ("orig",), None),
        (CR, ("relay", "orig"), None),
    }


def test_involving_examines_only_the_pairs_a_rule_can_compare(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two claimants' daily figures for 100 days: a claim of day 50 is compared with its own
    claimant's figures of days 49 and 51 and the other's figure of day 50, not with the 196
    figures that are no longer (or not yet) current then (SPEC §5, issue 14)."""
    examined: list[tuple[str, str]] = []
    original = conflicts._pair_findings

    def spy(x: ClaimFacts, y: ClaimFacts, following: Any) -> list[Finding]:
        examined.append((x.id, y.id))
        return original(x, y, following)

    monkeypatch.setattr(conflicts, "_pair_findings", spy)
    claims = [
        claim(f"{who}{day:03d}", exact(100 + day), day=day, claimant=who)
        for day in range(100)
        for who in ("A", "B")
    ]
    find_conflicts([*claims, claim("B050+", exact(1), day=50, claimant="B", recorded=1)], "A050")
    assert {pair[1] for pair in examined} == {"A049", "A051", "B050+"}
    assert all(pair[0] == "A050" for pair in examined)


def test_findings_are_sorted_by_key() -> None:
    claims = [
        claim("b", exact(225), disputes=("d9", "d1")),
        claim("a", interval(0, 150), day=1, claimant="B", retracted=True),
    ]
    keys = [f.key for f in find_conflicts(claims)]
    assert keys == sorted(keys)


# --- superseded_by ---------------------------------------------------------------------------

SUCCESSIONS = [
    pytest.param(
        [claim("a", exact(1)), claim("b", exact(2), day=1), claim("c", exact(3), day=2)],
        {"a": "b", "b": "c", "c": None},
        id="the nearest later claim",
    ),
    pytest.param(
        [claim("c", exact(3), day=2), claim("a", exact(1)), claim("b", exact(2), day=1)],
        {"a": "b", "b": "c", "c": None},
        id="input order does not matter",
    ),
    pytest.param(
        [
            claim("a", exact(1)),
            claim("b", exact(2), day=1, retracted=True),
            claim("c", exact(3), day=2),
        ],
        {"a": "c", "b": "c", "c": None},
        id="a retracted claim is skipped, and has a successor itself",
    ),
    pytest.param(
        [claim("a", exact(1)), claim("b", exact(2), day=1, retracted=True)],
        {"a": None, "b": None},
        id="only a retracted later claim",
    ),
    pytest.param(
        [claim("a", exact(1), recorded=5), claim("b", exact(2), recorded=9)],
        {"a": "b", "b": None},
        id="same as_of, recorded later",
    ),
    pytest.param(
        [claim("b", exact(2)), claim("a", exact(1))],
        {"a": "b", "b": None},
        id="same as_of and recorded_at: by id",
    ),
    pytest.param(
        [claim("a", exact(1), claimant="Tokayev"), claim("b", exact(2), day=1, claimant="tokayev")],
        {"a": "b", "b": None},
        id="claimants compared by key",
    ),
    pytest.param(
        [
            claim("a", exact(1)),
            claim("other claimant", exact(2), day=1, claimant="B"),
            claim("other population", exact(2), day=1, population="civilians"),
            claim("other metric", exact(2), day=1, metric="injuries"),
            claim("other location", exact(2), day=1, location="Almaty"),
            claim("other event", exact(2), day=1, event="other"),
        ],
        {
            "a": None,
            "other claimant": None,
            "other population": None,
            "other metric": None,
            "other location": None,
            "other event": None,
        },
        id="not: another claimant, population, metric, location or event",
    ),
    pytest.param([], {}, id="no claims"),
]


@pytest.mark.parametrize(("claims", "expected"), SUCCESSIONS)
def test_superseded_by(claims: list[ClaimFacts], expected: dict[str, str | None]) -> None:
    assert superseded_by(claims) == expected


# --- the worked example: examples/kazakhstan.json --------------------------------------------

MOH = "Kazakhstan Ministry of Health"
PG = "Prosecutor General of Kazakhstan"
CSTO = "Collective Security Treaty Organization"
TOKAYEV = "Kassym-Jomart Tokayev"
CLAIMANT_B = "Illustrative claimant B"
AT_LEAST_164 = Figure("at least 164", 164, None, None, Qualifier.AT_LEAST)
ALMOST_8000 = Figure("almost 8,000", 7200, 8000, 8000, Qualifier.ALMOST)
HUNDREDS = Figure("hundreds", 200, 999, None, Qualifier.VAGUE)
NO_MORE_THAN_150 = Figure("no more than 150", 0, 150, None, Qualifier.AT_MOST)
MORE_THAN_300 = Figure("more than 300", 301, None, None, Qualifier.MORE_THAN)


def kazakhstan_claims() -> list[ClaimFacts]:
    """The claims of kazakhstan.json after all its steps, recorded in step order."""
    claims = [
        claim("troops", exact(2500, "2,500"), day=10, metric="troops_deployed", claimant=CSTO),
        claim("arrests", ALMOST_8000, day=10, metric="arrests", claimant="Kazakh authorities"),
        claim("tv164", AT_LEAST_164, day=9, claimant=MOH, retracted=True),
        claim("dpa164", AT_LEAST_164, day=9, claimant=MOH, cites="tv164", disputes=("dpa-1",)),
        claim("guards", exact(16), day=10, population="security_forces", claimant=TOKAYEV),
        claim("injured", HUNDREDS, day=9, metric="injuries", claimant=MOH),
        claim("toll225", exact(225), day=15, claimant=PG),
        claim("sec19", exact(19), day=15, population="security_forces", claimant=PG),
        claim("illus_low", NO_MORE_THAN_150, day=16, claimant="Illustrative claimant A"),
        claim("illus_down", exact(210), day=20, claimant=PG),
        claim("illus_part", MORE_THAN_300, day=12, population="civilians", claimant=CLAIMANT_B),
    ]
    return [replace(c, recorded_at=RECORDED + timedelta(minutes=n)) for n, c in enumerate(claims)]


KAZAKHSTAN_OPEN = {
    (RF, ("tv164",)),
    (CR, ("dpa164", "tv164")),
    (DISPUTED, ("dpa164",)),
    (VM, ("toll225", "illus_low")),
    (VM, ("dpa164", "illus_low")),
    (DR, ("toll225", "illus_down")),
    (PEW, ("illus_part", "toll225")),
    (PEW, ("illus_part", "illus_low")),
    (PEW, ("illus_part", "illus_down")),
}
KAZAKHSTAN_NO_CONFLICT = [
    ("illus_low", "illus_down"),
    ("guards", "sec19"),
    ("sec19", "toll225"),
    ("dpa164", "toll225"),
    ("illus_part", "guards"),
    ("illus_low", "tv164"),
    ("troops", "arrests"),
]


def test_kazakhstan_open_conflicts_exactly() -> None:
    found = find_conflicts(kazakhstan_claims())
    assert {(f.kind, f.claims) for f in found} == KAZAKHSTAN_OPEN
    assert len(found) == len(KAZAKHSTAN_OPEN)


@pytest.mark.parametrize("pair", KAZAKHSTAN_NO_CONFLICT, ids="-".join)
def test_kazakhstan_no_conflict_between(pair: tuple[str, str]) -> None:
    assert not [f for f in find_conflicts(kazakhstan_claims()) if set(pair) <= set(f.claims)]


def test_kazakhstan_superseded_by() -> None:
    successors = superseded_by(kazakhstan_claims())
    assert successors["toll225"] == "illus_down"
    assert successors["illus_down"] is None
    assert successors["tv164"] == "dpa164"


def test_kazakhstan_details_are_sentences_to_paste() -> None:
    details = {(f.kind, f.claims): f.detail for f in find_conflicts(kazakhstan_claims())}
    assert details[(VM, ("toll225", "illus_low"))] == (
        "Prosecutor General of Kazakhstan (225, 2022-01-15) vs Illustrative claimant A"
        " (no more than 150, 2022-01-16): a cumulative count cannot fall between these dates."
    )
    assert details[(RF, ("tv164",))] == (
        "Kazakhstan Ministry of Health's figure (at least 164, 2022-01-09) was retracted."
    )
    assert details[(DR, ("toll225", "illus_down"))] == (
        "Prosecutor General of Kazakhstan (225, 2022-01-15) then Prosecutor General of"
        " Kazakhstan (210, 2022-01-20): the same claimant lowered a count that cannot fall."
    )
    assert details[(PEW, ("illus_part", "toll225"))] == (
        "Illustrative claimant B (more than 300, civilians, 2022-01-12) vs Prosecutor General"
        " of Kazakhstan (225, all, 2022-01-15): a part (civilians) cannot exceed its whole (all)."
    )
    assert details[(CR, ("dpa164", "tv164"))] == (
        "Kazakhstan Ministry of Health's figure (at least 164, 2022-01-09) cites Kazakhstan"
        " Ministry of Health's figure (at least 164, 2022-01-09), which was retracted."
    )
    assert details[(DISPUTED, ("dpa164",))] == (
        "Kazakhstan Ministry of Health's figure (at least 164, 2022-01-09) is disputed."
    )


def test_kazakhstan_retracting_clears_value_conflicts() -> None:
    claims = [
        replace(c, retracted=c.id == "illus_part" or c.retracted) for c in kazakhstan_claims()
    ]
    kinds = {(f.kind, f.claims) for f in find_conflicts(claims)}
    assert (RF, ("illus_part",)) in kinds
    assert not {k for k in kinds if k[0] is PEW}


# --- properties ------------------------------------------------------------------------------


@st.composite
def ledgers(draw: st.DrawFn) -> list[ClaimFacts]:
    """Up to 9 claims over a small universe, so that groups, ties and cites collide often.
    Their ids are even (c00, c02 ... c16): an odd id sorts right after one of them."""
    count = draw(st.integers(0, 9))
    return [draw(_claims(f"c{2 * index:02d}")) for index in range(count)]


@st.composite
def _claims(draw: st.DrawFn, claim_id: str) -> ClaimFacts:
    low = draw(st.integers(0, 40))
    width = draw(st.none() | st.integers(0, 20))
    return claim(
        claim_id,
        interval(low, None if width is None else low + width),
        day=draw(st.integers(0, 3)),
        metric=draw(st.sampled_from(["deaths", "missing"])),
        population=draw(st.sampled_from(list(ANCESTORS))),
        claimant=draw(st.sampled_from(["Claimant A", " claimant  a", "Claimant B", "C"])),
        location=draw(st.sampled_from(["", "Almaty"])),
        recorded=draw(st.integers(0, 2)),
        retracted=draw(st.sampled_from([False, False, False, True])),
        cites=draw(st.none() | st.integers(0, 10).map(lambda i: f"c{2 * i:02d}")),
        disputes=tuple(f"{claim_id}-d{k}" for k in range(draw(st.integers(0, 2)))),
    )


@PROPERTY
@given(claims=ledgers(), data=st.data())
def test_findings_do_not_depend_on_input_order(
    claims: list[ClaimFacts], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(claims))
    assert find_conflicts(shuffled) == find_conflicts(claims)
    assert superseded_by(shuffled) == superseded_by(claims)


@PROPERTY
@given(claims=ledgers())
def test_involving_is_the_full_result_filtered(claims: list[ClaimFacts]) -> None:
    full = find_conflicts(claims)
    union: set[Finding] = set()
    for subject in claims:
        involving = find_conflicts(claims, involving=subject.id)
        assert involving == [f for f in full if subject.id in f.claims]
        union.update(involving)
    assert union == set(full)


@PROPERTY
@given(claims=ledgers(), data=st.data())
def test_retracting_and_restating_changes_only_findings_about_the_retracted(
    claims: list[ClaimFacts], data: st.DataObject
) -> None:
    """Retract X, add X' (X's facts under a new id, maybe recorded later):

    1. the findings without X's id are those found before, with X renamed X' — exactly when
       X' is recorded at X's moment (its id sorts like X's among the others), and up to the
       order of the pair when recorded later (only same-as_of ties can flip) unless X's own
       series has another claim of X's date;
    2. the findings with X's id are retracted_figure(X), disputed(X) for each of its open
       disputes, and cites_retracted(C, X) for each active C that cites X (X' included).
    """
    if not claims:
        return
    index = data.draw(st.integers(0, len(claims) - 1))
    before = [*claims[:index], replace(claims[index], retracted=False), *claims[index + 1 :]]
    subject = before[index]
    delay = data.draw(st.integers(0, 3))
    restated = replace(
        subject,
        id=f"c{int(subject.id[1:]) + 1:02d}",  # the odd id after X's: it sorts like X's
        recorded_at=subject.recorded_at + timedelta(minutes=delay),
    )
    after = [*claims[:index], replace(subject, retracted=True), *claims[index + 1 :], restated]

    def renamed(f: Finding) -> Finding:
        ids = tuple(restated.id if i == subject.id else i for i in f.claims)
        return replace(f, claims=ids)

    found_after = find_conflicts(after)
    unrelated = {f for f in found_after if subject.id not in f.claims}
    expected = {renamed(f) for f in find_conflicts(before)}
    if delay == 0:
        assert unrelated == expected
    # Recorded later, X' may follow a claim of its own series of the same date that X came
    # before: one claimant's claims of one date are ordered by recording, on purpose (SPEC §5),
    # so which of them is current changes too.
    same_date = [
        c
        for c in before
        if c.id != subject.id
        and not c.retracted
        and _chain(c) == _chain(subject)
        and c.as_of == subject.as_of
    ]
    if delay == 0 or not same_date:
        assert _unordered(unrelated) == _unordered(expected)

    about_subject = seen(f for f in found_after if subject.id in f.claims)
    citers = [c.id for c in after if c.cites == subject.id and not c.retracted]
    assert about_subject == {
        (RF, (subject.id,), None),
        *((DISPUTED, (subject.id,), d) for d in subject.open_disputes),
        *((CR, (c, subject.id), None) for c in citers),
    }


def _unordered(
    findings: Iterable[Finding],
) -> set[tuple[ConflictKind, frozenset[str], str | None, Gap | None]]:
    return {(f.kind, frozenset(f.claims), f.dispute, f.gap) for f in findings}


@PROPERTY
@given(claims=ledgers())
def test_value_findings_are_between_active_claims_with_a_positive_gap(
    claims: list[ClaimFacts],
) -> None:
    retracted = {c.id for c in claims if c.retracted}
    for finding in find_conflicts(claims):
        if finding.kind in VALUE_KINDS:
            assert not retracted & set(finding.claims)
            assert finding.gap is not None
            assert finding.gap.absolute > 0
            assert 0 < finding.gap.relative <= 1
        else:
            assert finding.gap is None


@PROPERTY
@given(claims=ledgers())
def test_pair_findings_are_the_spec_table(claims: list[ClaimFacts]) -> None:
    expected: set[tuple[ConflictKind, tuple[str, ...]]] = set()
    ordered = sorted(claims, key=conflicts.chronology)
    for index, a in enumerate(ordered):
        for b in ordered[index + 1 :]:
            expected |= _spec_pair_kinds(a, b, claims)
    found = {(f.kind, f.claims) for f in find_conflicts(claims) if f.kind in VALUE_KINDS}
    assert found == expected


def _next_in_series(c: ClaimFacts, claims: list[ClaimFacts]) -> ClaimFacts | None:
    """The next active claim of c's claimant, group and population, in chronological order."""
    later = [
        d
        for d in claims
        if not d.retracted
        and _chain(d) == _chain(c)
        and conflicts.chronology(d) > conflicts.chronology(c)
    ]
    return min(later, key=conflicts.chronology) if later else None


def _current(c: ClaimFacts, t: date, claims: list[ClaimFacts]) -> bool:
    """SPEC §5: c is its claimant's current figure at t from its as_of until the next claim
    of its series whose as_of <= t."""
    after = _next_in_series(c, claims)
    return c.as_of <= t and (after is None or after.as_of > t)


def _spec_pair_kinds(
    a: ClaimFacts, b: ClaimFacts, claims: list[ClaimFacts]
) -> set[tuple[ConflictKind, tuple[str, ...]]]:
    """SPEC §5's pair rows, transcribed as literally as possible, for A before B."""
    same_group = (a.event, a.metric, a.location_key) == (b.event, b.metric, b.location_key)
    if a.retracted or b.retracted or not same_group:
        return set()
    cumulative = a.metric_kind is MetricKind.CUMULATIVE
    fell = b.figure.high is not None and a.figure.low > b.figure.high
    rose_apart = a.figure.high is not None and b.figure.low > a.figure.high
    same_day = a.as_of == b.as_of
    disjoint = fell or rose_apart
    consecutive = a.claimant_key == b.claimant_key and _next_in_series(a, claims) is b
    found: set[tuple[ConflictKind, tuple[str, ...]]] = set()
    if a.population == b.population:
        both_current = _current(a, b.as_of, claims) and _current(b, b.as_of, claims)
        if cumulative and consecutive and a.as_of < b.as_of and fell:
            found.add((DR, (a.id, b.id)))
        elif a.claimant_key != b.claimant_key and both_current:
            if (cumulative and a.as_of < b.as_of and fell) or (same_day and disjoint):
                found.add((VM, (a.id, b.id)))
        elif consecutive and same_day and disjoint:
            found.add((VM, (a.id, b.id)))
    for part, whole in ((a, b), (b, a)):
        at = whole.as_of
        current = _current(part, at, claims) and _current(whole, at, claims)
        in_time = part.as_of <= whole.as_of if cumulative else part.as_of == whole.as_of
        exceeds = whole.figure.high is not None and part.figure.low > whole.figure.high
        if whole.population in part.population_ancestors and current and in_time and exceeds:
            found.add((PEW, (part.id, whole.id)))
    return found


@PROPERTY
@given(claims=ledgers())
def test_superseded_by_names_the_nearest_later_active_claim_of_the_same_chain(
    claims: list[ClaimFacts],
) -> None:
    successors = superseded_by(claims)
    assert set(successors) == {c.id for c in claims}
    for c in claims:
        later = [
            d
            for d in claims
            if not d.retracted
            and conflicts.chronology(d) > conflicts.chronology(c)
            and _chain(d) == _chain(c)
        ]
        nearest = min(later, key=conflicts.chronology).id if later else None
        assert successors[c.id] == nearest


def _chain(c: ClaimFacts) -> tuple[str, ...]:
    return (c.event, c.metric, c.location_key, c.population, c.claimant_key)


def test_sentences_name_the_sources_and_the_dispute() -> None:
    tv = replace(
        claim("tv", interval(164, None), claimant="Ministry of Health", retracted=True),
        source="Khabar 24",
    )
    relay = replace(
        claim("relay", interval(164, None), claimant="Ministry of Health", cites="tv"),
        source="dpa",
        open_disputes=("7",),
        dispute_notes=(OpenDispute("7", "Deutsche Presse-Agentur", "The numbers are unclear"),),
    )
    details = {(f.kind, f.claims): f.detail for f in find_conflicts([tv, relay])}
    assert details[(CR, ("relay", "tv"))] == (
        "dpa relays a figure that Khabar 24 retracted: at least 164 (Ministry of Health,"
        " 2021-12-31)."
    )
    assert details[(RF, ("tv",))] == (
        "Ministry of Health's figure (at least 164, 2021-12-31), published by Khabar 24,"
        " was retracted."
    )
    assert details[(DISPUTED, ("relay",))] == (
        "Ministry of Health's figure (at least 164, 2021-12-31), published by dpa, is disputed"
        " by Deutsche Presse-Agentur: The numbers are unclear."
    )


# --- what detection reads of a group (issue 14) ---------------------------------------------


@PROPERTY
@given(claims=ledgers())
def test_the_comparable_claims_give_a_subjects_pair_findings(claims: list[ClaimFacts]) -> None:
    for subject in claims:
        near = conflicts.comparable(claims, [subject]) | {subject.id}
        picked = [c for c in claims if c.id in near]
        expected = find_conflicts(claims, involving=subject.id)
        found = find_conflicts(picked, involving=subject.id)
        assert [f for f in found if f.kind in VALUE_KINDS] == [
            f for f in expected if f.kind in VALUE_KINDS
        ]


def test_on_a_long_story_a_claim_is_compared_with_a_few_current_figures() -> None:
    # Two claimants and three populations, a figure each a day for a year: 2,190 claims.
    story = [
        claim(f"{who}-{population}-{day}", exact(day + 10), day=day, claimant=who,
              population=population)
        for day in range(365)
        for who in ("Ministry", "Agency")
        for population in ("all", "civilians", "children")
    ]  # fmt: skip
    today = claim("new", exact(5), day=365, claimant="Observatory")
    near = conflicts.comparable([*story, today], [today])
    # The six series' figures current at its date: what it can be compared with.
    assert near == {f"{who}-{p}-364" for who in ("Ministry", "Agency") for p in ANCESTORS} - {
        f"{who}-security_forces-364" for who in ("Ministry", "Agency")
    }
    in_the_middle = story[6 * 180]  # Ministry, all, day 180
    near = conflicts.comparable(story, [in_the_middle])
    assert len(near) <= 6 * 3  # neighbours, current and dated-while figures, their successors
