"""The figure grammar of SPEC §2: figure texts and structured figures -> Figure.

A figure is read exactly or not at all: anything the grammar cannot read raises
InvalidFigure naming the text. Read in this order:

    [qualifier] (range | vague word | number) [suffix]

Qualifiers on a vague word follow one rule: the figure is the union of the
qualifier applied to every count the word can mean, so a lower-bound qualifier
applies to the word's low and an upper-bound one to its high. `at least
hundreds` is [200, open], `more than hundreds` [201, open], `up to thousands`
[0, 9,999], `fewer than thousands` [0, 9,998]. `about` and `almost` need a
number and refuse a vague word (`about hundreds` has no point to be near).

In a range, a bare first bound shares the second bound's scale words when the
result still does not exceed the second: `between 1 and 2 million` is
[1,000,000, 2,000,000], but `between 800 and 1 million` is [800, 1,000,000].

Beyond the table of SPEC §2: vague words go on up to `hundreds of billions`
(`trillions` would pass the cap); `N or fewer` is at_most; thousands may be
grouped by commas, spaces (`8 000`, also no-break and narrow spaces) or dots:
a dot before exactly three digits, with no scale word after, groups thousands
(`8.000` is 8,000, `1.500.000` is 1,500,000; `1.500 million` is 1.5 million;
`1234.000` and `1,000.000` are refused); a range may carry a point estimate,
written `100-300 (best estimate 200)`, so that every structured figure has a
text that reads back to it.

The grammar reads a text after folding it (`_plain`): format characters (zero-width
space, soft hyphen, BOM) are dropped, compatibility forms are NFKC-folded (fullwidth
letters and digits, the long s U+017F, the Kelvin sign U+212A, no-break spaces) and ASCII
capitals made small. Only ASCII letters are matched regardless of case: the dotted
capital I (U+0130) and the dotless i (U+0131) stay what they are, so "five" written with
either is refused, never misread nor a crash. Superscripts, subscripts, circled numbers
and vulgar fractions are not folded ("5" and a superscript 2 is not 52), and the digits
of other scripts (Arabic-Indic ...) are not read.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import re
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from fractions import Fraction

from app.domain.model import MAX_COUNT, Figure, InvalidFigure, Qualifier

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_TEXT_LENGTH",
    "QUALIFIER_PHRASES",
    "SUFFIX_PHRASES",
    "VAGUE_WORDS",
    "figure_from_parts",
    "find_figures",
    "parse_figure",
    "render_figure",
]

Q = Qualifier
DEFAULT_TOLERANCE = 0.1
MAX_TEXT_LENGTH = 200

# ---------------------------------------------------------------- the vocabulary (SPEC §2)

QUALIFIER_PHRASES: dict[str, Qualifier] = {
    "at least": Q.AT_LEAST,
    "no fewer than": Q.AT_LEAST,
    "no less than": Q.AT_LEAST,
    "not fewer than": Q.AT_LEAST,
    "not less than": Q.AT_LEAST,
    "a minimum of": Q.AT_LEAST,
    "more than": Q.MORE_THAN,
    "over": Q.MORE_THAN,
    "just over": Q.MORE_THAN,
    "well over": Q.MORE_THAN,
    "upwards of": Q.MORE_THAN,
    "in excess of": Q.MORE_THAN,
    "at most": Q.AT_MOST,
    "up to": Q.AT_MOST,
    "as many as": Q.AT_MOST,
    "no more than": Q.AT_MOST,
    "not more than": Q.AT_MOST,
    "a maximum of": Q.AT_MOST,
    "fewer than": Q.FEWER_THAN,
    "less than": Q.FEWER_THAN,
    "under": Q.FEWER_THAN,
    "below": Q.FEWER_THAN,
    "about": Q.APPROXIMATELY,
    "around": Q.APPROXIMATELY,
    "approximately": Q.APPROXIMATELY,
    "some": Q.APPROXIMATELY,
    "roughly": Q.APPROXIMATELY,
    "an estimated": Q.APPROXIMATELY,
    "estimated": Q.APPROXIMATELY,
    "almost": Q.ALMOST,
    "nearly": Q.ALMOST,
    "close to": Q.ALMOST,
    "just under": Q.ALMOST,
    "just below": Q.ALMOST,
    "just shy of": Q.ALMOST,
}

SUFFIX_PHRASES: dict[str, Qualifier] = {
    "or more": Q.AT_LEAST,
    "or fewer": Q.AT_MOST,
    "or less": Q.AT_MOST,
}

VAGUE_WORDS: dict[str, tuple[int, int]] = {
    "dozens": (24, 99),
    "hundreds": (200, 999),
    "thousands": (2_000, 9_999),
    "tens of thousands": (20_000, 99_999),
    "hundreds of thousands": (200_000, 999_999),
    "millions": (2_000_000, 9_999_999),
    "tens of millions": (20_000_000, 99_999_999),
    "hundreds of millions": (200_000_000, 999_999_999),
    "billions": (2_000_000_000, 9_999_999_999),
    "tens of billions": (20_000_000_000, 99_999_999_999),
    "hundreds of billions": (200_000_000_000, 999_999_999_999),
}

_RANGE_FORMS = (
    r"between\s+{a}\s+and\s+{b}",
    r"from\s+{a}\s+to\s+{b}",
    r"{a}\s+to\s+{b}",
    r"{a}\s*[-\u2013\u2014]\s*{b}",  # hyphen, en dash, em dash
)
# A range may carry a point estimate; render_figure writes one as "100-300 (best estimate 200)".
_BEST_ESTIMATE = r"\s*\(\s*best\s+estimate\s+{p}\s*\)"

_SMALL = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_MULTIPLIERS = {"dozen": 12, "hundred": 100, "thousand": 10**3, "million": 10**6}
_MULTIPLIERS |= {"billion": 10**9, "trillion": 10**12}
_BIG_SCALES = ("thousand", "million", "billion", "trillion")

# ---------------------------------------------------------------- the grammar as regexes


def _phrase(words: str) -> str:
    """A regex for a phrase whose words may be separated by any whitespace."""
    return r"\s+".join(map(re.escape, words.split()))


def _either(phrases: Iterable[str]) -> str:
    """A regex for any one of the phrases as whole words, longest first."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "(?:" + "|".join(map(_phrase, ordered)) + r")\b"


