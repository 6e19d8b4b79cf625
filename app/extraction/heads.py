"""What a figure counts: the noun after it ("16 security guards", "164 deaths"), or none."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.vocabulary import TROOPS_DEPLOYED
from app.extraction.cues import (
    DETERMINERS,
    FUNCTION_WORDS,
    HEAD_ADJECTIVES,
    NOT_PEOPLE,
    PEOPLE_NOUNS,
)
from app.extraction.tokens import Token, cue_at, word_at


@dataclass(frozen=True)
class Head:
    """What a figure counts: a noun of people ("guards"), a count ("deaths"), or nothing."""

    noun: str | None
    end: int  # index of the first token after the head
    cue: tuple[str, str] | None = None  # a metric the head itself names
    elided: bool = False  # the noun of the figure before ("12 soldiers were killed and 40 hurt")


def is_people(token: Token) -> bool:
    """Whether a word names people: a known noun, a demonym ("Palestinians"), an agent noun."""
    word = token.word
    if word in PEOPLE_NOUNS:
        return word not in NOT_PEOPLE
    if word in NOT_PEOPLE or len(word) < 4:
        return False
    if token.text[0].isupper() and word.endswith("s") and not word.endswith("ss"):
        return True  # Palestinians, Israelis, Britons
    return word.endswith(("ists", "ians", "ees", "ers"))


def is_thing(token: Token) -> bool:
    """Whether a word after a figure names things it counts: a plural noun that is not of
    people ("four hospitals", "15 countries", "1,100 contacts")."""
    word = token.word
    return (
        (word in NOT_PEOPLE or (len(word) > 3 and word.endswith("s") and word[-2] not in "sui"))
        and token.text[0].islower()
        and not is_people(token)
    )


def find_head(tokens: list[Token], i: int) -> Head | None:
    """The head of a figure whose words start at tokens[i]; None when it counts no people."""
    i = _after_adjectives(tokens, i)
    if [t.word for t in tokens[i : i + 3]] == ["the", "number", "of"]:
        i += 3  # "bringing to 16 the number of workers killed"
    if i < len(tokens) and tokens[i].word == "of":
        i = _after_of(tokens, i)
        if tokens[i - 1].word in ("them", "whom", "those"):
            return Head(tokens[i - 1].word, i)
    unknown = False
    for j in range(i, min(i + 4, len(tokens))):
        head = _head_word(tokens, j, unknown)
        if head is not None:
            return head if head.end >= 0 else None
        unknown = True
    return None if unknown else Head(None, i)


def _after_adjectives(tokens: list[Token], i: int) -> int:
    """The index after words that do not change what a figure counts ("more", "confirmed and")."""
    while i < len(tokens) and (
        tokens[i].word in HEAD_ADJECTIVES
        or (tokens[i].word in ("and", "or") and word_at(tokens, i + 1) in HEAD_ADJECTIVES)
    ):
        i += 1
    return i


def _after_of(tokens: list[Token], i: int) -> int:
    """The index after "of" and its determiners ("dozens of the", "three of them")."""
    i += 1
    while i < len(tokens) and tokens[i].word in DETERMINERS:
        i += 1
        if tokens[i - 1].word in ("them", "whom", "those"):
            break
    return i


_NOT_A_HEAD = Head(None, -1)


def _head_word(tokens: list[Token], j: int, unknown: bool) -> Head | None:
    """The head ending at tokens[j]; _NOT_A_HEAD for a thing; None to read on (an adjective)."""
    token = tokens[j]
    if token.figure is not None or not token.word or token.word in FUNCTION_WORDS:
        return _NOT_A_HEAD if unknown else Head(None, j)
    if token.word in NOT_PEOPLE:
        return _NOT_A_HEAD  # "four hospitals", "12 kilometres"
    cue = cue_at(tokens, j)
    if is_people(token) and cue is None:
        if token.word == "members" and j + 1 < len(tokens) and tokens[j + 1].word == "of":
            return find_head(tokens, _after_of(tokens, j + 1)) or Head("members", j + 1)
        last = j  # "police officers", "health workers": the last noun counts
        while (
            last + 1 < len(tokens) and is_people(tokens[last + 1]) and not cue_at(tokens, last + 1)
        ):
            last += 1
        return Head(tokens[last].word, last + 1, _adjective_cue(tokens, j))
    if cue is None and _is_verb(tokens, j):
        return _NOT_A_HEAD if unknown else Head(None, j)  # "about 2,000 arrived in the city"
    if cue is None:
        return _NOT_A_HEAD if is_thing(token) else None
    if j + 1 < len(tokens) and is_people(tokens[j + 1]):
        return None  # "300 injured people": read on to the noun
    if cue[0] == TROOPS_DEPLOYED.name or _is_participle(token.word):
        return Head(None, j)  # "121 wounded", "14,000 deployed": the predicate
    return Head(token.word, j + 1, cue)


def _is_verb(tokens: list[Token], j: int) -> bool:
    """Whether an unknown word after a figure is its verb: "-ed" and no noun after it."""
    if not tokens[j].word.endswith("ed") or not tokens[j].text[0].islower():
        return False
    following = tokens[j + 1] if j + 1 < len(tokens) else None
    return following is None or not following.word or following.word in FUNCTION_WORDS


def _is_participle(word: str) -> bool:
    """Whether a cue word is a verb's participle ("wounded"), not a noun ("deaths")."""
    return word.endswith("ed") or word in ("hurt", "fled", "held", "sent", "dead", "slain")


def _adjective_cue(tokens: list[Token], j: int) -> tuple[str, str] | None:
    """A cue among the words just before a people noun ("300 injured people")."""
    for i in range(j - 1, max(j - 3, -1), -1):
        if tokens[i].figure is not None:
            return None
        if (cue := cue_at(tokens, i)) is not None:
            return cue
    return None
