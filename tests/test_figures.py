"""The figure grammar of SPEC §2, row by row, and its properties."""

from __future__ import annotations

import ast
import contextlib
import math
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, reject, settings
from hypothesis import strategies as st

from app.domain import figures
from app.domain.figures import (
    QUALIFIER_PHRASES,
    SUFFIX_PHRASES,
    VAGUE_WORDS,
    figure_from_parts,
    find_figures,
    parse_figure,
    render_figure,
)
from app.domain.model import MAX_COUNT, Figure, InvalidFigure, Qualifier

Q = Qualifier
OPEN = None
PROPERTY = settings(database=None, max_examples=300, deadline=None)
# SPEC's seed article retold in our own words: the same five figures, and no other numbers.
ARTICLE = Path(__file__).parent / "data" / "article.txt"
Shape = tuple[Qualifier, int, int | None, int | None]


def shape(figure: Figure) -> Shape:
    """What a figure means, without its text."""
    return figure.qualifier, figure.low, figure.high, figure.point


def assert_well_formed(figure: Figure) -> None:
    """The invariants every Figure of this module keeps."""
    assert 0 <= figure.low <= MAX_COUNT
    assert figure.high is None or figure.low <= figure.high <= MAX_COUNT
    assert (figure.high is None) == (figure.qualifier in (Q.AT_LEAST, Q.MORE_THAN))
    if figure.point is not None:
        assert figure.low <= figure.point
        assert figure.high is None or figure.point <= figure.high
    assert figure.text == figure.text.strip() != ""


# ---------------------------------------------------------------- SPEC §2, every row

SPEC_TABLE: list[tuple[str, Shape]] = [
    ("164", (Q.EXACT, 164, 164, 164)),
    ("2,500", (Q.EXACT, 2500, 2500, 2500)),
    ("sixteen", (Q.EXACT, 16, 16, 16)),
    ("1.5 million", (Q.EXACT, 1_500_000, 1_500_000, 1_500_000)),
    ("two dozen", (Q.EXACT, 24, 24, 24)),
    ("at least 164", (Q.AT_LEAST, 164, OPEN, None)),
    ("no fewer than 164", (Q.AT_LEAST, 164, OPEN, None)),
    ("164 or more", (Q.AT_LEAST, 164, OPEN, None)),
    ("more than 1,000", (Q.MORE_THAN, 1001, OPEN, None)),
    ("over 1,000", (Q.MORE_THAN, 1001, OPEN, None)),
    ("at most 50", (Q.AT_MOST, 0, 50, None)),
    ("up to 50", (Q.AT_MOST, 0, 50, None)),
    ("as many as 50", (Q.AT_MOST, 0, 50, None)),
    ("no more than 50", (Q.AT_MOST, 0, 50, None)),
    ("fewer than 50", (Q.FEWER_THAN, 0, 49, None)),
    ("less than 50", (Q.FEWER_THAN, 0, 49, None)),
    ("under 50", (Q.FEWER_THAN, 0, 49, None)),
    ("about 300", (Q.APPROXIMATELY, 270, 330, 300)),
    ("around 300", (Q.APPROXIMATELY, 270, 330, 300)),
    ("approximately 300", (Q.APPROXIMATELY, 270, 330, 300)),
    ("some 300", (Q.APPROXIMATELY, 270, 330, 300)),
    ("roughly 300", (Q.APPROXIMATELY, 270, 330, 300)),
    ("an estimated 300", (Q.APPROXIMATELY, 270, 330, 300)),
    ("almost 8,000", (Q.ALMOST, 7200, 8000, 8000)),
    ("nearly 8,000", (Q.ALMOST, 7200, 8000, 8000)),
    ("close to 8,000", (Q.ALMOST, 7200, 8000, 8000)),
    ("just under 8,000", (Q.ALMOST, 7200, 8000, 8000)),
    ("between 100 and 300", (Q.RANGE, 100, 300, None)),
    ("100-300", (Q.RANGE, 100, 300, None)),
    ("100 to 300", (Q.RANGE, 100, 300, None)),
    ("dozens", (Q.VAGUE, 24, 99, None)),
    ("hundreds", (Q.VAGUE, 200, 999, None)),
    ("thousands", (Q.VAGUE, 2000, 9999, None)),
    ("tens of thousands", (Q.VAGUE, 20_000, 99_999, None)),
]

