"""What a figure is: a count ("the toll rose to 14"), an increment of a total ("after two more
bodies were found", "604 new deaths") or a forecast ("could reach 20,000").

Only counts are ready to post as claims; increments and forecasts are proposed with their kind
so that an editor sees them, never as totals.

"More", "another" and their kin also mean "besides": "12 were killed; hundreds more were
injured" counts the injured, it adds to no total. So a figure with such a word is an
increment unless the figure before it in the paragraph counts something else; "another" is
one only after a figure of the same metric or before "bringing the toll to". A daily figure
("the highest daily figure") is an increment too, unless the sentence gives it as a total.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.extraction.cues import phrase_set, word_set
from app.extraction.readings import Reading
from app.extraction.tokens import Token, phrase_at

__all__ = ["COUNT", "FORECAST", "INCREMENT", "KINDS", "Signs", "kind_of", "signs_of"]

COUNT, INCREMENT, FORECAST = "count", "increment", "forecast"
KINDS = (COUNT, INCREMENT, FORECAST)

_TO_TOTAL = phrase_set(
    "bringing the", "raising the", "taking the", "bringing to", "raising to", "taking to",
    "pushing the", "bringing its", "taking its",
)  # fmt: skip
_DAILY = phrase_set("daily", "in 24 hours", "in the past 24 hours", "in the last 24 hours")
_TOTALS = word_set("total toll tally overall cumulative")
_FIRST_WORDS = frozenset(phrase[0] for phrase in _DAILY | _TO_TOTAL)


@dataclass(frozen=True)
class Signs:
    """What a whole sentence says of the kind of its figures."""

    daily: str | None  # "daily", "in the past 24 hours"
    to_total: bool  # "bringing the toll to"


def signs_of(tokens: list[Token]) -> Signs:
    """The signs of a sentence, read once."""
    daily, to_total = None, False
    for i in range(len(tokens)):
        if tokens[i].word not in _FIRST_WORDS:
            continue
        if daily is None and (length := phrase_at(tokens, i, _DAILY)):
            daily = " ".join(token.text for token in tokens[i : i + length])
        to_total = to_total or bool(phrase_at(tokens, i, _TO_TOTAL))
    return Signs(daily, to_total)


def kind_of(
    reading: Reading, tokens: list[Token], signs: Signs, earlier: str | bool | None
) -> tuple[str, str | None]:
    """(kind, the words that say so) of a reading; `earlier` is the metric of the figure
    before it in the paragraph (None for a count no metric names), False when there is none."""
    if reading.increment is not None and _adds(reading, signs, earlier):
        return INCREMENT, reading.increment
    if signs.daily is not None and not _is_total(tokens, reading.index):
        return INCREMENT, signs.daily
    if reading.forecast is not None:
        return FORECAST, reading.forecast
    return COUNT, None


def _adds(reading: Reading, signs: Signs, earlier: str | bool | None) -> bool:
    """Whether the "more"/"another" of a reading adds to a total rather than means "besides"."""
    if (reading.increment or "").endswith(" new"):
        return True  # "604 new deaths": never "besides"
    if earlier is not False and earlier != reading.metric:
        return False
    if reading.increment == "another":
        return earlier is not False or signs.to_total
    return True


def _is_total(tokens: list[Token], k: int) -> bool:
    """Whether the figure at tokens[k] is given as a total: "bringing the total to 16,523"."""
    before = tokens[max(0, k - 6) : k]
    words = {token.word for token in before}
    return bool(_TOTALS & words) or any(phrase_at(before, i, _TO_TOTAL) for i in range(len(before)))