_UNIT = _either(list(_SMALL)[:9])
_BELOW_100 = rf"(?:{_either(_TENS)}(?:(?:-|\s+){_UNIT})?|{_either(_SMALL)})"
_GROUP = rf"(?:(?:a|{_BELOW_100})\s+hundred\b(?:\s+(?:and\s+)?{_BELOW_100})?|{_BELOW_100})"
_BIG = _either(_BIG_SCALES)
_SCALED = rf"(?:(?:a|{_GROUP})\s+{_BIG})"
_WORDS = rf"(?:{_SCALED}(?:\s+(?:and\s+)?{_SCALED})*(?:\s+(?:and\s+)?{_GROUP})?|{_GROUP}|zero\b)"
_DOZENS = rf"(?:(?:a|half\s+a|{_BELOW_100})\s+dozen\b)"
_HALF = rf"(?:half\s+a\s+(?:hundred\b|{_BIG}))"
# Thousands grouped by commas or spaces (no-break spaces are spaces once folded); a decimal
# point after. Dots may group thousands too: one dot is read by _digits_value, several only so.
_GROUPED = r"[1-9][0-9]{0,2}(?:,[0-9]{3})+|[1-9][0-9]{0,2}(?: [0-9]{3})+"
_DOT_GROUPED = r"[1-9][0-9]{0,2}(?:\.[0-9]{3}){2,}"
_DIGITS = rf"(?:{_DOT_GROUPED}|(?:{_GROUPED}|[1-9][0-9]*|0)(?:\.[0-9]+)?)(?![0-9]|[.,][0-9])"
_MULTIPLIER = _either(_MULTIPLIERS)
_DIGIT_NUMBER = rf"(?P<digits>{_DIGITS})(?:\s+(?P<scale>{_MULTIPLIER}))?"
_NUMBER = rf"(?:{_DOZENS}|{_HALF}|{_WORDS}|{_DIGITS}(?:\s+{_MULTIPLIER})?)"

_RANGE = "(?:" + "|".join(form.format(a=_NUMBER, b=_NUMBER) for form in _RANGE_FORMS) + ")"
_RANGE += f"(?:{_BEST_ESTIMATE.format(p=_NUMBER)})?"
_CORE = rf"(?:{_RANGE}|{_either(VAGUE_WORDS)}|{_NUMBER})"
_FIGURE = (
    rf"(?:(?P<qualifier>{_either(QUALIFIER_PHRASES)})\s+)?"
    rf"(?P<core>{_CORE})(?:\s+(?P<suffix>{_either(SUFFIX_PHRASES)}))?"
)