SPEC_COMBINATIONS: list[tuple[str, Shape]] = [
    ("at least hundreds", (Q.AT_LEAST, 200, OPEN, None)),
    ("more than a hundred", (Q.MORE_THAN, 101, OPEN, None)),
]


@pytest.mark.parametrize(("text", "expected"), SPEC_TABLE + SPEC_COMBINATIONS)
def test_every_row_of_the_spec_table(text: str, expected: Shape) -> None:
    figure = parse_figure(text)
    assert shape(figure) == expected
    assert figure.text == text


# ---------------------------------------------------------------- the rest of the vocabulary

MORE_PHRASES: list[tuple[str, Shape]] = [
    ("no less than 10", (Q.AT_LEAST, 10, OPEN, None)),
    ("not fewer than 10", (Q.AT_LEAST, 10, OPEN, None)),
    ("not less than 10", (Q.AT_LEAST, 10, OPEN, None)),
    ("a minimum of 10", (Q.AT_LEAST, 10, OPEN, None)),
    ("upwards of 10", (Q.MORE_THAN, 11, OPEN, None)),
    ("in excess of 10", (Q.MORE_THAN, 11, OPEN, None)),
    ("just over 10", (Q.MORE_THAN, 11, OPEN, None)),
    ("well over 10", (Q.MORE_THAN, 11, OPEN, None)),
    ("a maximum of 10", (Q.AT_MOST, 0, 10, None)),
    ("not more than 10", (Q.AT_MOST, 0, 10, None)),
    ("10 or fewer", (Q.AT_MOST, 0, 10, None)),
    ("10 or less", (Q.AT_MOST, 0, 10, None)),
    ("below 10", (Q.FEWER_THAN, 0, 9, None)),
    ("fewer than 1", (Q.FEWER_THAN, 0, 0, None)),
    ("estimated 10", (Q.APPROXIMATELY, 9, 11, 10)),
    ("just shy of 10", (Q.ALMOST, 9, 10, 10)),
    ("just below 10", (Q.ALMOST, 9, 10, 10)),
    ("about 0", (Q.APPROXIMATELY, 0, 0, 0)),
    ("about 7", (Q.APPROXIMATELY, 7, 7, 7)),  # ceil(6.3) = 7, floor(7.7) = 7
    ("about 15", (Q.APPROXIMATELY, 14, 16, 15)),  # ceil(13.5), floor(16.5)
    ("almost 15", (Q.ALMOST, 14, 15, 15)),
    ("0", (Q.EXACT, 0, 0, 0)),
]


@pytest.mark.parametrize(("text", "expected"), MORE_PHRASES)
def test_every_qualifier_phrase(text: str, expected: Shape) -> None:
    assert shape(parse_figure(text)) == expected


def test_every_phrase_of_the_tables_is_read() -> None:
    for phrase, qualifier in QUALIFIER_PHRASES.items():
        assert parse_figure(f"{phrase} 20").qualifier is qualifier, phrase
    for phrase, qualifier in SUFFIX_PHRASES.items():
        assert parse_figure(f"20 {phrase}").qualifier is qualifier, phrase
    for word, (low, high) in VAGUE_WORDS.items():
        assert shape(parse_figure(word)) == (Q.VAGUE, low, high, None), word


