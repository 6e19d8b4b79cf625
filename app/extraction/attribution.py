"""Who states a figure: "citing X", "according to X", "X said", "said X", as written."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

from app.extraction.cues import (
    AUXILIARIES,
    DAY_NAMES,
    DETERMINERS,
    MODALS,
    NEGATIONS,
    phrase_set,
    word_set,
)
from app.extraction.tokens import Token, phrase_at

__all__ = ["Attribution", "claimant_for", "find_attributions", "passed_on_claimant"]

_SPEECH_VERBS = word_set(
    "said says told reported reports announced announces confirmed confirms stated added"
    " estimated estimates claimed claims tweeted wrote insisted noted declared put puts"
)
_ADVERBS = word_set("also later earlier previously separately then had has have initially first")
_PRONOUNS = word_set("he she it they we i")
# A claimant's name ends before these.
_CLAIMANT_STOPS = (
    AUXILIARIES
    | MODALS
    | NEGATIONS
    | _SPEECH_VERBS
    | word_set(
        "that which who when while as after before because if so where since at by with to"
        " than but or during over under late early last this next citing according"
    )
) - word_set("all")
_CLAIMANT_LINKS = word_set("of for on in and the de")
_RELAYED = phrase_set(
    "figures from", "data from", "statistics from", "a statement from", "a statement by",
    "a report from", "a report by", "reports from", "a tally by", "a count by",
)  # fmt: skip
_ACCORDING_TO = phrase_set("according to")
_CLOSERS = frozenset({",", "\u201d", '"', "\u2019", "'"})


@dataclass(frozen=True)
class Attribution:
    claimant: str | None  # None: a pronoun, resolved from the previous sentence
    at: int  # token index of the cue
    cue: str
    citing: bool = False


def find_attributions(tokens: list[Token], sentence: str) -> list[Attribution]:
    """Every attribution in a sentence: citing, according to, X said, said X."""
    found: list[Attribution] = []
    for i, token in enumerate(tokens):
        if token.word == "citing":
            found += _forward(tokens, sentence, i + 1, Attribution(None, i, "citing", True))
        elif phrase_at(tokens, i, _ACCORDING_TO):
            found += _forward(tokens, sentence, i + 2, Attribution(None, i, "according to"))
        elif token.word in _SPEECH_VERBS and _is_speech(tokens, i):
            found += _speaker(tokens, sentence, i)
    return found


def claimant_for(
    attributions: list[Attribution], k: int, inherited: str | None
) -> tuple[str | None, str | None]:
    """(claimant, how it was found) for the figure at token k; attributions are in order."""
    citing = next((a for a in attributions if a.citing and a.claimant), None)
    if citing is not None:
        return citing.claimant, '"citing"'
    if not attributions:
        return inherited, "the previous sentence" if inherited else None
    n = bisect.bisect_left(attributions, k, key=lambda a: a.at)
    nearest = min(attributions[max(0, n - 1) : n + 1], key=lambda a: abs(a.at - k))
    if nearest.claimant is not None:
        return nearest.claimant, f'"{nearest.cue}"'
    if inherited is None:
        return None, None
    return inherited, f'"{nearest.cue}" and the previous sentence'


def passed_on_claimant(attributions: list[Attribution]) -> str | None:
    """The claimant a sentence passes on to the next: citing first, else the first named."""
    named = [a for a in attributions if a.claimant]
    citing = [a for a in named if a.citing]
    return (citing or named)[0].claimant if named else None


# ---------------------------------------------------------------- reading a claimant's name


def _is_speech(tokens: list[Token], i: int) -> bool:
    """Whether a speech verb attributes: "put" only as "put the toll at"."""
    if tokens[i].word not in ("put", "puts"):
        return True
    words = [token.word for token in tokens[i + 1 : i + 7]]
    return bool(words) and words[0] == "the" and "at" in words


def _named(sentence: str, tokens: list[Token], start: int, end: int) -> str | None:
    """The claimant tokens[start:end] as written; None for a pronoun."""
    text = sentence[tokens[start].start : tokens[end - 1].end]
    return None if text.lower() in _PRONOUNS else text


def _forward(
    tokens: list[Token], sentence: str, i: int, attribution: Attribution
) -> list[Attribution]:
    """The claimant named after a cue ("citing the Ministry of Health", ", said Tokayev")."""
    i += phrase_at(tokens, i, _RELAYED)
    end = i
    while end < len(tokens) and end - i < 10 and _in_claimant(tokens, end, forward=True):
        end += 1
    end = _trim_links(tokens, i, end)
    if end <= i:
        return []
    return [replace(attribution, claimant=_named(sentence, tokens, i, end))]


def _in_claimant(tokens: list[Token], i: int, *, forward: bool) -> bool:
    """Whether tokens[i] may belong to a claimant's name."""
    token = tokens[i]
    if token.figure is not None or not token.word or token.word in _CLAIMANT_STOPS:
        return False
    if token.word in ("in", "on"):  # "police in Almaty", not "in a statement", "on Monday"
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        named = after is not None and after.text[0].isupper() and after.word not in DAY_NAMES
        return named or (not forward and after is not None and after.word == "the")
    return forward or token.word != "and"


def _trim_links(tokens: list[Token], start: int, end: int) -> int:
    """The end of a claimant without trailing links ("the ministry of" -> "the ministry")."""
    while end > start and tokens[end - 1].word in _CLAIMANT_LINKS:
        end -= 1
    return end


def _speaker(tokens: list[Token], sentence: str, i: int) -> list[Attribution]:
    """The claimant of "X said", ", said X" or "X, a spokesman for Y, said"."""
    attribution = Attribution(None, i, tokens[i].text)
    j = i - 1
    while j >= 0 and tokens[j].word in _ADVERBS:
        j -= 1
    if j >= 0 and tokens[j].text in _CLOSERS:
        after = tokens[i + 1].word if i + 1 < len(tokens) else ""
        if after and after not in ("on", "in", "that"):
            return _forward(tokens, sentence, i + 1, attribution)
        return _appositive(tokens, sentence, j, attribution)
    start = _name_start(tokens, j)
    if start is None:
        return []
    return [replace(attribution, claimant=_named(sentence, tokens, start, j + 1))]


def _name_start(tokens: list[Token], j: int) -> int | None:
    """Where the name ending at tokens[j] starts, reading back; None when there is none."""
    start = j + 1
    while start > 0 and j - start < 8 and _in_claimant(tokens, start - 1, forward=False):
        start -= 1
    named = any(token.word not in DETERMINERS for token in tokens[start : j + 1])
    return start if start <= j and j - start < 8 and named else None


def _appositive(
    tokens: list[Token], sentence: str, j: int, attribution: Attribution
) -> list[Attribution]:
    """The claimant of "Ivan Petrov, a spokesman for the ministry, said", as written."""
    comma = next((c for c in range(j - 1, max(j - 12, -1), -1) if tokens[c].text == ","), None)
    start = _name_start(tokens, comma - 1) if comma is not None else None
    if start is None or not tokens[start].text[0].isupper():
        return []
    return [replace(attribution, claimant=sentence[tokens[start].start : tokens[j - 1].end])]
