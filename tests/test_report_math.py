"""The arithmetic of a report group, SPEC §6."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.model import ClaimFacts, Figure, MetricKind, Qualifier
from app.domain.report import consensus, independent_origins, latest_by_claimant, value_range

START = date(2021, 12, 31)  # day N is 2022-01-N
RECORDED = datetime(2022, 1, 20, 12, 0, tzinfo=UTC)
PROPERTY = settings(database=None, max_examples=300, deadline=None)


def interval(low: int, high: int | None, text: str | None = None) -> Figure:
    """A figure [low, high] (high None = open)."""
    return Figure(text or f"{low}-{high}", low, high, None, Qualifier.RANGE)


def claim(
    claim_id: str,
    figure: Figure | int,
    *,
    day: int = 1,
    claimant: str = "Claimant A",
    recorded: int = 0,
    retracted: bool = False,
    cites: str | None = None,
) -> ClaimFacts:
    """A deaths claim on 2022-01-`day` (an int figure is exact), recorded after RECORDED."""
    if isinstance(figure, int):
        figure = Figure(str(figure), figure, figure, figure, Qualifier.EXACT)
    return ClaimFacts(
        id=claim_id,
        event="unrest",
        metric="deaths",
        metric_kind=MetricKind.CUMULATIVE,
        population="all",
        population_ancestors=(),
        location_key="",
        figure=figure,
        as_of=START + timedelta(days=day),
        claimant=claimant,
        claimant_key=" ".join(claimant.casefold().split()),
        recorded_at=RECORDED + timedelta(minutes=recorded),
        retracted=retracted,
        cites=cites,
    )


def ids(claims: list[ClaimFacts]) -> list[str]:
    return [c.id for c in claims]


# --- latest_by_claimant ----------------------------------------------------------------------

LATEST = [
    pytest.param([], [], id="no claims"),
    pytest.param(
        [claim("a1", 1), claim("a2", 2, day=3), claim("a0", 0, day=2)],
        ["a2"],
        id="the greatest as_of",
    ),
    pytest.param(
        [claim("a1", 1, recorded=9), claim("a2", 2, recorded=3)],
        ["a1"],
        id="same as_of: the latest recorded",
    ),
    pytest.param([claim("b", 1), claim("a", 2)], ["b"], id="same as_of and recorded_at: by id"),
    pytest.param(
        [claim("a1", 1), claim("a2", 2, day=3, retracted=True)],
        ["a1"],
        id="a retracted claim gives way to the claimant's latest active one",
    ),
    pytest.param(
        [claim("a", 1), claim("b", 2, claimant="B", retracted=True)],
        ["a"],
        id="a claimant with only retracted claims is left out",
    ),
    pytest.param(
        [
            claim("z", 1, claimant="Zeta"),
            claim("a", 2, claimant="alpha"),
            claim("m", 3, claimant="Mu"),
        ],
        ["a", "m", "z"],
        id="ordered by claimant_key",
    ),
    pytest.param(
        [claim("x", 1, claimant="Tokayev"), claim("y", 2, day=2, claimant=" TOKAYEV ")],
        ["y"],
        id="claimants compared by key",
    ),
]


@pytest.mark.parametrize(("claims", "expected"), LATEST)
def test_latest_by_claimant(claims: list[ClaimFacts], expected: list[str]) -> None:
    assert ids(latest_by_claimant(claims)) == expected


# --- range and consensus ---------------------------------------------------------------------

INTERVALS = [
    # (intervals, range, consensus)
    pytest.param([], None, None, id="no claims"),
    pytest.param([(7200, 8000)], (7200, 8000), (7200, 8000), id="one claim"),
    pytest.param([(100, 200), (150, 300)], (100, 300), (150, 200), id="overlapping"),
    pytest.param([(100, 200), (200, 300)], (100, 300), (200, 200), id="touching"),
    pytest.param([(0, 150), (225, 225)], (0, 225), None, id="disjoint: no consensus"),
    pytest.param([(164, None), (225, 225)], (164, None), (225, 225), id="one open high"),
    pytest.param([(164, None), (300, None)], (164, None), (300, None), id="all open"),
    pytest.param([(164, None), (0, 150)], (0, None), None, id="open, but disjoint"),
]


@pytest.mark.parametrize(("intervals", "expected_range", "expected_consensus"), INTERVALS)
def test_range_and_consensus(
    intervals: list[tuple[int, int | None]],
    expected_range: tuple[int, int | None] | None,
    expected_consensus: tuple[int, int | None] | None,
) -> None:
    latest = [
        claim(f"c{n}", interval(low, high), claimant=f"C{n}")
        for n, (low, high) in enumerate(intervals)
    ]
    assert value_range(latest) == expected_range
    assert consensus(latest) == expected_consensus


# --- independent_origins ---------------------------------------------------------------------

ORIGINS = [
    pytest.param([], [], 0, id="no claims"),
    pytest.param([claim("a", 1), claim("b", 2, claimant="B")], ["a", "b"], 2, id="two claimants"),
    pytest.param(
        [claim("a", 1), claim("a2", 2, day=2)], ["a", "a2"], 1, id="one claimant counts once"
    ),
    pytest.param(
        [
            claim("ministry", 164, claimant="Ministry"),
            claim("tv", 164, claimant="TV", cites="ministry"),
        ],
        ["ministry", "tv"],
        1,
        id="a relay counts with the claim it cites",
    ),
    pytest.param(
        [
            claim("ministry", 164, claimant="Ministry"),
            claim("tv", 164, claimant="TV", cites="ministry"),
            claim("agency", 164, claimant="Agency", cites="tv"),
        ],
        ["agency"],
        1,
        id="the chain is followed to its root",
    ),
    pytest.param(
        [claim("agency", 164, claimant="Agency", cites="missing")],
        ["agency"],
        1,
        id="a cited id not given: the citing claim is the root",
    ),
    pytest.param(
        [claim("a", 1, cites="a")],
        ["a"],
        1,
        id="a claim citing itself",
    ),
    pytest.param(
        [claim("a", 1, claimant="A", cites="b"), claim("b", 2, claimant="B", cites="a")],
        ["a", "b"],
        1,
        id="a cycle has one root, whichever claim it is entered from",
    ),
    pytest.param(
        [
            claim("a", 1, claimant="A", cites="b"),
            claim("b", 2, claimant="B", cites="c"),
            claim("c", 3, claimant="C", cites="b"),
        ],
        ["a", "c"],
        1,
        id="a chain that ends in a cycle",
    ),
    pytest.param(
        [
            claim("origin", 164, claimant="Ministry", retracted=True),
            claim("relay", 164, claimant="Agency", cites="origin"),
            claim("own", 170, claimant="NGO"),
        ],
        ["relay", "own"],
        2,
        id="a retracted root still names the origin",
    ),
]


@pytest.mark.parametrize(("claims", "latest", "expected"), ORIGINS)
def test_independent_origins(claims: list[ClaimFacts], latest: list[str], expected: int) -> None:
    by_id = {c.id: c for c in claims}
    assert independent_origins([by_id[i] for i in latest], by_id) == expected


# --- the worked example: examples/kazakhstan.json --------------------------------------------

MOH = "Kazakhstan Ministry of Health"
PG = "Prosecutor General of Kazakhstan"
AT_LEAST_164 = Figure("at least 164", 164, None, None, Qualifier.AT_LEAST)


def test_kazakhstan_arrests_group() -> None:
    arrests = claim("arrests", interval(7200, 8000, "almost 8,000"), day=10)
    latest = latest_by_claimant([arrests])
    assert latest == [arrests]
    assert value_range(latest) == (7200, 8000)
    assert consensus(latest) == (7200, 8000)
    assert independent_origins(latest, {arrests.id: arrests}) == 1


def test_kazakhstan_deaths_of_all() -> None:
    claims = [
        claim("tv164", AT_LEAST_164, day=9, claimant=MOH, retracted=True),
        claim("dpa164", AT_LEAST_164, day=9, claimant=MOH, cites="tv164", recorded=1),
        claim("toll225", 225, day=15, claimant=PG, recorded=2),
        claim("illus_low", interval(0, 150), day=16, claimant="Illustrative claimant A"),
        claim("illus_down", 210, day=20, claimant=PG, recorded=4),
    ]
    latest = latest_by_claimant(claims)
    assert ids(latest) == ["illus_low", "dpa164", "illus_down"]
    assert value_range(latest) == (0, None)
    assert consensus(latest) is None
    assert independent_origins(latest, {c.id: c for c in claims}) == 3


# --- properties ------------------------------------------------------------------------------


@st.composite
def groups(draw: st.DrawFn) -> list[ClaimFacts]:
    """Up to 8 claims of one group by a few claimants, some citing others."""
    count = draw(st.integers(0, 8))
    return [draw(_claims(f"c{index}")) for index in range(count)]


@st.composite
def _claims(draw: st.DrawFn, claim_id: str) -> ClaimFacts:
    low = draw(st.integers(0, 40))
    width = draw(st.none() | st.integers(0, 20))
    return claim(
        claim_id,
        interval(low, None if width is None else low + width),
        day=draw(st.integers(1, 4)),
        claimant=draw(st.sampled_from(["A", " a", "B", "C"])),
        recorded=draw(st.integers(0, 2)),
        retracted=draw(st.booleans()),
        cites=draw(st.none() | st.integers(0, 9).map(lambda i: f"c{i}")),
    )


@PROPERTY
@given(claims=groups(), data=st.data())
def test_latest_by_claimant_does_not_depend_on_input_order(
    claims: list[ClaimFacts], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(claims))
    assert latest_by_claimant(shuffled) == latest_by_claimant(claims)


@PROPERTY
@given(claims=groups())
def test_latest_is_one_active_claim_per_claimant(claims: list[ClaimFacts]) -> None:
    latest = latest_by_claimant(claims)
    keys = [c.claimant_key for c in latest]
    assert keys == sorted(set(keys))
    assert set(keys) == {c.claimant_key for c in claims if not c.retracted}
    assert not [c for c in latest if c.retracted]


@PROPERTY
@given(claims=groups())
def test_consensus_lies_in_every_interval_and_the_range_covers_them(
    claims: list[ClaimFacts],
) -> None:
    latest = latest_by_claimant(claims)
    span, agreed = value_range(latest), consensus(latest)
    for figure in (c.figure for c in latest):
        assert span is not None
        assert span[0] <= figure.low
        assert span[1] is None or (figure.high is not None and figure.high <= span[1])
        if agreed is not None:
            assert figure.low <= agreed[0]
            assert figure.high is None or (agreed[1] is not None and agreed[1] <= figure.high)


@PROPERTY
@given(claims=groups())
def test_independent_origins_is_at_most_the_number_of_claimants(claims: list[ClaimFacts]) -> None:
    latest = latest_by_claimant(claims)
    origins = independent_origins(latest, {c.id: c for c in claims})
    assert (origins == 0) == (not latest)
    assert origins <= len(latest)
