"""Reading one figure against the words around it: its head, metric and population."""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain.vocabulary import ALL, PROTESTERS, TROOPS_DEPLOYED
from app.extraction.cues import (
    AUXILIARIES,
    DAY_NAMES,
    DETERMINERS,
    INCLUDING,
    LEFT_FILLERS,
    LEVEL_VERBS,
    MODALS,
    NEGATIONS,
    POPULATION_NOUNS,
    PREPOSITIONS,
    PROTESTER_NOUNS,
    TROOP_NOUNS,
    phrase_set,
    word_set,
)
from app.extraction.heads import Head, find_head, is_people
from app.extraction.tokens import Token, cue_at, cue_ending, phrase_at, phrase_ending

__all__ = ["Reading", "is_candidate", "population_of", "read_figures"]


@dataclass(frozen=True)
class Reading:
    """What the words around one figure say of it."""

    index: int
    head: Head
    metric: str | None
    cue: str | None
    source: str  # where the metric came from, for confidence
    negated: bool = False
    hedged: str | None = None
    unnamed: bool = False  # a count no built-in metric names ("cases", "affected")
    part: bool = False  # a part of the figure before ("including 12 children", "six of them")


def read_figures(tokens: list[Token]) -> list[Reading]:
    """The reading of every figure in a sentence that counts people, in order."""
    readings: list[Reading] = []
    whole: Reading | None = None
    for k, token in enumerate(tokens):
        reading = (
            _read(tokens, k, readings[-1] if readings else None, whole) if token.figure else None
        )
        if reading is not None:
            readings.append(reading)
            whole = whole if reading.part else reading
    return readings


def is_candidate(reading: Reading) -> bool:
    """Whether a reading is proposed: it names a metric, or a count no metric names."""
    return not reading.negated and (reading.metric is not None or reading.unnamed)


def population_of(reading: Reading) -> tuple[str, str | None]:
    """(population, the noun that says so) of a reading; metrics of people as such are all."""
    noun = reading.head.noun
    if noun is None or reading.metric in (TROOPS_DEPLOYED.name, PROTESTERS.name):
        return ALL.name, None
    for population, nouns in POPULATION_NOUNS:
        if noun in nouns:
            return population, noun
    return ALL.name, None


# ---------------------------------------------------------------- one figure

_NONE_OF = phrase_set("none of the", "none of")


def _read(
    tokens: list[Token], k: int, last: Reading | None, whole: Reading | None
) -> Reading | None:
    """The reading of the figure at tokens[k], after the `last` reading and the `whole` last
    reading that is not a part of another."""
    if _is_name(tokens, k - 1):
        return None  # "Boeing 737", "Flight 17", "Article 5"
    head = find_head(tokens, k + 1)
    if head is None:
        return None
    if head.noun is None and whole is not None and _shares_noun(tokens, whole.index, k):
        head = replace(head, noun=whole.head.noun, elided=True)
    if _is_rate(tokens, head.end):
        return None  # "20 refugees arrive every hour"
    cue, negated, modal = _predicate(tokens, head.end)
    negated = negated or phrase_ending(tokens, k - 1, _NONE_OF) > 0
    modal = modal or _level_modal(tokens, k)
    part = phrase_ending(tokens, k - 1, INCLUDING) > 0 or head.noun in ("them", "whom")
    part = part or _anaphoric_level(tokens, k)
    reading = Reading(k, head, None, None, "none", negated, modal, part=part)
    for source, found in (("predicate", cue), ("head", head.cue), ("before", _left_cue(tokens, k))):
        if found is not None and _fits(found[0], head, tokens, k):
            metric, unnamed = found[0] or None, not found[0]
            return replace(reading, metric=metric, cue=found[1], source=source, unnamed=unnamed)
    return _metric_from_context(tokens, reading, last)


def _metric_from_context(tokens: list[Token], reading: Reading, whole: Reading | None) -> Reading:
    """A reading with no cue of its own: the metric of the figure it is part of, or protesters."""
    head = reading.head
    gapped = head.elided and not _has_verb(tokens, head.end)  # "105 died in A and 52 in B"
    if (reading.part or gapped) and whole is not None and (whole.metric or whole.unnamed):
        same = (whole.metric, whole.cue, whole.unnamed)
        return replace(reading, metric=same[0], cue=same[1], unnamed=same[2], source="part")
    if head.noun in PROTESTER_NOUNS:
        return replace(reading, metric=PROTESTERS.name, cue=head.noun, source="head")
    return reading


def _fits(metric: str, head: Head, tokens: list[Token], k: int) -> bool:
    """Whether a cue's metric may apply to what the head counts: troops are deployed, not sent.

    A figure with no noun is deployed when troops are near ("troops ... the 14,000 deployed").
    """
    if metric != TROOPS_DEPLOYED.name:
        return True
    if head.noun is None:
        return any(token.word in TROOP_NOUNS for token in tokens[max(0, k - 30) : k + 30])
    return head.noun in TROOP_NOUNS


def _shares_noun(tokens: list[Token], previous: int, k: int) -> bool:
    """Whether a bare figure elides the noun of the one before ("12 soldiers ... and 40")."""
    between = [token.word for token in tokens[previous + 1 : k]]
    return "and" in between and not any(word in ("toll", "total") for word in between)