# The regexes read folded text (see _plain), in small letters: no re.IGNORECASE, which would
# match U+017F, U+212A, U+0130 and U+0131 to ASCII letters that the word tables then miss.
_FIGURE_RE = re.compile(_FIGURE)
_DIGIT_NUMBER_RE = re.compile(_DIGIT_NUMBER)
_NUMBER_RE = re.compile(_NUMBER)
_RANGE_RES = tuple(
    re.compile(
        form.format(a=f"(?P<a>{_NUMBER})", b=f"(?P<b>{_NUMBER})")
        + f"(?:{_BEST_ESTIMATE.format(p=f'(?P<point>{_NUMBER})')})?"
    )
    for form in _RANGE_FORMS
)
_BARE_BOUND_RE = re.compile(rf"{_DIGITS}|{_BELOW_100}")
_SCALED_BOUND_RE = re.compile(
    rf"(?:{_DIGITS}|{_BELOW_100})\s+(?P<scale>{_MULTIPLIER}(?:\s+{_MULTIPLIER})*)"
)
_DOT_THOUSANDS_RE = re.compile(r"[1-9][0-9]{0,2}(?:\.[0-9]{3})+")
_DOT_BEFORE_THREE_RE = re.compile(r"\.[0-9]{3}\Z")

# Why a text failed the grammar, for a message better than "unreadable".
_HINTS = (
    (re.compile(r"\b(?:nan|inf|infinity)\b"), "it is not a finite number"),
    (re.compile(r"^(?:[-\u2212]|(?:minus|negative)\b)"), "a count cannot be negative"),
)
_GRAMMAR_HINT = (
    'it does not follow the figure grammar (for example "164", "at least 164", '
    '"between 100 and 300", "hundreds")'
)


class _Unreadable(Exception):
    """Why a figure cannot be read; parse_figure adds the text."""


# ---------------------------------------------------------------- the text the grammar reads

# Compatibility forms left as they are, because folded they would read as other numbers:
# "5²" is not 52, "①②" not 12, "½" not 1/2.
_UNFOLDED_FORMS = ("<super>", "<sub>", "<circle>", "<fraction>", "<square>")
_ASCII_SMALL = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


@dataclass(frozen=True)
class _Plain:
    """A text folded for the grammar, and where each of its characters comes from."""

    cased: str  # format characters dropped, compatibility forms folded
    small: str  # cased with ASCII capitals small (the same length): what the grammar reads
    origin: list[int] | None  # the text's index of each character of cased; None: the same

    def span_in_text(self, start: int, end: int) -> tuple[int, int]:
        """The span of the text that cased[start:end] (not empty) was folded from."""
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


def _plain(text: str) -> _Plain:
    """The text as the grammar reads it, character by character (so that a span of the text
    folds to the same characters alone as within the whole)."""
    if text.isascii():
        return _Plain(text, text.lower(), None)
    folded = [_plain_character(character) for character in text]
    cased = "".join(folded)
    origin = [i for i, part in enumerate(folded) for _ in part]
    return _Plain(cased, cased.translate(_ASCII_SMALL), origin)


@functools.lru_cache(maxsize=4096)
def _plain_character(character: str) -> str:
    """A format character (zero-width space, soft hyphen, BOM) is dropped; a compatibility
    form (fullwidth letters, the long s, the Kelvin sign, no-break spaces) is folded by NFKC,
    but for forms that would read as other numbers. Other characters stay as they are (the
    dotted capital I and the dotless i among them)."""
    if unicodedata.category(character) == "Cf":
        return ""
    if unicodedata.decomposition(character).startswith(_UNFOLDED_FORMS):
        return character
    return unicodedata.normalize("NFKC", character)


# ---------------------------------------------------------------- intervals (the table of SPEC §2)


def _bounds(qualifier: Qualifier, n: int, t: Fraction) -> tuple[int, int | None, int | None]:
    """(low, high, point) of a qualifier applied to the count n with tolerance t."""
    match qualifier:
        case Q.AT_LEAST:
            return n, None, None
        case Q.MORE_THAN:
            return n + 1, None, None
        case Q.AT_MOST:
            return 0, n, None
        case Q.FEWER_THAN if n > 0:
            return 0, n - 1, None
        case Q.FEWER_THAN:
            raise _Unreadable('"fewer than 0" is no count')
        case Q.APPROXIMATELY:
            return math.ceil((1 - t) * n), math.floor((1 + t) * n), n
        case Q.ALMOST:
            return math.ceil((1 - t) * n), n, n
        case _:  # exact
            return n, n, n