VAGUE_COMBINATIONS: list[tuple[str, Shape]] = [
    ("at least hundreds", (Q.AT_LEAST, 200, OPEN, None)),
    ("hundreds or more", (Q.AT_LEAST, 200, OPEN, None)),
    ("more than hundreds", (Q.MORE_THAN, 201, OPEN, None)),
    ("over thousands", (Q.MORE_THAN, 2001, OPEN, None)),
    ("up to thousands", (Q.AT_MOST, 0, 9999, None)),
    ("as many as tens of thousands", (Q.AT_MOST, 0, 99_999, None)),
    ("fewer than thousands", (Q.FEWER_THAN, 0, 9998, None)),
    ("at least dozens", (Q.AT_LEAST, 24, OPEN, None)),
    ("nearly two dozen", (Q.ALMOST, 22, 24, 24)),  # a number, not a vague word
    ("some two dozen", (Q.APPROXIMATELY, 22, 26, 24)),
    ("hundreds of thousands", (Q.VAGUE, 200_000, 999_999, None)),
    ("millions", (Q.VAGUE, 2_000_000, 9_999_999, None)),
    ("hundreds of billions", (Q.VAGUE, 200_000_000_000, 999_999_999_999, None)),
]


@pytest.mark.parametrize(("text", "expected"), VAGUE_COMBINATIONS)
def test_qualifiers_on_vague_words_bound_every_count_the_word_allows(
    text: str, expected: Shape
) -> None:
    assert shape(parse_figure(text)) == expected


NUMBERS: list[tuple[str, int]] = [
    ("7", 7),
    ("2500", 2500),
    ("1,000,000", 1_000_000),
    ("8 000", 8000),
    ("8\u00a0000", 8000),
    ("8\u202f000", 8000),
    ("1,000,000,000,000", MAX_COUNT),
    ("2.0", 2),
    ("5 million", 5_000_000),
    ("10 thousand", 10_000),
    ("2 billion", 2_000_000_000),
    ("3.2 thousand", 3200),
    ("0.5 million", 500_000),
    ("1.25 million", 1_250_000),
    ("2 dozen", 24),
    ("1.5 dozen", 18),
    ("5 hundred", 500),
    ("1 trillion", MAX_COUNT),
    ("zero", 0),
    ("sixteen", 16),
    ("forty-two", 42),
    ("forty two", 42),
    ("ninety-nine", 99),
    ("three hundred", 300),
    ("one hundred and five", 105),
    ("one hundred five", 105),
    ("a hundred", 100),
    ("a thousand", 1000),
    ("a million", 1_000_000),
    ("two thousand five hundred", 2500),
    ("two thousand and five", 2005),
    ("twenty-five hundred", 2500),
    ("a dozen", 12),
    ("two dozen", 24),
    ("half a dozen", 6),
    ("half a million", 500_000),
    ("one million two hundred thousand", 1_200_000),
    ("a hundred thousand", 100_000),
    ("nine hundred ninety-nine billion nine hundred ninety-nine million", 999_999_000_000),
    ("one trillion", MAX_COUNT),
]


@pytest.mark.parametrize(("text", "value"), NUMBERS)
def test_numbers_in_digits_words_and_scales(text: str, value: int) -> None:
    assert shape(parse_figure(text)) == (Q.EXACT, value, value, value)


RANGES: list[tuple[str, Shape]] = [
    ("from 100 to 300", (Q.RANGE, 100, 300, None)),
    ("100 \u2013 300", (Q.RANGE, 100, 300, None)),
    ("100\u2013300", (Q.RANGE, 100, 300, None)),
    ("100 \u2014 300", (Q.RANGE, 100, 300, None)),
    ("1,000-2,000", (Q.RANGE, 1000, 2000, None)),
    ("100-100", (Q.RANGE, 100, 100, None)),
    ("between 1 and 2 million", (Q.RANGE, 1_000_000, 2_000_000, None)),
    ("1.5-2 million", (Q.RANGE, 1_500_000, 2_000_000, None)),
    ("between five and ten thousand", (Q.RANGE, 5000, 10_000, None)),
    ("between two and three hundred", (Q.RANGE, 200, 300, None)),
    ("between 800 and 1 million", (Q.RANGE, 800, 1_000_000, None)),  # 800 million > 1 million
    ("between 1 million and 2 million", (Q.RANGE, 1_000_000, 2_000_000, None)),
    ("between one hundred and fifty and three hundred", (Q.RANGE, 150, 300, None)),
    ("twenty to thirty", (Q.RANGE, 20, 30, None)),
    ("100-300 (best estimate 200)", (Q.RANGE, 100, 300, 200)),
]


