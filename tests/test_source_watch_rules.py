"""Source watch (SPEC §13) without a database: the watch state, the two rules, and how a
figure is found in a page's text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from app.domain.conflicts import find_conflicts
from app.domain.model import ClaimFacts, ConflictKind, Figure, MetricKind, Qualifier
from app.domain.watch import Check, Outcome, State, WatchState, advance, figure_in, outcome_of
from app.services.watch import Fetched, host_key, page_text

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
GRACE = timedelta(hours=24)
URL = "https://tv.example/news/1"
SU = ConflictKind.SOURCE_UNAVAILABLE
FNIS = ConflictKind.FIGURE_NOT_IN_SOURCE


def checks(*steps: tuple[float, int | None, bool | None]) -> WatchState:
    """The state after checks (hours after T0, status, figure_found), from a fresh watch."""
    state = WatchState(URL)
    for hours, status, found in steps:
        error = "ConnectError" if status is None else None
        state = advance(state, Check(T0 + timedelta(hours=hours), status, error, found), GRACE)
    return state


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.READ),
        (204, Outcome.READ),
        (304, Outcome.UNCHANGED),
        (404, Outcome.GONE),
        (410, Outcome.GONE),
        (500, Outcome.FAILED),
        (503, Outcome.FAILED),
        (403, Outcome.FAILED),
        (None, Outcome.FAILED),
    ],
)
def test_outcomes(status: int | None, outcome: Outcome) -> None:
    assert outcome_of(status) is outcome


def test_a_page_that_shows_the_figure_is_found_and_holds_nothing() -> None:
    state = checks((0, 200, True))
    assert state.state is State.FOUND
    assert not state.unavailable
    assert not state.figure_missing


def test_a_figure_edited_away_is_missing_only_if_a_check_found_it_before() -> None:
    assert checks((0, 200, True), (6, 200, False)).state is State.FIGURE_MISSING
    assert checks((0, 200, False), (6, 200, False)).state is State.NOT_FOUND


def test_404_and_410_are_unavailable_at_once() -> None:
    for status in (404, 410):
        state = checks((0, 200, True), (6, status, None))
        assert state.unavailable
        assert state.state is State.UNAVAILABLE


def test_failures_within_the_grace_period_change_nothing() -> None:
    state = checks((0, 200, True), (1, 503, None), (13, None, None), (24.9, 500, None))
    assert state.state is State.FAILING
    assert not state.unavailable
    assert not state.figure_missing
    assert state.failing_since == T0 + timedelta(hours=1)


def test_failing_every_check_for_the_grace_period_is_unavailable() -> None:
    state = checks((0, 200, True), (1, 503, None), (13, None, None), (25, 502, None))
    assert state.unavailable


def test_failures_do_not_clear_a_missing_figure() -> None:
    state = checks((0, 200, True), (6, 200, False), (12, 503, None))
    assert state.figure_missing


def test_a_page_read_with_the_figure_clears_both() -> None:
    assert checks((0, 200, True), (6, 404, None), (12, 200, True)).state is State.FOUND
    assert checks((0, 200, True), (6, 200, False), (12, 200, True)).state is State.FOUND
    back = checks((0, 200, True), (1, 503, None), (30, 503, None), (31, 200, True))
    assert back.state is State.FOUND
    assert back.failing_since is None


def test_a_page_back_without_the_figure_turns_unavailable_into_figure_missing() -> None:
    state = checks((0, 200, True), (6, 404, None), (12, 200, False))
    assert state.state is State.FIGURE_MISSING


def test_unchanged_keeps_the_state() -> None:
    missing = checks((0, 200, True), (6, 200, False))
    assert advance(missing, Check(T0 + timedelta(hours=12), 304), GRACE).figure_missing
    found = checks((0, 200, True))
    assert advance(found, Check(T0 + timedelta(hours=12), 304), GRACE).state is State.FOUND


def test_one_conflict_per_claim_while_the_page_is_gone() -> None:
    state = checks((0, 200, True), (6, 200, False), (12, 404, None))
    assert state.unavailable
    assert not state.figure_missing


# --- the rules --------------------------------------------------------------------------------


def facts(watch: WatchState | None, *, retracted: bool = False) -> ClaimFacts:
    return ClaimFacts(
        id="1",
        event="quake",
        metric="deaths",
        metric_kind=MetricKind.CUMULATIVE,
        population="all",
        population_ancestors=(),
        location_key="",
        figure=Figure("at least 8,000", 8000, None, None, Qualifier.AT_LEAST),
        as_of=date(2023, 2, 7),
        claimant="State TV",
        claimant_key="state tv",
        recorded_at=T0,
        retracted=retracted,
        source="State TV",
        watch=watch,
    )


def kinds(claim: ClaimFacts) -> list[ConflictKind]:
    return [f.kind for f in find_conflicts([claim])]


def test_source_unavailable_names_the_url_and_the_answer() -> None:
    [finding] = find_conflicts([facts(checks((0, 200, True), (6, 404, None)))])
    assert finding.kind is SU
    assert finding.claims == ("1",)
    assert finding.key == "source_unavailable:1:"
    assert URL in finding.detail
    assert "answered 404" in finding.detail
    assert "State TV's figure (at least 8,000, 2023-02-07)" in finding.detail


def test_source_unavailable_after_the_grace_period_says_since_when() -> None:
    [finding] = find_conflicts([facts(checks((0, 503, None), (25, None, None)))])
    assert finding.kind is SU
    assert "has failed every check since 2026-12-01 08:00 UTC" in finding.detail


def test_figure_not_in_source() -> None:
    [finding] = find_conflicts([facts(checks((0, 200, True), (6, 200, False)))])
    assert finding.kind is FNIS
    assert URL in finding.detail


def test_nothing_holds_for_a_page_that_is_fine_failing_briefly_or_never_checked() -> None:
    assert kinds(facts(None)) == []
    assert kinds(facts(WatchState(URL))) == []
    assert kinds(facts(checks((0, 200, True)))) == []
    assert kinds(facts(checks((0, 200, True), (1, 503, None)))) == []
    assert kinds(facts(checks((0, 200, False), (6, 200, False)))) == []


def test_a_retracted_claim_is_no_longer_watched() -> None:
    gone = checks((0, 200, True), (6, 404, None))
    assert kinds(facts(gone, retracted=True)) == [ConflictKind.RETRACTED_FIGURE]


def test_the_rules_look_only_at_the_claim_involved() -> None:
    gone = facts(checks((0, 404, None)))
    other = replace(facts(None), id="2", claimant="Ministry", claimant_key="ministry")
    assert [f.kind for f in find_conflicts([gone, other], involving="2")] == []
    assert [f.kind for f in find_conflicts([gone, other], involving="1")] == [SU]


# --- finding the figure -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("figure", "page"),
    [
        ("8,000", "At least 8,000 people died."),
        ("8,000", "At least 8 000 people died."),
        ("8,000", "At least 8000 people died."),
        ("8000", "At least 8.000 personas murieron."),
        ("8,000", "At least 8\u00a0000 people died."),
        ("8,000", "At least 8\u202f000 people died."),
        ("at least 8,000", "AT   LEAST\n8 000 people"),
        ("1,250,000", "1 250 000 displaced"),
        ("200", "on day 7 200 more were found"),  # "7 200" read as one number, and as two
        ("about 160", "About 160 dead"),
    ],
)
def test_the_figure_is_found_whatever_its_spacing_case_and_separators(
    figure: str, page: str
) -> None:
    assert figure_in(page, figure, None)


@pytest.mark.parametrize(
    ("figure", "page"),
    [
        ("164", "1640 dead"),
        ("164", "2164 dead"),
        ("8,000", "18,000 dead"),
        ("8,000", "8,0001 dead"),
        ("at least 164", "at least 16 people"),
        ("164", ""),
    ],
)
def test_a_number_never_matches_part_of_another(figure: str, page: str) -> None:
    assert not figure_in(page, figure, None)


def test_the_quote_counts_too_with_typographic_quotes_and_dashes() -> None:
    quote = "\u201cWe have lost 8,000 people\u201d \u2014 the minister said"
    page = 'He said: "we have lost 8 000 people" - the minister said on Tuesday'
    assert figure_in(page, "no such figure", quote)
    assert not figure_in(page, "no such figure", "a quote that is not there")
    assert not figure_in("anything", "nothing", "   ")


def html(body: str, content_type: str = "text/html") -> Fetched:
    return Fetched(200, body=body.encode(), content_type=content_type, charset="utf-8")


def test_the_visible_text_of_a_page() -> None:
    text = page_text(
        html(
            "<html><head><title>8,000</title><script>var toll = '8,000'</script></head>"
            "<body><style>p{}</style><p>At least <b>8,</b>000 de<i>ad</i></p><div>x</div>"
            "tail<p hidden>hidden 9,000</p><template>9,000</template><table><tr><td>1"
            "</td><td>2</td></tr></table></body></html>"
        )
    )
    assert text is not None
    assert " ".join(text.split()) == "At least 8,000 dead x tail 1 2"


def test_text_is_read_as_text_and_other_answers_say_nothing() -> None:
    assert page_text(html("8,000 <b>dead</b>", "text/plain")) == "8,000 <b>dead</b>"
    assert page_text(html("%PDF-1.7", "application/pdf")) is None
    assert (page_text(html("<p>no content type</p>", "")) or "").strip() == "no content type"


def test_the_charset_of_the_page_is_honoured() -> None:
    body = '<meta charset="windows-1251"><p>Погибли 8 000</p>'.encode("windows-1251")
    text = page_text(Fetched(200, body=body, content_type="text/html"))
    assert text is not None
    assert "Погибли 8 000" in text


def test_hosts_are_named_with_their_port() -> None:
    assert host_key("https://TV.example/a") == "tv.example:443"
    assert host_key("http://tv.example/a") == "tv.example:80"
    assert host_key("http://127.0.0.1:8081/a") == "127.0.0.1:8081"
