"""What the verbs around a figure say it counts: the predicate after its head ("were killed",
"remain missing") and the cue before it ("killing 12", "the deaths of", "the toll rose to 50")."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.vocabulary import DEATHS
from app.extraction.cues import (
    AUXILIARIES,
    CUES,
    DETERMINERS,
    FORECAST_WORDS,
    LEFT_CUES,
    LEFT_FILLERS,
    LEVEL_VERBS,
    MODALS,
    NEGATIONS,
    NOT_CLAIM_PARTICIPLES,
    NOT_LEFT_CUES,
    PREPOSITIONS,
    PROTESTER_NOUNS,
    SPEECH_VERBS,
    phrase_set,
    word_set,
)
from app.extraction.heads import is_people
from app.extraction.tokens import Token, cue_at, phrase_at, phrase_ending, word_at

__all__ = ["Cue", "left_cue", "predicate"]


@dataclass(frozen=True)
class Cue:
    """A metric (or "" for a count no metric names) and the words that name it."""

    metric: str
    text: str
    negated: bool = False
    modal: str | None = None  # "could", "may": the figure may come, or is hedged
    immediate: bool = False  # right after the head, no verb between ("the 1,200 detained")
    of_noun: bool = False  # a noun the figure belongs to ("the deaths of 247 people")


# ---------------------------------------------------------------- after the head


def predicate(tokens: list[Token], i: int, negated: bool = False) -> Cue | None:
    """The cue of the predicate from tokens[i]: "were reportedly killed", "remain missing";
    "none of the nine aboard survived" counts deaths."""
    modal, phrase = None, 0
    i = _skip_relative(tokens, _skip_coordinate(tokens, _skip_aside(tokens, i)))
    for j in range(i, min(i + 14, len(tokens))):
        if (cue := cue_at(tokens, j)) is not None:
            return Cue(*cue, negated, modal, immediate=_modifies(tokens, i, j, cue[1]))
        word = tokens[j].word
        if word in NOT_CLAIM_PARTICIPLES:
            return None  # "the 48 prisoners released ... had been held": freed, not held
        if word == "survived" and negated:
            return Cue(DEATHS.name, "none ... survived", False, modal)
        if word in NEGATIONS or word.endswith("n't"):
            negated = True
        elif word in MODALS:
            modal = modal or (None if word_after(tokens, j) == "have" else word)
        elif word in AUXILIARIES:
            phrase = 0  # "12 people in the city were killed": the verb ends the place
        elif (word in PREPOSITIONS or _participle_phrase(tokens, j)) and not phrase:
            phrase = 1  # "in the city", "caught in the avalanche"
        elif phrase and word in ("and", "or") and _opens_predicate(tokens, j + 1):
            break  # "killed 94 people in Mozambique and injured 768": another predicate
        elif phrase and (word or tokens[j].figure) and phrase < 8:
            phrase += 1
        else:
            break
    return None


def _opens_predicate(tokens: list[Token], j: int) -> bool:
    """Whether a cue starts at tokens[j], or after a modal there ("and will send 500")."""
    return bool(cue_at(tokens, j) or (word_at(tokens, j) in MODALS and cue_at(tokens, j + 1)))


def _modifies(tokens: list[Token], i: int, j: int, cue: str) -> bool:
    """Whether a cue at tokens[j] modifies the head ending at tokens[i] ("the 1,200 detained
    were", "the 1,700 people who died") rather than being its verb ("residents joined the")."""
    if i < len(tokens) and tokens[i].word in ("who", "that"):
        return j - i <= 3
    after = j + len(cue.split())
    following = tokens[after].word if after < len(tokens) else ""
    return j == i and (not following or following in AUXILIARIES | PREPOSITIONS)


def _participle_phrase(tokens: list[Token], j: int) -> bool:
    """Whether tokens[j] opens a participle phrase: "caught in", "travelling on"."""
    word = tokens[j].word
    verb = word.endswith(("ed", "ing")) or word in ("caught", "hit", "struck", "swept", "trapped")
    return verb and word_after(tokens, j) in PREPOSITIONS


def word_after(tokens: list[Token], j: int) -> str:
    return tokens[j + 1].word if j + 1 < len(tokens) else ""


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


_INCLUDING = phrase_set("including", "among them", "most of them", "many of them", "mostly")


def _skip_aside(tokens: list[Token], i: int) -> int:
    """The index after an aside between commas (", including three children,")."""
    if i + 1 < len(tokens) and tokens[i].text == "," and phrase_at(tokens, i + 1, _INCLUDING):
        for j in range(i + 2, min(i + 12, len(tokens))):
            if tokens[j].text == ",":
                return j + 1
    return i


# ---------------------------------------------------------------- before the figure


def left_cue(tokens: list[Token], k: int) -> Cue | None:
    """The cue before the figure at tokens[k]: "killing at least 12", "the deaths of",
    "a crowd of", "the toll ... rose to 50", "the number of dead, now 151"."""
    i = k - 1
    while i >= 0:
        cue = _cue_ending(tokens, i)
        if cue is not None:
            return Cue(
                cue[0], cue[1], modal=_modal_before(tokens, i - len(cue[1].split())),
                of_noun=word_after(tokens, i) == "of" and tokens[i].word not in ("at", "to"),
            )  # fmt: skip
        if tokens[i].word not in LEFT_FILLERS and not _appositive_now(tokens, i):
            break
        i -= 1
    level = phrase_ending(tokens, k - 1, LEVEL_VERBS)
    if not level:
        return None
    cue = _subject_cue(tokens, k - 1 - level)
    if cue is None:
        return None
    return Cue(cue[0], cue[1], modal=_modal_before(tokens, k - 1 - level))


def _cue_ending(tokens: list[Token], i: int, *, verbs: bool = True) -> tuple[str, str] | None:
    """The cue phrase read leftward that ends at tokens[i], if any; with `verbs`, also those
    that count the object of a verb ("lost 14 men") or a noun's ("a crowd of")."""
    for phrases in (LEFT_CUES, CUES) if verbs else (CUES,):
        length = phrase_ending(tokens, i, phrases)
        words = tuple(token.word for token in tokens[i - length + 1 : i + 1])
        if length and (words not in NOT_LEFT_CUES or not verbs):
            text = " ".join(token.text for token in tokens[i - length + 1 : i + 1])
            return phrases[words], text
    return None


def _appositive_now(tokens: list[Token], i: int) -> bool:
    """Whether tokens[i] is the comma of "the number of dead, now 151"."""
    return tokens[i].text == "," and i + 1 < len(tokens) and tokens[i + 1].word == "now"


def _modal_before(tokens: list[Token], i: int) -> str | None:
    """A word that makes the figure one that may come, just before tokens[i + 1]."""
    for j in range(i, max(i - 3, -1), -1):
        word = tokens[j].word
        if word in FORECAST_WORDS and word_after(tokens, j) != "have":
            return word
        if word not in ("to", "be", "also", "still", "soon", "eventually", "even", "likely"):
            return None
    return None


def _subject_cue(tokens: list[Token], i: int) -> tuple[str, str] | None:
    """The nearest cue in the subject before a level verb, within the clause: "the death
    toll ... rose to", "the number of demonstrators ... at", "the number who marched was"."""
    for j in range(i, max(i - 12, -1), -1):
        if tokens[j].text in (";", ":") or tokens[j].word in SPEECH_VERBS:
            return None
        if (cue := _cue_ending(tokens, j, verbs=False)) is not None:
            return cue
        if tokens[j].word in PROTESTER_NOUNS:
            return "protesters", tokens[j].text
    return None