@pytest.mark.parametrize(("text", "expected"), RANGES)
def test_ranges(text: str, expected: Shape) -> None:
    assert shape(parse_figure(text)) == expected


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("AT LEAST 164", "at least 164"),
        ("  at   least\t164 ", "at least 164"),
        ("Hundreds", "hundreds"),
        ("TENS OF THOUSANDS", "tens of thousands"),
        ("Between  One Hundred\nand Two Hundred", "between 100 and 200"),
        ("Forty-Two", "42"),
    ],
)
def test_case_and_extra_whitespace_do_not_matter(text: str, plain: str) -> None:
    figure = parse_figure(text)
    assert shape(figure) == shape(parse_figure(plain))
    assert figure.text == text.strip()


def test_the_tolerance_is_a_setting() -> None:
    assert shape(parse_figure("about 300", tolerance=0.2)) == (Q.APPROXIMATELY, 240, 360, 300)
    assert shape(parse_figure("almost 8,000", tolerance=0.05)) == (Q.ALMOST, 7600, 8000, 8000)
    assert shape(parse_figure("about 300", tolerance=0)) == (Q.APPROXIMATELY, 300, 300, 300)


@pytest.mark.parametrize("tolerance", [-0.1, 1.5, math.nan, math.inf])
def test_a_misconfigured_tolerance_is_a_value_error(tolerance: float) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        parse_figure("about 300", tolerance=tolerance)


# ---------------------------------------------------------------- what the grammar refuses

REJECTED: list[tuple[str, str]] = [
    ("", "empty"),
    ("   ", "empty"),
    ("blah", "grammar"),
    ("164 people", "grammar"),
    ("-5", "negative"),
    ("\u22125", "negative"),
    ("minus 5", "negative"),
    ("negative 5", "negative"),
    ("NaN", "finite"),
    ("inf", "finite"),
    ("-inf", "finite"),
    ("Infinity", "finite"),
    ("2.5", "whole number"),
    ("1.5", "whole number"),
    ("1.2345 thousand", "whole number"),
    ("1.0000000000000000000000000001 thousand", "whole number"),
    ("1,000,000,000,001", "cap"),
    ("5 trillion", "cap"),
    ("more than 1 trillion", "cap"),
    ("about 1 trillion", "cap"),
    ("trillions", "grammar"),
    ("fewer than 0", "no count"),
    ("between 300 and 100", "exceeds"),
    ("300-100", "exceeds"),
    ("100-300 (best estimate 400)", "outside"),
    ("about hundreds", "vague"),
    ("almost thousands", "vague"),
    ("at least 164 or more", "two qualifiers"),
    ("at least 100-300", "range takes no qualifier"),
    ("one thousand one million", "out of order"),
    ("1,0000", "grammar"),
    ("10,00", "grammar"),
    ("007", "grammar"),
    ("1e6", "grammar"),
    ("a", "grammar"),
    ("hundred", "grammar"),
    ("twenty zero", "grammar"),
    ("zero hundred", "grammar"),
    ("164 16", "grammar"),  # "164 164" is 164,164: a space may group thousands
    ("at least", "grammar"),
    ("between 100 and", "grammar"),
    ("100 and 300", "grammar"),
]


@pytest.mark.parametrize(("text", "reason"), REJECTED)
def test_what_the_grammar_cannot_read_is_refused_naming_the_text(text: str, reason: str) -> None:
    with pytest.raises(InvalidFigure, match=re.escape(f'"{text.strip()}"')) as raised:
        parse_figure(text)
    assert reason in raised.value.detail
    assert raised.value.detail.startswith("cannot read the figure")