def _vague_bounds(qualifier: Qualifier, low: int, high: int) -> tuple[int, int | None]:
    """(low, high) of a qualifier applied to every count of a vague word's [low, high]."""
    if qualifier in (Q.AT_LEAST, Q.MORE_THAN):
        return _bounds(qualifier, low, Fraction(0))[0], None
    if qualifier in (Q.AT_MOST, Q.FEWER_THAN):
        return 0, _bounds(qualifier, high, Fraction(0))[1]
    raise _Unreadable(f"{qualifier.value} needs a number, not a vague word")


def _figure(
    text: str, qualifier: Qualifier, low: int, high: int | None, point: int | None
) -> Figure:
    """A Figure whose bounds lie within 0..MAX_COUNT and whose point lies inside them."""
    for bound in (low, high, point):
        if bound is not None and not 0 <= bound <= MAX_COUNT:
            raise _Unreadable(f"{bound:,} is beyond the cap of {MAX_COUNT:,}")
    if high is not None and low > high:
        raise _Unreadable(f"its low {low:,} exceeds its high {high:,}")
    if point is not None and not (low <= point and (high is None or point <= high)):
        raise _Unreadable(f"its point {point:,} lies outside its bounds")
    return Figure(text=text, low=low, high=high, point=point, qualifier=qualifier)