def _is_name(tokens: list[Token], i: int) -> bool:
    """Whether tokens[i], before a figure, makes it part of a name: "Flight 17", not "Sunday 12"."""
    if i < 0 or not tokens[i].word or not tokens[i].text[0].isupper():
        return False
    starts_sentence = not any(token.word for token in tokens[:i])
    return not starts_sentence and tokens[i].word not in DAY_NAMES


_RATES = phrase_set(
    *(
        f"{each} {unit}"
        for each in ("every", "per", "a", "each")
        for unit in ("minute", "hour", "day", "week", "month", "year")
    )
)


def _is_rate(tokens: list[Token], i: int) -> bool:
    """Whether the words after a head make its figure a rate ("every hour", "a day")."""
    return any(phrase_at(tokens, j, _RATES) for j in range(i, min(i + 6, len(tokens))))


# ---------------------------------------------------------------- the predicate after the head


def _predicate(tokens: list[Token], i: int) -> tuple[tuple[str, str] | None, bool, str | None]:
    """(cue, negated, modal) of the predicate from tokens[i]: "were reportedly killed"."""
    negated, modal, phrase = False, None, 0
    i = _skip_relative(tokens, _skip_coordinate(tokens, _skip_aside(tokens, i)))
    for j in range(i, min(i + 14, len(tokens))):
        if (cue := cue_at(tokens, j)) is not None:
            return cue, negated, modal
        word = tokens[j].word
        if word in NEGATIONS or word.endswith("n't"):
            negated = True
        elif word in MODALS:
            modal = modal or word
        elif word in AUXILIARIES:
            phrase = 0  # "12 people in the city were killed": the verb ends the place
        elif word in PREPOSITIONS and not phrase:
            phrase = 1
        elif phrase and word in ("and", "or") and cue_at(tokens, j + 1):
            break  # "killed 94 people in Mozambique and injured 768": another predicate
        elif phrase and (word or tokens[j].figure) and phrase < 8:
            phrase += 1
        else:
            break
    return None, False, None


def _skip_coordinate(tokens: list[Token], i: int) -> int:
    """The index after a second subject ("Ten girls and a counselor were missing")."""
    if i >= len(tokens) or tokens[i].word not in ("and", "or"):
        return i
    j = i + 1
    while j < min(i + 4, len(tokens)) and (tokens[j].word in DETERMINERS or tokens[j].figure):
        j += 1
    for noun in range(j, min(j + 3, len(tokens))):
        if is_people(tokens[noun]) and not cue_at(tokens, noun):
            return noun + 1
    return i


_BE = word_set("are is were was have has had")


def _skip_relative(tokens: list[Token], i: int) -> int:
    """The index of the main verb after a relative clause ("who were filling potholes ... are")."""
    if i >= len(tokens) or tokens[i].word not in ("who", "that"):
        return i
    for j in range(i + 1, min(i + 14, len(tokens))):
        if cue_at(tokens, j) or tokens[j].figure or not tokens[j].word:
            return i  # "who were killed": the clause is the predicate
        if tokens[j].word in _BE and tokens[j - 1].word not in AUXILIARIES | {"who", "that"}:
            return j
    return i


def _skip_aside(tokens: list[Token], i: int) -> int:
    """The index after an aside between commas (", including three children,")."""
    if i + 1 < len(tokens) and tokens[i].text == "," and phrase_at(tokens, i + 1, INCLUDING):
        for j in range(i + 2, min(i + 12, len(tokens))):
            if tokens[j].text == ",":
                return j + 1
    return i


def _has_verb(tokens: list[Token], i: int) -> bool:
    """Whether a verb of its own follows a head, rather than a place, a time or nothing."""
    word = tokens[i].word if i < len(tokens) else ""
    return bool(word) and word not in PREPOSITIONS and word not in ("and", "or")


# ---------------------------------------------------------------- the words before the figure


def _left_cue(tokens: list[Token], k: int) -> tuple[str, str] | None:
    """The cue before a figure: "killing at least 12", "deaths of", "the toll ... rose to 50"."""
    i = k - 1
    while i >= 0 and tokens[i].word in LEFT_FILLERS:
        i -= 1
    if i >= 0 and (cue := cue_ending(tokens, i)) is not None:
        return cue
    level = phrase_ending(tokens, k - 1, LEVEL_VERBS)
    return _subject_cue(tokens, k - 1 - level) if level else None


def _subject_cue(tokens: list[Token], i: int) -> tuple[str, str] | None:
    """The nearest cue in the subject before a level verb, within the clause."""
    for j in range(i, max(i - 12, -1), -1):
        if tokens[j].text in (";", ":"):
            return None
        if (cue := cue_ending(tokens, j)) is not None:
            return cue
    return None


def _level_modal(tokens: list[Token], k: int) -> str | None:
    """The modal before a level verb ("the number could reach 500")."""
    level = phrase_ending(tokens, k - 1, LEVEL_VERBS)
    before = k - 1 - level
    return tokens[before].word if level and before >= 0 and tokens[before].word in MODALS else None


def _anaphoric_level(tokens: list[Token], k: int) -> bool:
    """Whether a level verb's subject is the figure before ("the number could reach 500")."""
    level = phrase_ending(tokens, k - 1, LEVEL_VERBS)
    subject = [token.word for token in tokens[max(0, k - 1 - level - 3) : k - level]]
    return bool(level) and any(word in ("number", "figure", "total", "tally") for word in subject)