def test_a_text_longer_than_200_characters_is_refused() -> None:
    with pytest.raises(InvalidFigure, match="longer than 200 characters"):
        parse_figure("1" + " " * 200 + "1")
    assert parse_figure(" " * 300 + "164").low == 164  # surrounding whitespace does not count


# ---------------------------------------------------------------- structured figures

PARTS: list[tuple[dict[str, object], str, Shape]] = [
    ({"value": 164}, "164", (Q.EXACT, 164, 164, 164)),
    ({"value": 164, "qualifier": "at_least"}, "at least 164", (Q.AT_LEAST, 164, OPEN, None)),
    ({"value": 164, "qualifier": Q.MORE_THAN}, "more than 164", (Q.MORE_THAN, 165, OPEN, None)),
    ({"value": 50, "qualifier": "at_most"}, "at most 50", (Q.AT_MOST, 0, 50, None)),
    ({"value": 50, "qualifier": "fewer_than"}, "fewer than 50", (Q.FEWER_THAN, 0, 49, None)),
    ({"value": 300, "qualifier": "approximately"}, "about 300", (Q.APPROXIMATELY, 270, 330, 300)),
    ({"value": 8000, "qualifier": "almost"}, "almost 8,000", (Q.ALMOST, 7200, 8000, 8000)),
    ({"value": 164.0}, "164", (Q.EXACT, 164, 164, 164)),
    ({"value": MAX_COUNT}, "1,000,000,000,000", (Q.EXACT, MAX_COUNT, MAX_COUNT, MAX_COUNT)),
    (
        {"low": 100, "high": 300, "point": 200},
        "100-300 (best estimate 200)",
        (Q.RANGE, 100, 300, 200),
    ),
    ({"low": 100, "high": 300}, "100-300", (Q.RANGE, 100, 300, None)),
    ({"low": 100, "high": 100}, "100", (Q.EXACT, 100, 100, 100)),
    ({"low": 100, "high": 100, "point": 100}, "100", (Q.EXACT, 100, 100, 100)),
    ({"low": 100}, "at least 100", (Q.AT_LEAST, 100, OPEN, None)),
    ({"low": 100, "high": 300, "qualifier": "range"}, "100-300", (Q.RANGE, 100, 300, None)),
    ({"low": 0, "high": 0}, "0", (Q.EXACT, 0, 0, 0)),
]


@pytest.mark.parametrize(("parts", "text", "expected"), PARTS)
def test_structured_figures(parts: dict[str, object], text: str, expected: Shape) -> None:
    figure = figure_from_parts(**parts)  # type: ignore[arg-type]
    assert (figure.text, shape(figure)) == (text, expected)
    assert shape(parse_figure(figure.text)) == expected


def test_a_structured_value_means_what_its_text_means() -> None:
    for qualifier in (Q.EXACT, Q.AT_LEAST, Q.MORE_THAN, Q.AT_MOST, Q.FEWER_THAN):
        text = render_figure(figure_from_parts(value=1000, qualifier=qualifier))
        assert shape(figure_from_parts(value=1000, qualifier=qualifier)) == shape(
            parse_figure(text)
        )
    approximately = figure_from_parts(value=300, qualifier="approximately", tolerance=0.2)
    assert shape(approximately) == (Q.APPROXIMATELY, 240, 360, 300)