def _tolerance(tolerance: float) -> Fraction:
    """The tolerance as an exact fraction in [0, 1]; ValueError for a misconfigured one."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float):
        raise ValueError(f"tolerance must be a number, got {tolerance!r}")
    if not (math.isfinite(tolerance) and 0 <= tolerance <= 1):
        raise ValueError(f"tolerance must lie in [0, 1], got {tolerance!r}")
    # str() keeps the decimal the setting was written in: 0.1 is 1/10, not 0.1000000000000000055.
    return Fraction(str(tolerance))


# ---------------------------------------------------------------- numbers


def _number_value(text: str) -> int:
    """The whole count a number phrase names, within the cap."""
    if _NUMBER_RE.fullmatch(text) is None:
        raise _Unreadable(f'"{text}" is not a number')
    digits = _DIGIT_NUMBER_RE.fullmatch(text)
    words = text.replace("-", " ").split()
    value = _digits_value(digits) if digits else _words_value(words)
    if value > MAX_COUNT:
        raise _Unreadable(f"{value:,} is beyond the cap of {MAX_COUNT:,}")
    return value


def _digits_value(match: re.Match[str]) -> int:
    """The value of digits with an optional scale word; a fraction is refused."""
    written, scale = match["digits"], match["scale"]
    digits = re.sub(r"[^0-9.]", "", written)
    if _groups_by_dots(written, scale):
        digits = digits.replace(".", "")
    value = Fraction(digits) * (_MULTIPLIERS[scale] if scale else 1)
    if value.denominator != 1:
        raise _Unreadable(f'"{match[0]}" is not a whole number of people or things')
    return int(value)


def _groups_by_dots(digits: str, scale: str | None) -> bool:
    """Whether dots group thousands: several dots, or one before exactly three digits and no
    scale word ("8.000" is 8,000; "1.500 million" is 1.5 million); malformed groups are refused."""
    if digits.count(".") < 2 and (scale or _DOT_BEFORE_THREE_RE.search(digits) is None):
        return False
    if _DOT_THOUSANDS_RE.fullmatch(digits) is None:
        raise _Unreadable(
            f'"{digits}" has a dot before three digits, which groups thousands ("8.000" is '
            "8,000), but its groups are malformed"
        )
    return True


def _words_value(words: list[str]) -> int:
    """The value of number words the grammar accepted ("two thousand five hundred" -> 2500)."""
    if words[0] == "half":
        return _MULTIPLIERS[words[2]] // 2
    total, group, previous_scale = 0, 0, MAX_COUNT * 1000
    for word in words:
        if word not in _BIG_SCALES:
            group = _next_group(group, word)
            continue
        scale = _MULTIPLIERS[word]
        if scale >= previous_scale:
            raise _Unreadable(f'"{" ".join(words)}" has its scale words out of order')
        total, group, previous_scale = total + group * scale, 0, scale
    return total + group


def _next_group(group: int, word: str) -> int:
    """The value of a group below a thousand after one more word."""
    if word in ("hundred", "dozen"):
        return group * _MULTIPLIERS[word]
    if word in ("a", "and", "zero"):
        return group + (word == "a")
    return group + (_SMALL.get(word) or _TENS[word])


# ---------------------------------------------------------------- figure texts


def parse_figure(text: str, tolerance: float = DEFAULT_TOLERANCE) -> Figure:
    """The Figure a figure text names exactly; InvalidFigure naming the text otherwise."""
    stripped = text.strip()
    try:
        return _read(stripped, _tolerance(tolerance))
    except _Unreadable as error:
        raise InvalidFigure(f"cannot read the figure {_quoted(stripped)}: {error}") from None


def _quoted(text: str) -> str:
    """The text in quotes, shortened when long."""
    return f'"{text}"' if len(text) <= 60 else f'"{text[:60]}…"'


def _read(text: str, t: Fraction) -> Figure:
    """The Figure of a stripped figure text, read folded (see _plain)."""
    if len(text) > MAX_TEXT_LENGTH:
        raise _Unreadable(f"it is longer than {MAX_TEXT_LENGTH} characters")
    plain = _plain(text).small.strip()
    if not plain:
        raise _Unreadable("it is empty")
    if len(plain) > MAX_TEXT_LENGTH:  # one character may fold to 18 (U+FDFA)
        raise _Unreadable(f"it is longer than {MAX_TEXT_LENGTH} characters once folded")
    match = _FIGURE_RE.fullmatch(plain)
    if match is None:
        raise _Unreadable(next((why for hint, why in _HINTS if hint.search(plain)), _GRAMMAR_HINT))
    return _read_core(text, match["core"], _qualifier(match), t)


def _qualifier(match: re.Match[str]) -> Qualifier | None:
    """The qualifier of a prefix ("at least") or a suffix ("or more"); not both."""
    prefix, suffix = match["qualifier"], match["suffix"]
    if prefix and suffix:
        raise _Unreadable(f'it has two qualifiers, "{prefix}" and "{suffix}"')
    if prefix:
        return QUALIFIER_PHRASES[_normal(prefix)]
    return SUFFIX_PHRASES[_normal(suffix)] if suffix else None


def _normal(phrase: str) -> str:
    """A phrase (folded, so in small letters) with single spaces, as the tables spell it."""
    return " ".join(phrase.split())


def _read_core(text: str, core: str, qualifier: Qualifier | None, t: Fraction) -> Figure:
    """The Figure of a vague word, a number or a range under a qualifier."""
    vague = VAGUE_WORDS.get(_normal(core))
    if vague is not None and qualifier is None:
        return _figure(text, Q.VAGUE, *vague, None)
    if vague is not None and qualifier is not None:
        return _figure(text, qualifier, *_vague_bounds(qualifier, *vague), None)
    # A number before a range: "forty-two" is 42, not the range 40-2.
    if _NUMBER_RE.fullmatch(core) is not None:
        qualifier = qualifier or Q.EXACT
        return _figure(text, qualifier, *_bounds(qualifier, _number_value(core), t))
    if qualifier is not None:
        raise _Unreadable(f"a range takes no qualifier ({qualifier.value})")
    ranged = next(match for form in _RANGE_RES if (match := form.fullmatch(core)))
    return _range_figure(text, ranged)


def _range_figure(text: str, match: re.Match[str]) -> Figure:
    """The Figure of "between A and B", "A-B", "A to B" or "from A to B"; A must not exceed B."""
    high = _number_value(match["b"])
    low = _low_bound(match["a"], match["b"], high)
    point = _number_value(match["point"]) if match["point"] else None
    return _figure(text, Q.RANGE, low, high, point)


def _low_bound(a: str, b: str, high: int) -> int:
    """A's value; a bare A takes B's scale words when that keeps it <= B ("1 and 2 million")."""
    scaled = _SCALED_BOUND_RE.fullmatch(b)
    if scaled is not None and _BARE_BOUND_RE.fullmatch(a) is not None:
        shared = _value_or_none(f"{a} {scaled['scale']}")
        if shared is not None and shared <= high:
            return shared
    return _number_value(a)


def _value_or_none(text: str) -> int | None:
    """The value of a number phrase, or None when it names no whole count within the cap."""
    try:
        return _number_value(text)
    except _Unreadable:
        return None


# ---------------------------------------------------------------- structured figures


def figure_from_parts(
    *,
    value: object = None,
    qualifier: object = None,
    low: object = None,
    high: object = None,
    point: object = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Figure:
    """The Figure of {value, qualifier} or {low, high, point}, with a rendered text.

    `value` takes any qualifier but range and vague (default exact) and gives the
    interval its text would. `low` alone is open ([low, open], at_least); with `high`
    it is a range, or exact when low == high; `point` must lie inside a closed range.
    """
    t = _tolerance(tolerance)
    if value is not None and (low, high, point) != (None, None, None):
        raise InvalidFigure(
            "a figure has either a value or low/high/point, not both", field="value"
        )
    if value is not None:
        figure = _from_value(_count("value", value), _parts_qualifier(qualifier), t)
    elif low is not None:
        figure = _from_bounds(low, high, point, qualifier)
    else:
        raise InvalidFigure("a figure needs a value or a low bound", field="value")
    return replace(figure, text=render_figure(figure))


def _from_value(value: int, qualifier: Qualifier, t: Fraction) -> Figure:
    """The Figure of a value under a qualifier, as its text would read."""
    if qualifier in (Q.RANGE, Q.VAGUE):
        raise InvalidFigure(f"qualifier {qualifier.value} does not take a value", field="qualifier")
    try:
        return _figure("", qualifier, *_bounds(qualifier, value, t))
    except _Unreadable as error:
        raise InvalidFigure(
            f"invalid figure: {qualifier.value} {value:,}: {error}", field="value"
        ) from None


def _from_bounds(low: object, high: object, point: object, qualifier: object) -> Figure:
    """The Figure of [low, high] with an optional point: range, exact, or at_least when open."""
    low_n = _count("low", low)
    high_n = None if high is None else _count("high", high)
    point_n = None if point is None else _count("point", point)
    if high_n is not None and low_n > high_n:
        raise InvalidFigure(f"low {low_n:,} exceeds high {high_n:,}", field="high")
    if point_n is not None and (high_n is None or not low_n <= point_n <= high_n):
        raise InvalidFigure("point must lie inside closed bounds [low, high]", field="point")
    implied = Q.AT_LEAST if high_n is None else Q.EXACT if low_n == high_n else Q.RANGE
    if qualifier is not None and _parts_qualifier(qualifier) is not implied:
        raise InvalidFigure(f"these bounds make a {implied.value} figure", field="qualifier")
    point_n = low_n if implied is Q.EXACT else point_n
    return Figure(text="", low=low_n, high=high_n, point=point_n, qualifier=implied)


def _count(field: str, value: object) -> int:
    """A whole number of 0..MAX_COUNT from an int or an integral float; InvalidFigure otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidFigure(f"{field} must be a whole number, got {value!r}", field=field)
    if isinstance(value, float) and not value.is_integer():
        raise InvalidFigure(f"{field} must be a whole number, got {value!r}", field=field)
    count = int(value)
    if not 0 <= count <= MAX_COUNT:
        raise InvalidFigure(f"{field} must lie in 0..{MAX_COUNT:,}, got {count:,}", field=field)
    return count


