"""Ages: numbers that give an age are no count ("13 or younger", "the youngest was 2"), and an
age under 18 says that the people counted are children ("six of them under the age of 16")."""

from __future__ import annotations

from app.domain.figures import find_figures
from app.domain.model import Qualifier
from app.extraction.cues import phrase_set, word_set
from app.extraction.tokens import Token, phrase_at, phrase_ending, word_at

__all__ = ["ADULT_AGE", "is_age", "youngest_bound"]

ADULT_AGE = 18
_AFTER = phrase_set(
    "or younger", "or older", "and younger", "and older", "or under", "or over", "and under",
    "and over", "years", "year", "months", "weeks", "days old", "months old", "years old",
)  # fmt: skip
_BEFORE = phrase_set(
    "aged", "ages", "age of", "ages of", "age", "youngest was", "oldest was", "youngest were",
    "oldest were", "youngest", "oldest", "younger than", "older than", "aged between",
    "aged under", "aged over", "under age", "under the age of", "over the age of", "age was",
    "age is", "ages were", "ages are", "age being",
)  # fmt: skip
# Words that may stand between an age's words and its number ("the youngest just 15").
_BARELY = word_set("just only barely")
# Words after a number that give a duration as often as an age ("face 5 years in jail").
_DURATIONS = phrase_set("years", "year", "months", "weeks")
_BE = word_set("were was are is all")


def is_age(tokens: list[Token], k: int) -> bool:
    """Whether the figure at tokens[k] gives an age: "13 or younger", "aged 19, 24 and 31",
    "the youngest was 2", "1,100 of them were under 18"."""
    figure = tokens[k].figure
    assert figure is not None
    if phrase_at(tokens, k + 1, _AFTER) or phrase_ending(tokens, k - 1, _BEFORE):
        return True
    if k > 1 and tokens[k - 1].word in _BARELY and phrase_ending(tokens, k - 2, _BEFORE):
        return True
    if k > 1 and tokens[k - 1].word in _BE and _age_is_subject(tokens, k - 1):
        return True  # "the median age of the 48 patients on ventilators is 63"
    j = k - 1
    while j >= 0 and (tokens[j].figure or tokens[j].text == "," or tokens[j].word == "and"):
        j -= 1  # "aged 19, 24 and 31"
    if j < k - 1 and j >= 0 and tokens[j].word in ("aged", "ages"):
        return True
    over_under = figure.qualifier in (Qualifier.FEWER_THAN, Qualifier.MORE_THAN)
    if not (over_under and figure.low <= 120 and k > 1 and tokens[k - 1].word in _BE):
        return False  # "were under 18", "were over 75", not "the toll was over 50"
    return figure.low <= 21 or tokens[k - 2].word not in _COUNT_SUBJECTS


def _age_is_subject(tokens: list[Token], verb: int) -> bool:
    """Whether the clause before the verb at tokens[verb] is about an age ("the average age of
    the victims was", "the oldest of the 30 people hurt was")."""
    for i in range(verb - 1, max(verb - 12, -1), -1):
        if tokens[i].text in (",", ";", ":"):
            return False
        if tokens[i].word in ("age", "ages", "youngest", "oldest"):
            return True
    return False


_COUNT_SUBJECTS = word_set("toll tally total number figure count deaths dead casualties")


def youngest_bound(tokens: list[Token], i: int, stop: int) -> int | None:
    """The upper bound of an age given in tokens[i:stop], if any: "under the age of 16" is
    15, "13 or younger" 13, "aged four or younger" 4, "under 18" 17, "between 4 and 12" 12."""
    for j in range(i, min(stop, len(tokens))):
        if tokens[j].text in (";", ","):
            return None
        bound = _age_at(tokens, j)
        if bound is not None:
            return bound
    return None


def _age_at(tokens: list[Token], j: int) -> int | None:
    """The age bound a number at tokens[j] gives, if it gives one."""
    figure = tokens[j].figure
    if figure is not None and figure.qualifier == Qualifier.FEWER_THAN:
        return figure.high if is_age(tokens, j) else None
    before = phrase_ending(tokens, j - 1, _BEFORE)
    after = phrase_at(tokens, j + 1, _AFTER)
    duration = after == 1 and phrase_at(tokens, j + 1, _DURATIONS) == 1
    if not (before or (after and not duration)):
        return None  # "up to 5 years in jail" is no age
    value = _number(tokens[j])
    if value is None:
        return None
    if before and tokens[j - 1].word == "between" and word_at(tokens, j + 1) == "and":
        return _number(tokens[j + 2]) if j + 2 < len(tokens) else None
    under = tokens[j - 1].word == "of" and "under" in (t.word for t in tokens[j - 4 : j])
    return value - 1 if under or phrase_ending(tokens, j - 1, _UNDER) else value


_UNDER = phrase_set("under", "aged under", "under age", "younger than")


def _number(token: Token) -> int | None:
    """The number a token gives: a figure's upper bound, or a word the grammar skipped as an
    age ("16" in "under the age of 16")."""
    if token.figure is not None:
        return token.figure.high
    if token.word.isascii() and token.word.isdigit() and len(token.word) <= 3:
        return int(token.word)
    found = find_figures(token.text) if token.word.isalpha() and len(token.word) <= 9 else []
    return found[0][2].high if found and found[0][1] - found[0][0] == len(token.text) else None