BAD_PARTS: list[tuple[dict[str, object], str]] = [
    ({}, "value"),
    ({"value": True}, "value"),
    ({"value": 2.5}, "value"),
    ({"value": math.nan}, "value"),
    ({"value": math.inf}, "value"),
    ({"value": "164"}, "value"),
    ({"value": -1}, "value"),
    ({"value": MAX_COUNT + 1}, "value"),
    ({"value": 0, "qualifier": "fewer_than"}, "value"),
    ({"value": MAX_COUNT, "qualifier": "more_than"}, "value"),
    ({"value": MAX_COUNT, "qualifier": "approximately"}, "value"),
    ({"value": 164, "qualifier": "vague"}, "qualifier"),
    ({"value": 164, "qualifier": "range"}, "qualifier"),
    ({"value": 164, "qualifier": "roughly"}, "qualifier"),
    ({"value": 164, "qualifier": 3}, "qualifier"),
    ({"value": 164, "low": 100}, "value"),
    ({"value": 164, "point": 164}, "value"),
    ({"high": 300}, "value"),
    ({"low": 300, "high": 100}, "high"),
    ({"low": 100, "high": 300, "point": 400}, "point"),
    ({"low": 100, "high": 300, "point": 50}, "point"),
    ({"low": 100, "high": 100, "point": 101}, "point"),
    ({"low": 100, "point": 200}, "point"),
    ({"low": False, "high": 100}, "low"),
    ({"low": 1.5, "high": 100}, "low"),
    ({"low": 100, "high": math.inf}, "high"),
    ({"low": -1, "high": 100}, "low"),
    ({"low": 0, "high": MAX_COUNT + 1}, "high"),
    ({"low": 100, "high": 300, "qualifier": "at_least"}, "qualifier"),
    ({"low": 100, "high": 100, "qualifier": "range"}, "qualifier"),
]


@pytest.mark.parametrize(("parts", "field"), BAD_PARTS)
def test_structured_figures_out_of_bounds_are_refused_naming_the_field(
    parts: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidFigure) as raised:
        figure_from_parts(**parts)  # type: ignore[arg-type]
    assert raised.value.field == field


# ---------------------------------------------------------------- rendering

RENDERED: list[tuple[str, str]] = [
    ("sixteen", "16"),
    ("1.5 million", "1,500,000"),
    ("no fewer than two dozen", "at least 24"),
    ("over 1,000", "more than 1,000"),
    ("as many as 50", "at most 50"),
    ("under 50", "fewer than 50"),
    ("roughly 300", "about 300"),
    ("nearly 8,000", "almost 8,000"),
    ("between 100 and 300", "100-300"),
    ("tens of thousands", "tens of thousands"),
    ("at least hundreds", "at least 200"),
    ("fewer than thousands", "fewer than 9,999"),
]


@pytest.mark.parametrize(("text", "canonical"), RENDERED)
def test_render_gives_the_canonical_text(text: str, canonical: str) -> None:
    assert render_figure(parse_figure(text)) == canonical


def test_render_still_writes_a_figure_no_form_fits() -> None:
    odd = Figure(text="?", low=5, high=9, point=None, qualifier=Q.VAGUE)
    assert render_figure(odd) == "5-9"


# ---------------------------------------------------------------- figures in prose


def found_texts(text: str) -> list[str]:
    """The phrases find_figures reports, checking each span reads back to its Figure."""
    found = find_figures(text)
    for start, end, figure in found:
        assert figure == parse_figure(text[start:end])
    return [text[start:end] for start, end, _ in found]


def test_the_kazakhstan_article_yields_its_five_figures_and_no_dates() -> None:
    article = ARTICLE.read_text(encoding="utf-8")
    found = {article[start:end]: shape(figure) for start, end, figure in find_figures(article)}
    assert found == {
        "2,500": (Q.EXACT, 2500, 2500, 2500),
        "almost 8,000": (Q.ALMOST, 7200, 8000, 8000),
        "at least 164": (Q.AT_LEAST, 164, OPEN, None),
        "Hundreds": (Q.VAGUE, 200, 999, None),
        "16": (Q.EXACT, 16, 16, 16),
    }