def _parts_qualifier(qualifier: object) -> Qualifier:
    """The Qualifier a structured figure names (default exact); InvalidFigure for another word."""
    if qualifier is None:
        return Q.EXACT
    if isinstance(qualifier, str) and qualifier in set(Q):
        return Q(qualifier)
    raise InvalidFigure(f"unknown qualifier {qualifier!r}", field="qualifier")


# ---------------------------------------------------------------- rendering

_VAGUE_BY_BOUNDS = {bounds: word for word, bounds in VAGUE_WORDS.items()}


def render_figure(fig: Figure) -> str:
    """A canonical text that parse_figure reads back to the same low, high, point, qualifier.

    `about N` and `almost N` read back so under the tolerance the figure was made with.
    """
    match fig.qualifier, fig.high, fig.point:
        case Q.EXACT, _, _:
            return f"{fig.low:,}"
        case Q.AT_LEAST, None, _:
            return f"at least {fig.low:,}"
        case Q.MORE_THAN, None, _:
            return f"more than {fig.low - 1:,}"
        case Q.AT_MOST, int(high), _:
            return f"at most {high:,}"
        case Q.FEWER_THAN, int(high), _:
            return f"fewer than {high + 1:,}"
        case Q.APPROXIMATELY, _, int(point):
            return f"about {point:,}"
        case Q.ALMOST, _, int(point):
            return f"almost {point:,}"
        case Q.VAGUE, int(high), _ if (fig.low, high) in _VAGUE_BY_BOUNDS:
            return _VAGUE_BY_BOUNDS[fig.low, high]
    return _render_bounds(fig)


