"""The timeline chart of a report group (SPEC §11), drawn as SVG: a pure function of values.

x is the date a figure refers to (`as_of`), y the count. Each claim is a bar from its low
to its high, its point estimate a marker, an open upper end an arrow; one colour and one
marker shape per claimant (the Okabe-Ito palette, safe for colour-blind readers, and shapes
so that colour is never the only cue), retracted claims hollow and dashed, claims in an
open conflict flagged with "!", the consensus shaded. The chart carries its own legend,
<title> and <desc>, and styles itself with presentation attributes only, so that it shows
the same inline in a page with a strict Content-Security-Policy, in an embed, or alone.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape
from typing import Literal

Scale = Literal["auto", "linear", "log"]

# Okabe & Ito (2008), without its yellow, which cannot be seen on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
SHAPES = ("circle", "square", "diamond", "triangle")
INK, MUTED, GRID, BAND = "#1f2328", "#57606a", "#d8dee4", "#dbe7f3"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
LOG_RATIO = 100  # figures spanning this factor or more are drawn on a log scale (auto)


@dataclass(frozen=True, slots=True)
class Mark:
    """One claim as the chart draws it."""

    claimant: str
    as_of: date
    low: int
    high: int | None  # None: no upper bound
    point: int | None
    label: str  # the figure as stated: "at least 164"
    retracted: bool = False
    conflicting: bool = False


@dataclass(frozen=True, slots=True)
class Style:
    colour: str
    shape: str


def styles_for(claimants: Iterable[str]) -> dict[str, Style]:
    """A colour and a shape for each claimant, in the order given: pass every claimant of a
    page at once, so that a claimant looks the same in each of its charts."""
    names = list(dict.fromkeys(claimants))
    return {
        name: Style(PALETTE[i % len(PALETTE)], SHAPES[i % len(SHAPES)])
        for i, name in enumerate(names)
    }


def format_count(value: int) -> str:
    """A count as a reader reads it: 8,000; 1.5 million; 2 billion."""
    for size, word in ((10**12, "trillion"), (10**9, "billion"), (10**6, "million")):
        if value >= size:
            return f"{value / size:.2f}".rstrip("0").rstrip(".") + f" {word}"
    return f"{value:,}"


def format_day(day: date, with_year: bool = False) -> str:
    """9 Jan, or 9 Jan 2022."""
    text = f"{day.day} {day.strftime('%b')}"
    return f"{text} {day.year}" if with_year else text


# --- scales --------------------------------------------------------------------------------


@dataclass(frozen=True)
class YScale:
    """Counts to pixels: linear from 0, or log(1 + v) so that 0 still has a place."""

    log: bool
    top: int  # the largest count on the axis
    step: int  # between two ticks (linear)
    y0: float  # pixel of 0
    y1: float  # pixel of top

    def __call__(self, value: float) -> float:
        span = self._t(self.top) or 1.0
        return self.y0 + (self.y1 - self.y0) * min(self._t(value) / span, 1.0)

    def _t(self, value: float) -> float:
        return math.log10(1 + max(value, 0)) if self.log else float(value)

    def ticks(self) -> list[int]:
        if self.log:
            return [0, *(10**k for k in range(1, len(str(self.top))))]  # 1 would touch 0
        return list(range(0, self.top + 1, self.step))


def wants_log(marks: Sequence[Mark], scale: Scale) -> bool:
    """Whether to draw on a log scale: asked for, or (auto) the figures span LOG_RATIO."""
    if scale != "auto":
        return scale == "log"
    values = [v for m in marks for v in (m.low, m.high, m.point) if v]
    return bool(values) and max(values) >= LOG_RATIO * min(values)


NICE = tuple(m * 10**k for k in range(13) for m in (1, 2, 5)) + tuple(25 * 10**k for k in range(12))


def _nice_axis(value: int, log: bool) -> tuple[int, int]:
    """The axis' top and tick step: the next power of ten (log), or the least round top of 4
    to 6 even steps of 1, 2, 2.5 or 5 times a power of ten (linear)."""
    if log:
        top = 10
        while top < value:
            top *= 10
        return top, 0
    tops = [(step * n, n, step) for step in NICE for n in (4, 5, 6) if step * n >= max(value, 4)]
    top, _, step = min(tops)
    return top, step


def _highest(marks: Sequence[Mark], consensus: tuple[int, int | None] | None) -> int:
    """The largest value to show, with room above open ends for their arrows."""
    values = [v for m in marks for v in (m.low, m.high, m.point) if v is not None]
    opens = [m.low for m in marks if m.high is None]
    if consensus is not None:
        values += [v for v in consensus if v is not None]
    values += [math.ceil(v * 1.15) for v in opens]
    return max(values, default=1)


@dataclass(frozen=True)
class XScale:
    first: date
    last: date
    x0: float
    x1: float

    def __call__(self, day: date) -> float:
        days = (self.last - self.first).days or 1
        return self.x0 + (self.x1 - self.x0) * (day - self.first).days / days

    def ticks(self, most: int) -> list[date]:
        days = (self.last - self.first).days
        step = next((s for s in (1, 2, 7, 14, 28, 91, 182, 365) if days / s <= most), 730)
        if step < 7:
            return [self.first + timedelta(d) for d in range(0, days + 1, step)]
        start = self.first + timedelta((7 - self.first.weekday()) % 7)  # Mondays
        return [start + timedelta(d) for d in range(0, (self.last - start).days + 1, step)]


def _x_scale(marks: Sequence[Mark], x0: float, x1: float) -> XScale:
    days = [m.as_of for m in marks]
    first, last = min(days), max(days)
    pad = timedelta(days=max(1, (last - first).days // 12))
    return XScale(first - pad, last + pad, x0, x1)


# --- drawing -------------------------------------------------------------------------------


def _attrs(**values: object) -> str:
    return " ".join(
        f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in values.items()
    )


def _text(
    x: float, y: float, text: str, size: int = 12, anchor: str = "start", fill: str = MUTED
) -> str:
    where = _attrs(x=f"{x:.1f}", y=f"{y:.1f}", font_size=size, text_anchor=anchor, fill=fill)
    return f"<text {where}>{escape(text)}</text>"


# Claims are drawn with plain f-strings of numbers and palette colours (escaped once): a
# 1,000-claim event draws 1,000 of them, where an attribute-escaping helper cost half the page.


def _paint(colour: str, hollow: bool, width: float = 1.25) -> str:
    if hollow:
        return f'fill="#ffffff" stroke="{colour}" stroke-width="2"'
    return f'fill="{colour}" stroke="#ffffff" stroke-width="{width}"'


def _marker(shape: str, x: float, y: float, colour: str, hollow: bool, r: float = 6.0) -> str:
    paint = _paint(escape(colour), hollow)
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" {paint}/>'
    if shape == "square":
        s, side = r * 0.9, f"{r * 1.8:.1f}"
        return f'<rect x="{x - s:.1f}" y="{y - s:.1f}" width="{side}" height="{side}" {paint}/>'
    if shape == "diamond":
        d = r * 1.25
        points = f"{x:.1f},{y - d:.1f} {x + d:.1f},{y:.1f} {x:.1f},{y + d:.1f} {x - d:.1f},{y:.1f}"
    else:
        d = r * 1.2
        points = f"{x:.1f},{y - d:.1f} {x + d:.1f},{y + d * 0.8:.1f} {x - d:.1f},{y + d * 0.8:.1f}"
    return f'<polygon points="{points}" {paint}/>'


def _mark(mark: Mark, x: float, y: YScale, style: Style) -> str:
    """One claim: its bar, arrow, marker and flag, with a tooltip."""
    colour, hollow = escape(style.colour), mark.retracted
    top = y(mark.high) if mark.high is not None else y(mark.low) - 26
    bottom = y(mark.low)
    fill = (
        'fill="#ffffff" stroke-dasharray="3 2"'
        if hollow
        else f'fill="{colour}" fill-opacity="0.35"'
    )
    parts = [
        f'<rect x="{x - 4:.1f}" y="{top:.1f}" width="8" height="{max(bottom - top, 2):.1f}" rx="2"'
        f' {fill} stroke="{colour}" stroke-width="1.5"/>'
    ]
    if mark.high is None:
        arrow = f"{x - 7:.1f},{top + 1:.1f} {x + 7:.1f},{top + 1:.1f} {x:.1f},{top - 10:.1f}"
        inside = "#ffffff" if hollow else colour
        parts.append(
            f'<polygon points="{arrow}" fill="{inside}" stroke="{colour}" stroke-width="1.5"/>'
        )
    if mark.point is not None:
        parts.append(_marker(style.shape, x, y(mark.point), style.colour, hollow))
    else:  # no point estimate: the claimant's shape, small, at the bound the figure states
        bound = bottom if mark.high is None else top
        parts.append(_marker(style.shape, x, bound, style.colour, hollow, r=3.5))
    if mark.conflicting:
        parts.append(_flag(x, top - (24 if mark.high is None else 13)))
    status = "; retracted" if mark.retracted else ""
    status += "; in an open conflict" if mark.conflicting else ""
    tip = f"{mark.claimant}: {mark.label}, as of {format_day(mark.as_of, True)}{status}"
    return f"<g><title>{escape(tip)}</title>{''.join(parts)}</g>"


def _flag(x: float, y: float) -> str:
    return (
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="#ffffff" stroke="{INK}"'
        ' stroke-width="1.5"/>'
        f'<text x="{x:.1f}" y="{y + 4:.1f}" font-size="11" font-weight="bold" text-anchor="middle"'
        f' fill="{INK}">!</text>'
    )


def _dodge(marks: Sequence[Mark]) -> list[float]:
    """Pixel offsets that set claims of the same date side by side."""
    by_day: dict[date, list[int]] = defaultdict(list)
    for i, mark in enumerate(marks):
        by_day[mark.as_of].append(i)
    offsets = [0.0] * len(marks)
    for members in by_day.values():
        for n, i in enumerate(members):
            offsets[i] = (n - (len(members) - 1) / 2) * 18
    return offsets


# --- the chart -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    width: int = 640
    plot_height: int = 190
    top: int = 36
    right: int = 24


def timeline_svg(
    marks: Sequence[Mark],
    *,
    title: str,
    description: str,
    consensus: tuple[int, int | None] | None = None,
    styles: Mapping[str, Style] | None = None,
    scale: Scale = "auto",
    id_prefix: str = "chart",
    layout: Layout = Layout(),
) -> str:
    """The SVG of a group's claims (see the module's docstring); `styles` from styles_for.

    `id_prefix` makes the ids of its <title> and <desc> unique in the page. An empty group
    draws its axes and says so.
    """
    styles = dict(styles or styles_for(m.claimant for m in marks))
    styles |= {k: v for k, v in styles_for(m.claimant for m in marks).items() if k not in styles}
    log = wants_log(marks, scale)
    top, step = _nice_axis(_highest(marks, consensus), log)
    labels = [format_count(t) for t in YScale(log, top, step, 0, 1).ticks()]
    left = 14 + 7 * max(len(t) for t in labels)
    y = YScale(log, top, step, layout.top + layout.plot_height, layout.top)
    x = _x_scale(marks, left + 18, layout.width - layout.right - 18) if marks else None
    legend, legend_height = _legend(marks, styles, consensus, layout.width, left)
    height = layout.top + layout.plot_height + 34 + legend_height
    body = [
        _band(consensus, y, left, layout.width - layout.right),
        _y_axis(y, left, layout.width - layout.right),
        _x_axis(x, y.y0) if x else _text(left + 12, y.y0 - 12, "No claims to draw."),
    ]
    if x is not None:
        offsets = _dodge(marks)
        body += [
            _mark(m, x(m.as_of) + dx, y, styles[m.claimant])
            for m, dx in zip(marks, offsets, strict=True)
        ]
    body.append(f'<g transform="translate(0 {y.y0 + 34:.0f})">{legend}</g>')
    ids = f"{id_prefix}-title {id_prefix}-desc"
    head = _attrs(
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {layout.width} {height:.0f}",
        width=layout.width,
        height=f"{height:.0f}",
        role="img",
        aria_labelledby=ids,
        font_family=FONT,
        class_="timeline",
    )
    scale_note = " Log scale." if log else ""
    return (
        f'<svg {head}><title id="{escape(id_prefix)}-title">{escape(title)}</title>'
        f'<desc id="{escape(id_prefix)}-desc">{escape(description + scale_note)}</desc>'
        + "".join(body)
        + "</svg>"
    )


def _band(consensus: tuple[int, int | None] | None, y: YScale, x0: float, x1: float) -> str:
    if consensus is None:
        return ""
    low, high = consensus
    top = y(high) if high is not None else y.y1
    box = _attrs(
        x=x0,
        y=f"{top:.1f}",
        width=f"{x1 - x0:.1f}",
        height=f"{max(y(low) - top, 2):.1f}",
        fill=BAND,
    )
    return f"<rect {box}/>"  # named in the legend: a label here would cover claims


def _y_axis(y: YScale, x0: float, x1: float) -> str:
    parts = []
    for tick in y.ticks():
        at = y(tick)
        line = _attrs(
            x1=x0,
            x2=f"{x1:.1f}",
            y1=f"{at:.1f}",
            y2=f"{at:.1f}",
            stroke=INK if tick == 0 else GRID,
            stroke_width=1,
        )
        parts.append(f"<line {line}/>" + _text(x0 - 6, at + 4, format_count(tick), 12, "end"))
    return "".join(parts)


def _x_axis(x: XScale, y0: float) -> str:
    ticks = x.ticks(most=int((x.x1 - x.x0) // 70))
    parts, year = [], None
    for day in ticks:
        at = x(day)
        line = _attrs(
            x1=f"{at:.1f}", x2=f"{at:.1f}", y1=f"{y0:.1f}", y2=f"{y0 + 5:.1f}", stroke=INK
        )
        label = format_day(day, with_year=day.year != year)
        year = day.year
        parts.append(f"<line {line}/>" + _text(at, y0 + 19, label, 12, "middle"))
    return "".join(parts)


def _legend(
    marks: Sequence[Mark],
    styles: Mapping[str, Style],
    consensus: tuple[int, int | None] | None,
    width: int,
    left: float,
) -> tuple[str, int]:
    """The legend (each claimant, then the signs this chart uses), in rows; and its height."""
    items = [
        (_marker(styles[c].shape, 7, -4, styles[c].colour, False), c)
        for c in dict.fromkeys(m.claimant for m in marks)
    ]
    if any(m.retracted for m in marks):
        items.append((_marker("circle", 7, -4, MUTED, True), "retracted (hollow)"))
    if any(m.conflicting for m in marks):
        items.append((_flag(7, -4), "in an open conflict"))
    if any(m.high is None for m in marks):
        arrow = _attrs(points="1,0 13,0 7,-10", fill=MUTED)
        items.append((f"<polygon {arrow}/>", "no upper limit"))
    if consensus is not None:
        items.append((f"<rect {_attrs(x=0, y=-11, width=14, height=12, fill=BAND)}/>", "consensus"))
    rows, x, row = [], left - 18.0, 0
    for sign, text in items:
        size = 24 + 7.2 * len(text)
        if x + size > width and x > left - 18:
            x, row = left - 18.0, row + 1
        words = _text(19, 0, text, 12, fill=INK)
        rows.append(f'<g transform="translate({x:.0f} {row * 20})">{sign}{words}</g>')
        x += size + 14
    return "".join(rows), (row + 1) * 20 if items else 0