PROSE: list[tuple[str, list[str]]] = [
    ("almost 8,000 people were arrested", ["almost 8,000"]),
    ("Hundreds more people were injured", ["Hundreds"]),
    ("Tokayev said 16 security guards were killed", ["16"]),
    ("At least 164 died; AT LEAST 16 were guards", ["At least 164", "AT LEAST 16"]),
    (
        "between 1 and 2 million fled, up to thousands more",
        ["between 1 and 2 million", "up to thousands"],
    ),
    (
        "more than a hundred hurt, nearly two dozen dead",
        ["more than a hundred", "nearly two dozen"],
    ),
    (
        "sixteen people, forty-two soldiers, one hundred and five guards",
        ["sixteen", "forty-two", "one hundred and five"],
    ),
    (
        "from 100 to 300 people, 100-300 or 100 \u2013 300",
        ["from 100 to 300", "100-300", "100 \u2013 300"],
    ),
    ("some 300 soldiers and an estimated 1.5 million", ["some 300", "an estimated 1.5 million"]),
    ("tens of thousands marched; 164 or more died", ["tens of thousands", "164 or more"]),
    ("the CSTO's 2,500-strong force", ["2,500"]),
    ("between 300 and 100 people", ["300", "100"]),  # not a range, but still two numbers
    ("about hundreds of people", ["hundreds"]),
    ("one person died", ["one"]),
    ("2.5 kilometres away, 3 people", ["3"]),
]


@pytest.mark.parametrize(("text", "expected"), PROSE)
def test_figures_in_prose(text: str, expected: list[str]) -> None:
    assert found_texts(text) == expected


NOT_COUNTS: list[tuple[str, list[str]]] = [
    ("On 9 January 2022, 164 died.", ["164"]),
    ("On January 9, 2022 the toll was 164.", ["164"]),
    ("On Jan. 9 the toll was 164.", ["164"]),
    ("On January 9 400 people were detained.", ["400"]),
    ("Data from 2022-01-09 and 09/01/2022 show 12 deaths.", ["12"]),
    ("In 2022, 16 died; in 1999 none did; from 2020-2021 it was calm.", ["16"]),
    ("At 10:30 local time 5 people were hurt.", ["5"]),
    ("At 10 a.m. 5 were hurt, at 4pm 6, at five o'clock 7.", ["5", "6", "7"]),
    ("Prices rose 5%, 5 percent, 7 per cent and 2 percentage points.", []),
    ("between 5 and 10 percent of 300 people", ["300"]),
    ("It cost $5 million, \u20ac5 million, 5 million dollars, 3 euros and US$ 16.", []),
    ("Call +7 727 123 4567 or (727) 123-4567.", []),
    ("the 1 000 000 residents", ["1 000 000"]),
    ("He was the 1st to arrive; the 22nd victim.", []),
    ("a man aged 35, a 35-year-old, 40 years old, aged between 18 and 30", []),
    ("a thirty-five-year-old woman and 2 children", ["2"]),
    ("No one was killed; they left one by one.", []),
    ("COVID-19 cases and a score of 1-0", []),
]


@pytest.mark.parametrize(("text", "expected"), NOT_COUNTS)
def test_numbers_that_are_not_counts_are_skipped(text: str, expected: list[str]) -> None:
    assert found_texts(text) == expected


# ---------------------------------------------------------------- properties

VALUE_QUALIFIERS = [q for q in Q if q not in (Q.RANGE, Q.VAGUE)]
TOLERANCES = st.sampled_from([0.0, 0.05, 0.1, 0.25, 1.0])
COUNTS = st.integers(0, MAX_COUNT) | st.integers(0, 1000)


@st.composite
def bounds(draw: st.DrawFn) -> tuple[int, int | None, int | None]:
    """Structured bounds: low, an optional high >= low, an optional point inside."""
    low = draw(COUNTS)
    high = draw(st.none() | st.integers(low, MAX_COUNT))
    point = None if high is None else draw(st.none() | st.integers(low, high))
    return low, high, point


@PROPERTY
@given(value=COUNTS, qualifier=st.sampled_from(VALUE_QUALIFIERS), tolerance=TOLERANCES)
def test_value_figures_render_and_read_back(value: int, qualifier: Q, tolerance: float) -> None:
    try:
        figure = figure_from_parts(value=value, qualifier=qualifier, tolerance=tolerance)
    except InvalidFigure:
        reject()  # the edges: more than 10^12, fewer than 0, about 10^12
    assert_well_formed(figure)
    assert figure.text == render_figure(figure)
    assert shape(parse_figure(figure.text, tolerance)) == shape(figure)