def _render_bounds(fig: Figure) -> str:
    """The bounds of a range (and of any figure no other form fits) as "low-high"."""
    if fig.high is None:
        return f"at least {fig.low:,}"
    text = f"{fig.low:,}-{fig.high:,}"
    return text if fig.point is None else f"{text} (best estimate {fig.point:,})"


# ---------------------------------------------------------------- figures in prose

_MONTH = (
    r"(?-i:(?:January|February|March|April|May|June|July|August|September|October|November"
    r"|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?)"
)
_CURRENCY_WORDS = (
    r"(?:US\s+)?dollars?|euros?|pounds?|yen|yuan|roubles?|rubles?|tenge|francs?|rupees?"
    r"|USD|EUR|GBP|RUB|KZT"
)
_YEAR = r"(?:19[0-9]{2}|20[0-9]{2}|2100)"
# Nouns after which a number like a year is a count.
_COUNTED = (
    r"people|persons|residents|civilians|soldiers|troops|police|officers|protesters|demonstrators"
    r"|children|refugees|migrants|workers|deaths|dead|casualties|cases|homes|houses|families"
)
# Numbers in prose that are not counts: a figure overlapping one of these spans is skipped,
_NOT_COUNT_SPANS = {
    "date": (
        r"\b[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}\b",
        r"\b[0-9]{1,2}[/.][0-9]{1,2}[/.][0-9]{2,4}\b",
        rf"\b[0-9]{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+[0-9]{{4}}\b)?",
        rf"\b{_MONTH}\s+[0-9]{{1,2}}(?:st|nd|rd|th)?\b(?!,?[0-9])(?:,?\s+[0-9]{{4}}\b)?",
        rf"\b{_MONTH},?\s+[0-9]{{4}}\b",
    ),
    # "2000 people" counts people; "in 2000 people voted" does not.
    "year": (
        rf"(?<![0-9,.]){_YEAR}(?![0-9]|[.,][0-9])(?!\s+(?:{_COUNTED})\b)",
        rf"\b(?:in|since|by|until|till|from|before|after|during|of|early|late|mid)\s+{_YEAR}\b",
    ),
    "time": (r"\b[0-9]{1,2}:[0-9]{2}\b", r"\b[0-9]{1,2}\s*(?:[ap]\.m\.|[ap]m\b)"),
    "ordinal": (r"\b[0-9]+(?:st|nd|rd|th)\b",),
    "pronoun": (r"\bno\s+one\b", r"\bone\s+another\b", r"\bone\s+by\s+one\b"),
}
# and so is a figure right after these words,
_NOT_COUNT_BEFORE = {
    "money": r"(?:US\$|[$€£¥₸₽]|\b(?:USD|EUR|GBP|RUB|KZT))\s*",
    "age": r"\b(?:aged|ages?)(?:\s+of)?\s+",
}
# or right before these.
_NOT_COUNT_AFTER = {
    "percentage": r"\s*(?:%|per\s*cent\b|percent\b|percentage\s+points?\b)",
    "money": rf"\s+(?:{_CURRENCY_WORDS})\b",
    "age": r"[\s-]+years?(?:[\s-]+old\b|\s+of\s+age\b)",
    "time": r"\s+o['\u2019]clock\b",
}
_NOT_COUNT_SPAN_RES = tuple(re.compile("|".join(p), re.I) for p in _NOT_COUNT_SPANS.values())
_NOT_COUNT_BEFORE_RE = re.compile("(?:" + "|".join(_NOT_COUNT_BEFORE.values()) + r")\Z", re.I)
_NOT_COUNT_AFTER_RE = re.compile("|".join(_NOT_COUNT_AFTER.values()), re.I)
# A phone number: 3+ digit groups, 7+ digits, not a number grouped in thousands. It starts
# where digits start and takes whole groups (possessive), so that no run is read twice.
_DIGIT_RUN_RE = re.compile(r"(?<![0-9])\+?\(?[0-9]++\)?(?:[ .\-]\(?[0-9]++\)?){2,}")
_THOUSANDS_RE = re.compile(r"[1-9][0-9]{0,2}(?:(?: [0-9]{3})+|(?:\.[0-9]{3})+)")
# A figure in prose starts and ends at a word edge and is not glued to other digits.
_EDGE_BEFORE = r"(?<![\w.,+\-\u2212/:#])"
_IN_PROSE_RE = re.compile(rf"{_EDGE_BEFORE}{_FIGURE}(?!\w|[-\u2013./:,][0-9])")
_FIGURE_START_RE = re.compile(rf"{_EDGE_BEFORE}[0-9a-z]")
_LOOKAHEAD = 2  # characters _IN_PROSE_RE reads past the end of a figure


