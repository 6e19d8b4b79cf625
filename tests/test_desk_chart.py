"""The timeline chart (app/web/chart.py): a pure function from claims' values to SVG."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

from app.web.chart import (
    PALETTE,
    Mark,
    format_count,
    format_day,
    styles_for,
    timeline_svg,
    wants_log,
)

SVG = "{http://www.w3.org/2000/svg}"
JAN = [date(2022, 1, d) for d in range(1, 32)]


def mark(
    claimant: str = "Ministry",
    day: int = 9,
    low: int = 164,
    high: int | None = 164,
    point: int | None = 164,
    **flags: bool,
) -> Mark:
    return Mark(claimant, JAN[day - 1], low, high, point, f"{low}", **flags)


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # well-formed XML, or this raises


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_counts_and_days_read_as_a_reader_reads_them() -> None:
    assert format_count(8000) == "8,000"
    assert format_count(999_999) == "999,999"
    assert format_count(1_500_000) == "1.5 million"
    assert format_count(2_000_000_000) == "2 billion"
    assert format_count(10**12) == "1 trillion"
    assert format_day(date(2022, 1, 9)) == "9 Jan"
    assert format_day(date(2022, 1, 9), with_year=True) == "9 Jan 2022"


def test_the_chart_is_an_image_with_a_title_a_description_and_a_tooltip_per_claim() -> None:
    marks = [mark(), mark("Prosecutor", 15, 225, 225, 225)]
    root = parse(timeline_svg(marks, title="Deaths", description="Two claims.", id_prefix="c1"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.find(f"{SVG}title").text == "Deaths"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text.startswith("Two claims.")  # type: ignore[union-attr]
    tips = [t.text for t in root.iter(f"{SVG}title")][1:]
    assert tips == ["Ministry: 164, as of 9 Jan 2022", "Prosecutor: 225, as of 15 Jan 2022"]


def test_the_legend_names_each_claimant_in_its_own_colour() -> None:
    marks = [mark("A"), mark("B", 10), mark("C", 11), mark("A", 12)]
    styles = styles_for(m.claimant for m in marks)
    assert [s.colour for s in styles.values()] == list(PALETTE[:3])
    assert len({s.shape for s in styles.values()}) == 3  # shapes too: never colour alone
    words = texts(parse(timeline_svg(marks, title="t", description="d")))
    assert [w for w in words if w in "ABC"] == ["A", "B", "C"]


def test_retracted_claims_are_hollow_and_conflicting_ones_flagged() -> None:
    svg = timeline_svg(
        [mark(retracted=True), mark("Other", 10, conflicting=True)], title="t", description="d"
    )
    root = parse(svg)
    groups = [g for g in root.iter(f"{SVG}g") if g.find(f"{SVG}title") is not None]
    retracted, conflicting = groups
    assert retracted.find(f"{SVG}rect").get("stroke-dasharray") == "3 2"  # type: ignore[union-attr]
    assert retracted.find(f"{SVG}rect").get("fill") == "#ffffff"  # type: ignore[union-attr]
    assert "retracted" in retracted.find(f"{SVG}title").text  # type: ignore[operator,union-attr]
    assert "!" in texts(conflicting)
    assert {"retracted (hollow)", "in an open conflict"} <= set(texts(root))


def test_an_open_upper_end_is_an_arrow_and_the_consensus_is_shaded() -> None:
    svg = timeline_svg(
        [mark(high=None, point=None)], title="t", description="d", consensus=(164, None)
    )
    root = parse(svg)
    claim = next(g for g in root.iter(f"{SVG}g") if g.find(f"{SVG}title") is not None)
    assert claim.find(f"{SVG}polygon") is not None  # the arrow
    assert {"no upper limit", "consensus"} <= set(texts(root))


def test_axis_ticks_have_thousands_separators_and_dates() -> None:
    marks = [mark("Authorities", 10, 7200, 8000, 8000), mark("Police", 12, 7500, 7500, 7500)]
    words = texts(parse(timeline_svg(marks, title="t", description="d")))
    assert "8,000" in words
    assert "4,000" in words
    assert any(re.fullmatch(r"\d+ Jan 2022", w) for w in words)  # the first date has its year
    assert "12 Jan" in words


def test_figures_spanning_orders_of_magnitude_go_on_a_log_scale() -> None:
    tens, millions = mark("Village", 9, 16, 16, 16), mark("Ministry", 10, 1_500_000, None, None)
    assert wants_log([tens, millions], "auto")
    assert not wants_log([tens, mark("Other", 10, 225, 225, 225)], "auto")
    assert wants_log([tens], "log")
    assert not wants_log([tens, millions], "linear")
    root = parse(timeline_svg([tens, millions], title="t", description="d"))
    words = texts(root)
    assert {"0", "10", "100", "1,000", "1 million"} <= set(words)
    assert root.find(f"{SVG}desc").text.endswith("Log scale.")  # type: ignore[union-attr]
    # The village's 16 stands clear of the axis, not squashed onto zero.
    bars = [g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g") if g.find(f"{SVG}title") is not None]
    zero_y = float(_tick_y(root, "0"))
    assert zero_y - float(bars[0].get("y")) > 25  # type: ignore[arg-type,union-attr]


def _tick_y(root: ET.Element, label: str) -> str:
    text = next(t for t in root.iter(f"{SVG}text") if t.text == label)
    return str(float(text.get("y", "0")) - 4)


def test_claims_of_one_day_stand_side_by_side() -> None:
    root = parse(timeline_svg([mark("A"), mark("B")], title="t", description="d"))
    bars = [g.find(f"{SVG}rect") for g in root.iter(f"{SVG}g") if g.find(f"{SVG}title") is not None]
    xs = [float(b.get("x")) for b in bars]  # type: ignore[arg-type,union-attr]
    assert abs(xs[0] - xs[1]) >= 14


def test_text_is_escaped_and_an_empty_group_still_draws() -> None:
    hostile = mark('<script>alert("x")</script> & co')
    svg = timeline_svg([hostile], title="<b>", description="a & b", id_prefix='x"y')
    assert "<script>" not in svg
    parse(svg)
    empty = parse(timeline_svg([], title="Nothing", description="No claims."))
    assert "No claims to draw." in texts(empty)