@PROPERTY
@given(parts=bounds())
def test_bounds_figures_render_and_read_back(parts: tuple[int, int | None, int | None]) -> None:
    low, high, point = parts
    figure = figure_from_parts(low=low, high=high, point=point)
    assert_well_formed(figure)
    assert shape(parse_figure(figure.text)) == shape(figure)


@PROPERTY
@given(
    word=st.sampled_from(list(VAGUE_WORDS)),
    phrase=st.sampled_from(
        [None, *(p for p, q in QUALIFIER_PHRASES.items() if q not in (Q.APPROXIMATELY, Q.ALMOST))]
    ),
)
def test_vague_figures_render_and_read_back(word: str, phrase: str | None) -> None:
    figure = parse_figure(word if phrase is None else f"{phrase} {word}")
    assert_well_formed(figure)
    assert shape(parse_figure(render_figure(figure))) == shape(figure)


@PROPERTY
@given(value=st.integers(0, MAX_COUNT))
def test_digits_with_and_without_separators(value: int) -> None:
    for text in (str(value), f"{value:,}", f"{value:,}".replace(",", " ")):
        assert shape(parse_figure(text)) == (Q.EXACT, value, value, value)


ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]  # fmt: skip
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (10**3, "thousand"))


def spell(n: int) -> str:
    """n in English words, as a journalist would write it."""
    if n < 20:
        return ONES[n]
    if n < 100:
        return TENS[n // 10] + (f"-{ONES[n % 10]}" if n % 10 else "")
    if n < 1000:
        return f"{ONES[n // 100]} hundred" + (f" and {spell(n % 100)}" if n % 100 else "")
    scale, name = next((scale, name) for scale, name in SCALES if n >= scale)
    return f"{spell(n // scale)} {name}" + (f" {spell(n % scale)}" if n % scale else "")


@PROPERTY
@given(value=COUNTS)
def test_numbers_in_words(value: int) -> None:
    assert shape(parse_figure(spell(value))) == (Q.EXACT, value, value, value)


GRAMMAR_TOKENS = [
    *QUALIFIER_PHRASES, *SUFFIX_PHRASES, *VAGUE_WORDS, *ONES, *TENS[2:], "hundred", "thousand",
    "million", "billion", "trillion", "dozen", "a", "and", "half", "between", "from", "to", "-",
    "0", "1", "16", "164", "2,500", "1.5", "999", "8 000", "1000000000000", "(best estimate 5)",
]  # fmt: skip


@PROPERTY
@given(text=st.lists(st.sampled_from(GRAMMAR_TOKENS), min_size=1, max_size=8).map(" ".join))
def test_grammar_like_texts_read_well_formed_or_are_refused(text: str) -> None:
    try:
        figure = parse_figure(text)
    except InvalidFigure:
        return
    assert_well_formed(figure)
    assert shape(parse_figure(render_figure(figure))) == shape(figure)


@PROPERTY
@given(text=st.text(max_size=250))
def test_any_text_reads_or_is_refused(text: str) -> None:
    with contextlib.suppress(InvalidFigure):
        assert_well_formed(parse_figure(text))


@PROPERTY
@given(
    words=st.lists(
        st.sampled_from([*GRAMMAR_TOKENS, "people", "on", "January", "9", "2022", "%", "$", "."]),
        max_size=30,
    )
)
def test_figures_found_in_prose_are_ordered_and_read_back(words: list[str]) -> None:
    text = " ".join(words)
    found = find_figures(text)
    ends = [0] + [end for _, end, _ in found]
    for (start, end, figure), previous_end in zip(found, ends, strict=False):
        assert previous_end <= start < end
        assert figure == parse_figure(text[start:end])
        assert_well_formed(figure)


# ---------------------------------------------------------------- purity


def test_the_grammar_imports_only_the_standard_library_and_the_domain_model() -> None:
    tree = ast.parse(Path(figures.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    outside = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}
    assert outside == {"app.domain.model"}