def find_figures(text: str, tolerance: float = DEFAULT_TOLERANCE) -> list[tuple[int, int, Figure]]:
    """(start, end, Figure) of each figure phrase in prose, leftmost-longest, skipping non-counts.

    Each Figure is what parse_figure reads from text[start:end]. Dates, years
    1900-2100 (but not "2000 people"), times, percentages, money, ordinals, ages
    and phone numbers are not counts and are skipped. Time and memory grow linearly
    with the text: a figure is looked for only where a word starts, within the longest
    text parse_figure reads.
    """
    plain = _plain(text)
    skipped = _Skipped.of(_not_count_spans(plain.cased))
    found: list[tuple[int, int, Figure]] = []
    position = 0
    while (start := _FIGURE_START_RE.search(plain.small, position)) is not None:
        figure, position = _figure_at(text, plain, start.start(), skipped, tolerance)
        if figure is not None:
            found.append(figure)
    return found


def _figure_at(
    text: str, plain: _Plain, at: int, skipped: _Skipped, tolerance: float
) -> tuple[tuple[int, int, Figure] | None, int]:
    """The figure starting at plain[at] unless unreadable or not a count, and where to go on."""
    window = min(len(plain.small), at + MAX_TEXT_LENGTH + _LOOKAHEAD)
    match = _IN_PROSE_RE.match(plain.small, at, window)
    if match is None or match.end() - at > MAX_TEXT_LENGTH:
        return None, at + 1
    start, end = plain.span_in_text(at, match.end())
    try:
        figure = parse_figure(text[start:end], tolerance)
    except InvalidFigure:
        return None, at + 1  # "between 300 and 100" still holds 300 and 100
    reach = skipped.reach_into(at, match.end())
    if reach is not None:
        return None, min(match.end(), reach)  # "January 9 400": 400 follows the date
    if _not_a_count_here(plain.cased, at, match.end()):
        return None, match.end()
    return (start, end, figure), match.end()


@dataclass(frozen=True)
class _Skipped:
    """Spans of numbers that are not counts, sorted, with the furthest end reached so far."""

    starts: list[int]
    reach: list[int]  # reach[i]: the furthest end of spans[:i + 1]

    @classmethod
    def of(cls, spans: list[tuple[int, int]]) -> _Skipped:
        ordered = sorted(spans)
        ends = itertools.accumulate((end for _, end in ordered), max)
        return cls([start for start, _ in ordered], list(ends))

    def reach_into(self, start: int, end: int) -> int | None:
        """The furthest end of the spans that overlap [start, end), or None when none does."""
        before_end = bisect.bisect_left(self.starts, end)  # spans starting before `end`
        reach = self.reach[before_end - 1] if before_end else None
        return reach if reach is not None and reach > start else None


def _not_a_count_here(text: str, start: int, end: int) -> bool:
    """Whether the words around text[start:end] make it money, a percentage, an age or a time."""
    before = _NOT_COUNT_BEFORE_RE.search(text, max(0, start - 20), start)
    return before is not None or _NOT_COUNT_AFTER_RE.match(text, end) is not None


def _not_count_spans(text: str) -> list[tuple[int, int]]:
    """The spans of dates, years, times, ordinals, the pronoun "one" and phone numbers."""
    spans = [match.span() for pattern in _NOT_COUNT_SPAN_RES for match in pattern.finditer(text)]
    for run in _DIGIT_RUN_RE.finditer(text):
        digits = sum(char.isdigit() for char in run[0])
        if digits >= 7 and _THOUSANDS_RE.fullmatch(run[0]) is None:
            spans.append(run.span())
    return spans
