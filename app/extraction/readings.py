"""Reading one figure against the words around it: its head, metric, population and kind.

A figure is read in the clause around it, nearest words first:

1. whether it counts at all: not part of a name ("Flight 17"), an adjective ("nine-storey"),
   an age ("13 or younger", "the median age was 54"), a rate ("a day"), or the object or
   subject of a verb that makes no claim ("sentenced 11 protesters", "the 48 prisoners
   released");
2. its head (heads.py): the noun it counts. In "N of the M ..." the head is M's, and M itself
   counts only by the word right after it ("300 of the 1,200 detained");
3. its metric (predicates.py), from the first cue that applies: a noun the figure belongs to
   ("the deaths of 247"), a count noun as its head ("442 deaths and 402 people missing"), the
   predicate after the head ("were killed"), the head ("300 injured people"), the cue before
   it ("killing 12", "the toll rose to 50"); else from the figure it is part of or listed
   with ("including 12 children", "six in Lagos, three in Abuja", "Deaths: Georgia, 33");
4. its population: the people counted, said after them ("were minors") or by an age under 18
   ("six of them under the age of 16"), or those "them" stands for;
5. the words that make it a change of a total ("two more", "rose by") or a figure that may
   come ("could reach"): kinds.py weighs them against the rest of the paragraph.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from app.domain.vocabulary import ALL, ARRESTS, CHILDREN, DEATHS, PROTESTERS, TROOPS_DEPLOYED
from app.extraction.ages import ADULT_AGE, is_age, youngest_bound
from app.extraction.cues import (
    COMPARED,
    CUES,
    DAY_NAMES,
    FORECAST_WORDS,
    INCLUDING,
    INCREMENT_AFTER,
    INCREMENT_BEFORE,
    LEFT_FILLERS,
    LEGAL_WORDS,
    LEVEL_VERBS,
    NOT_CLAIM_VERBS,
    PLACED,
    POPULATION_NOUNS,
    PREPOSITIONS,
    PROTEST_WORDS,
    PROTESTER_NOUNS,
    SHARE_WORDS,
    TROOP_NOUNS,
    UNNAMED,
    WEAK_PROTEST_CUES,
    phrase_set,
    word_set,
)
from app.extraction.heads import Head, find_head, is_people
from app.extraction.predicates import Cue, left_cue, predicate
from app.extraction.tokens import Token, phrase_at, phrase_ending, word_at

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
    people: str | None = None  # the noun that says who is counted
    young: int | None = None  # the oldest age the people counted may have, when said
    increment: str | None = None  # "two more", "rose by": the words of a change
    forecast: str | None = None  # "could", "expect": the word of a figure that may come


def read_figures(tokens: list[Token]) -> list[Reading]:
    """The reading of every figure in a sentence that counts people, in order."""
    readings: list[Reading] = []
    whole: Reading | None = None
    last: Reading | None = None  # the last reading that names a metric
    for k, token in enumerate(tokens):
        reading = _read(tokens, k, last, whole) if token.figure else None
        if reading is not None:
            readings.append(reading)
            whole = whole if reading.part else reading
            last = reading if is_candidate(reading) else last
    return readings


def is_candidate(reading: Reading) -> bool:
    """Whether a reading is proposed: it names a metric, or a count no metric names."""
    return not reading.negated and (reading.metric is not None or reading.unnamed)


def population_of(reading: Reading) -> tuple[str, str | None]:
    """(population, the words that say so) of a reading; metrics of people as such are all."""
    if reading.metric in (TROOPS_DEPLOYED.name, PROTESTERS.name):
        return ALL.name, None
    noun = reading.people
    for population, nouns in POPULATION_NOUNS:
        if noun in nouns:
            return population, noun
    if reading.young is not None and reading.young < ADULT_AGE:
        return CHILDREN.name, f"aged {reading.young} or younger"
    return ALL.name, None


# ---------------------------------------------------------------- one figure

_NONE_OF = phrase_set("none of the", "none of")


def _read(
    tokens: list[Token], k: int, last: Reading | None, whole: Reading | None
) -> Reading | None:
    """The reading of the figure at tokens[k], after the `last` reading that names a metric
    and the `whole` last reading that is not a part of another."""
    if _counts_nothing(tokens, k):
        return None
    group = _group_after(tokens, k)  # "Ten of the 40 passengers": 40
    head = find_head(tokens, k + 1 if group is None else group + 1)
    if head is None:
        return None
    if head.noun is None and whole is not None and _shares_noun(tokens, whole.index, k):
        head = replace(head, noun=whole.head.noun, elided=True)
    if _is_rate(tokens, head.end):
        return None  # "20 refugees arrive every hour"
    none_of = phrase_ending(tokens, k - 1, _NONE_OF) > 0
    after, before = predicate(tokens, head.end, none_of), left_cue(tokens, k)
    member = _is_member(tokens, k)
    if member and head.cue is None:
        after, before = (after if after is not None and after.immediate else None), None
    reading = Reading(
        k, head, None, None, "none",
        negated=after.negated if after is not None else none_of,
        hedged=(after.modal if after else None) or (before.modal if before else None),
        part=_is_part(tokens, k, head) or group is not None,
        people=head.noun if member else _people(tokens, head, whole, group is not None),
        young=None if member else youngest_bound(tokens, head.end, head.end + 10),
        increment=_increment(tokens, k),
        forecast=_forecast(tokens, k, after, before),
    )  # fmt: skip
    for source, cue in _cues_in_order(head, after, before):
        if cue is not None and _fits(cue, head, tokens, k):
            unnamed = cue.metric == UNNAMED
            metric = None if unnamed else cue.metric
            return replace(reading, metric=metric, cue=cue.text, source=source, unnamed=unnamed)
    return _metric_from_context(tokens, reading, last)


def _cues_in_order(
    head: Head, after: Cue | None, before: Cue | None
) -> list[tuple[str, Cue | None]]:
    """The cues to try, nearest in meaning first: the noun the figure belongs to ("the deaths
    of"), its own count noun ("442 deaths"), the predicate, an adjective, the verb before."""
    own = Cue(*head.cue) if head.cue is not None else None
    if before is not None and before.of_noun:
        return [("before", before), ("predicate", after), ("head", own)]
    if head.cue is not None and head.noun is not None and head.noun == head.cue[1].lower():
        return [("head", own), ("predicate", after), ("before", before)]
    return [("predicate", after), ("head", own), ("before", before)]


def _counts_nothing(tokens: list[Token], k: int) -> bool:
    """Whether the figure at tokens[k] is no count of people claimed: a name ("Flight 17"), an
    adjective ("nine-storey"), an age, or what a verb of no claim reaches ("freed 3,700")."""
    if _is_name(tokens, k - 1) or is_age(tokens, k):
        return True
    if k + 2 < len(tokens) and tokens[k + 1].text == "-" and tokens[k + 1].start == tokens[k].end:
        return bool(tokens[k + 2].word)  # "nine-storey", "300-page"
    i = k - 1
    while i >= 0 and tokens[i].word in LEFT_FILLERS:
        i -= 1
    return i >= 0 and (tokens[i].word in NOT_CLAIM_VERBS or tokens[i].word.startswith("free"))


def _fits(cue: Cue, head: Head, tokens: list[Token], k: int) -> bool:
    """Whether a cue's metric may apply to what the head counts: troops are deployed, not
    sent, and a force "has" them only in a place (else it is its size); "lost" counts deaths
    of people; "joined" counts protesters only at a protest; hostages are held, not
    arrested; a court's "cases" are files, not people."""
    if cue.metric == TROOPS_DEPLOYED.name:
        if cue.text.lower() in _HAS and word_at(tokens, head.end) not in PLACED:
            return False  # "the army, which has 150,000 soldiers, ..."
        if head.noun is None:
            return any(token.word in TROOP_NOUNS for token in tokens[max(0, k - 30) : k + 30])
        return head.noun in TROOP_NOUNS
    if cue.metric == ARRESTS.name and cue.text.lower() == "held":
        return head.noun not in _CAPTIVES
    if cue.metric == UNNAMED and cue.text.lower() in ("cases", "case"):
        return not any(token.word in LEGAL_WORDS for token in tokens)
    if cue.metric == DEATHS.name and cue.text.lower() == "lost":
        return head.noun is not None
    if cue.metric == PROTESTERS.name and cue.text.lower() in WEAK_PROTEST_CUES:
        return any(token.word in PROTEST_WORDS for token in tokens)
    return True


_HAS = word_set("has have had with")
_CAPTIVES = word_set("hostages hostage captives")


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


# ---------------------------------------------------------------- parts and groups

_DETERMINED = word_set("the those these its their his her our")


def _group_after(tokens: list[Token], k: int) -> int | None:
    """The index of M in "N of the M ..." after the figure at tokens[k], if any."""
    if k + 3 < len(tokens) and tokens[k + 1].word == "of" and tokens[k + 2].word in _DETERMINED:
        return k + 3 if tokens[k + 3].figure is not None else None
    return None


def _is_member(tokens: list[Token], k: int) -> bool:
    """Whether the figure at tokens[k] is M in "N of the M" or "20% of the town's M": a
    group, not a claim."""
    i = k - 1
    while i >= 0 and (tokens[i].word in _DETERMINED or tokens[i].word.endswith("'s")):
        i -= 1
    if i < 1 or i == k - 1 or tokens[i].word != "of":
        return False
    share = tokens[i - 1].text in SHARE_WORDS or tokens[i - 1].word in SHARE_WORDS
    return tokens[i - 1].figure is not None or share


def _is_part(tokens: list[Token], k: int, head: Head) -> bool:
    """Whether a figure is a part of the one before: "including 12", "six of them", "the
    number could reach 500"."""
    if phrase_ending(tokens, k - 1, INCLUDING) or head.noun in ("them", "whom"):
        return True
    level = phrase_ending(tokens, k - 1, LEVEL_VERBS)
    subject = [token.word for token in tokens[max(0, k - 1 - level - 3) : k - level]]
    return bool(level) and any(word in ("number", "figure", "total", "tally") for word in subject)


_BE_PEOPLE = word_set("were are was is")
_QUANTIFIERS = word_set("all mostly mainly among both")


def _people(tokens: list[Token], head: Head, whole: Reading | None, grouped: bool) -> str | None:
    """The noun that says who is counted: said after them ("were minors", "of them children"),
    the head, or for "them" the people of the figure they stand for."""
    end = min(head.end + 4, len(tokens))
    for j in range(head.end, end):
        if tokens[j].word in _BE_PEOPLE:
            i = j + 1
            while i < end and tokens[i].word in _QUANTIFIERS:
                i += 1
            if i < len(tokens) and is_people(tokens[i]) and (grouped or head.noun is None):
                return tokens[i].word
    if head.noun in ("them", "whom", "those"):
        if head.end < len(tokens) and is_people(tokens[head.end]):
            return tokens[head.end].word  # "61 of them children"
        return whole.people if whole is not None else None
    return head.noun


# ---------------------------------------------------------------- change and forecast


def _increment(tokens: list[Token], k: int) -> str | None:
    """The words that make a figure a change of a total: "two more", "rose by", "another"."""
    length = phrase_ending(tokens, k - 1, INCREMENT_BEFORE)
    if length:
        return " ".join(token.word for token in tokens[k - length : k])
    if k + 1 < len(tokens) and tokens[k + 1].word in INCREMENT_AFTER:
        return f"{tokens[k].text} {tokens[k + 1].text}"
    return None


def _forecast(tokens: list[Token], k: int, after: Cue | None, before: Cue | None) -> str | None:
    """The word that makes a figure one that may come: "could reach", "could be displaced",
    "expect 100,000"."""
    for cue in (after, before):
        if cue is not None and cue.modal in FORECAST_WORDS:
            return cue.modal
    word = tokens[k - 1].word if k > 0 else ""
    return word if word in ("expect", "expects") else None


# ---------------------------------------------------------------- figures with no cue of their own

_GLUE = word_set(", and or ; ( while alone respectively overnight today yesterday") | DAY_NAMES


def _metric_from_context(tokens: list[Token], reading: Reading, last: Reading | None) -> Reading:
    """A reading with no cue of its own: the metric of the figure it is part of or listed with,
    of the cue before a colon ("Deaths by state: Georgia, 33"), or protesters."""
    k, head = reading.index, reading.head
    gapped = head.elided and not _has_verb(tokens, head.end)  # "105 died in A and 52 in B"
    if last is not None and (reading.part or gapped or _listed(tokens, last, k, head)):
        same = (last.metric, last.cue, last.unnamed)
        return replace(reading, metric=same[0], cue=same[1], unnamed=same[2], source="part")
    colon = _colon_cue(tokens, k) if head.noun is None or head.noun in CUES_PEOPLE else None
    if colon is not None:
        metric, cue = colon
        return replace(reading, metric=metric or None, cue=cue, unnamed=not metric, source="part")
    if head.noun in PROTESTER_NOUNS:
        return replace(reading, metric=PROTESTERS.name, cue=head.noun, source="head")
    return reading


CUES_PEOPLE = word_set("people persons")


def _has_verb(tokens: list[Token], i: int) -> bool:
    """Whether a verb of its own follows a head, rather than a place, a time or nothing."""
    word = tokens[i].word if i < len(tokens) else ""
    return bool(word) and word not in PREPOSITIONS and word not in ("and", "or")


def _listed(tokens: list[Token], last: Reading, k: int, head: Head) -> bool:
    """Whether a figure is listed with the one before, in a place or against it: "17 in
    Georgia, 11 in South Carolina", "(56,000 in Porto Alegre alone)", "up from 91"."""
    if last.index >= k or k - last.index > 14:
        return False
    if phrase_ending(tokens, k - 1, COMPARED):
        return True
    if head.noun is None and head.end < len(tokens) and _placed(tokens, head.end):
        return tokens[k - 1].text == "(" or _only_glue(tokens, last.head.end, k, places=True)
    return head.noun is not None and _only_glue(tokens, last.head.end, k, places=True)


def _placed(tokens: list[Token], i: int) -> bool:
    """Whether tokens[i:] start with a place: "in Paris", "at Kharkiv"."""
    nxt = tokens[i + 1] if i + 1 < len(tokens) else None
    return tokens[i].word in ("in", "at", "from") and nxt is not None and nxt.text[0].isupper()


def _only_glue(tokens: list[Token], start: int, end: int, places: bool) -> bool:
    """Whether tokens[start:end] only join listed figures: commas, "and", places, times."""
    for token in tokens[start:end]:
        capital = places and bool(token.word) and token.text[0].isupper()
        if not (token.text in _GLUE or token.word in _GLUE or capital or token.word == "in"):
            return False
    return any(token.text in (",", ";", "(") or token.word == "and" for token in tokens[start:end])


def _colon_cue(tokens: list[Token], k: int) -> tuple[str, str] | None:
    """The cue before a colon that a list after it counts: "The storm's deaths by county: 30
    in Buncombe, 11 in Henderson"."""
    colon = next((i for i in range(k - 1, max(k - 30, -1), -1) if tokens[i].text == ":"), None)
    if colon is None or any(tokens[i].word in CUES_WORDS for i in range(colon + 1, k)):
        return None
    for i in range(colon - 1, max(colon - 8, -1), -1):
        if tokens[i].word in CUES_WORDS:
            metric = CUES[(tokens[i].word,)]
            return metric, tokens[i].text
    return None


CUES_WORDS = frozenset(words[0] for words in CUES if len(words) == 1)
