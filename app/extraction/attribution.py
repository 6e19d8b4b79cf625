"""Who states a figure, as written: "citing X", "according to X", "X said", "said X", "X told
Reuters", "X, a spokesman for Y, said", "confirmed by X", "X was quoted as saying".

The speaker, or the originator an outlet cites, wins over the outlet that relays it: "the
governor told Reuters" is the governor's, "AP reported, citing the ministry" the ministry's,
"an official quoted by CNN said" the official's.

An attribution either closes the clause before it ("..., police said", "..., according to X")
and covers the figures there, or opens what follows ("Officials say at least 20 ...") and
covers the figures after it. A figure takes a cited originator first, else the closing
attribution that follows it, else the nearest one before it, else the one after it; a pronoun
("she said") stands for the claimant named before it, or the subject of the sentence before.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

from app.extraction.cues import (
    AUXILIARIES,
    DAY_NAMES,
    DETERMINERS,
    MODALS,
    NEGATIONS,
    SPEECH_VERBS,
    phrase_set,
    word_set,
)
from app.extraction.tokens import Token, phrase_at

__all__ = [
    "Attribution",
    "claimant_for",
    "find_attributions",
    "passed_on_claimant",
    "subject_of",
]

_ADVERBS = word_set("also later earlier previously separately then had has have initially first")
_PRONOUNS = word_set("he she it they we i")
_NOBODY = word_set("people many some others one someone")  # "People said ...": no claimant
# A claimant's name ends before these.
_CLAIMANT_STOPS = (
    AUXILIARIES
    | MODALS
    | NEGATIONS
    | SPEECH_VERBS
    | word_set(
        "that which who when while as after before because if so where since at by with to"
        " than but or during over under late early last this next citing according saying"
        " quoted"
    )
) - word_set("all")
_CLAIMANT_LINKS = word_set("of for on in and the de")
_RELAYED = phrase_set(
    "figures from", "data from", "statistics from", "a statement from", "a statement by",
    "a report from", "a report by", "reports from", "a tally by", "a count by", "figures by",
    "figures released by", "figures issued by", "data released by", "data compiled by",
)  # fmt: skip
_ACCORDING_TO = phrase_set("according to")
_CLOSERS = frozenset({",", "\u201d", '"', "\u2019", "'"})
_BY_VERBS = word_set(
    "given confirmed reported released issued compiled announced provided published verified"
    " estimated recorded documented put gathered collected"
)
_TITLES = word_set("st mt ft gen lt col sgt capt maj dr mr mrs ms prof gov sen rep")
_OPENERS = word_set("that") | frozenset({":"})
_CLAUSE_ENDS = word_set(
    "and but while as though although adding citing when because after before so whereas"
)


@dataclass(frozen=True)
class Attribution:
    claimant: str | None  # None: a pronoun, resolved from the previous sentence
    at: int  # token index of the cue
    cue: str
    citing: bool = False
    closing: bool = False  # it closes the clause before it: ", police said"


def find_attributions(tokens: list[Token], sentence: str) -> list[Attribution]:
    """Every attribution in a sentence, in order."""
    found: list[Attribution] = []
    for i, token in enumerate(tokens):
        if token.word == "citing":
            found += _forward(tokens, sentence, i + 1, Attribution(None, i, "citing", True))
        elif token.word == "according" and phrase_at(tokens, i, _ACCORDING_TO):
            closing = any(t.word not in ("in", "all", "so", "far") for t in tokens[:i] if t.word)
            found += _forward(tokens, sentence, i + 2, Attribution(None, i, "according to"))
            found[-1:] = [replace(a, closing=closing) for a in found[-1:]]
        elif token.word == "by" and i and tokens[i - 1].word in _BY_VERBS:
            cue = f"{tokens[i - 1].text} by"
            found += _forward(tokens, sentence, i + 1, Attribution(None, i, cue, closing=True))
        elif token.word == "quoted":
            found += _quoted(tokens, sentence, i)
        elif token.word == "saying" and i > 1 and tokens[i - 1].text == ",":
            found += _saying(tokens, sentence, i)
        elif token.word in SPEECH_VERBS and _is_speech(tokens, i):
            found += _speaker(tokens, sentence, i)
    return [a for a in found if a.claimant is None or a.claimant.lower() not in _NOBODY]


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
    after = attributions[n] if n < len(attributions) else None
    before = attributions[n - 1] if n else None
    chosen = after if after is not None and (after.closing or before is None) else before
    assert chosen is not None
    if chosen.claimant is not None:
        return chosen.claimant, f'"{chosen.cue}"'
    named = next((a for a in reversed(attributions[:n]) if a.claimant), None)
    if named is not None:
        return named.claimant, f'"{chosen.cue}" and "{named.cue}"'
    if inherited is None:
        return None, None
    return inherited, f'"{chosen.cue}" and the previous sentence'


def passed_on_claimant(attributions: list[Attribution]) -> str | None:
    """The claimant a sentence passes on to the next: citing first, else the first named."""
    named = [a for a in attributions if a.claimant]
    citing = [a for a in named if a.citing]
    return (citing or named)[0].claimant if named else None


def subject_of(tokens: list[Token], sentence: str) -> str | None:
    """The subject a pronoun in the next sentence may stand for: "The governor" of "The
    governor visited the flooded district"; None unless the sentence opens with a name."""
    end = 0
    while end < min(len(tokens), 7) and _in_claimant(tokens, end, forward=True):
        if end and tokens[end].text[0].islower() and _is_past(tokens[end].word):
            break  # "visited": the verb
        end += 1
    if end == 0 or end >= len(tokens) or not _is_past(tokens[end].word):
        return None
    return _named(sentence, tokens, 0, _trim_links(tokens, 0, end))


_IRREGULAR_PAST = word_set(
    "gave took made held met went came saw spoke sent set left lost won began rose fell led"
    " flew drove wrote got kept brought sought struck"
)


def _is_past(word: str) -> bool:
    return word.endswith("ed") or word in _IRREGULAR_PAST


# ---------------------------------------------------------------- reading a claimant's name


def _is_speech(tokens: list[Token], i: int) -> bool:
    """Whether a speech verb attributes: "put" only as "put the toll at"."""
    if i and (tokens[i - 1].word in DETERMINERS or tokens[i - 1].word == "of"):
        return False  # "the confirmed deaths", "of confirmed cases": an adjective
    if tokens[i].word not in ("put", "puts"):
        return True
    words = [token.word for token in tokens[i + 1 : i + 7]]
    return bool(words) and words[0] == "the" and "at" in words


def _named(sentence: str, tokens: list[Token], start: int, end: int) -> str | None:
    """The claimant tokens[start:end] as written, without "figures from"; None for a pronoun."""
    if end <= start:
        return None
    start += phrase_at(tokens, start, _RELAYED)
    text = sentence[tokens[start].start : tokens[end - 1].end] if start < end else ""
    return None if not text or text.lower() in _PRONOUNS else text


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
    """Whether tokens[i] may belong to a claimant's name: "Doctors Without Borders", "the
    WHO", "police in Almaty", not "in a statement", "on Monday"."""
    token = tokens[i]
    if token.figure is not None or not token.word:
        return False
    if token.word in _CLAIMANT_STOPS:
        return i > 0 and token.text[0].isupper() and token.word not in SPEECH_VERBS
    if token.word == "on" and i > 0 and tokens[i - 1].word == "based":
        return not forward  # "an AFP tally based on official figures showed"
    if token.word in ("in", "on"):
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        named = after is not None and after.text[0].isupper() and after.word not in DAY_NAMES
        return named or (not forward and after is not None and after.word == "the")
    if token.word == "based" and i + 1 < len(tokens) and tokens[i + 1].word == "on":
        return not forward  # "an AFP tally based on official figures showed"
    return forward or token.word != "and"


def _trim_links(tokens: list[Token], start: int, end: int) -> int:
    """The end of a claimant without trailing links ("the ministry of" -> "the ministry")."""
    while end > start and tokens[end - 1].word in _CLAIMANT_LINKS:
        end -= 1
    return end


def _closes(tokens: list[Token], i: int) -> bool:
    """Whether the speech verb at tokens[i] closes its clause ("..., police said on Monday.")
    rather than opening what follows ("police said that 12 ...", "officials say 20 ...")."""
    for j in range(i + 1, min(i + 10, len(tokens))):
        token = tokens[j]
        if token.figure is not None or token.word in _OPENERS or token.text == ":":
            return False
        if token.text in (",", ".", ";", ")", "\u2014", "\u2013") or token.word in _CLAUSE_ENDS:
            return True
    return i + 10 >= len(tokens)


def _speaker(tokens: list[Token], sentence: str, i: int) -> list[Attribution]:
    """The claimant of "X said", ", said X" or "X, a spokesman for Y, said"."""
    attribution = Attribution(None, i, tokens[i].text, closing=_closes(tokens, i))
    j = i - 1
    while j >= 0 and tokens[j].word in _ADVERBS:
        j -= 1
    if j >= 0 and tokens[j].text in _CLOSERS:
        after = tokens[i + 1].word if i + 1 < len(tokens) else ""
        if after and after not in ("on", "in", "that"):
            return _forward(tokens, sentence, i + 1, replace(attribution, closing=True))
        return _appositive(tokens, sentence, j, attribution)
    start = _name_start(tokens, j)
    if start is None:
        return []
    if start >= 2 and tokens[start - 1].word == "by" and tokens[start - 2].word == "quoted":
        return []  # "an official quoted by CNN said": the official's, read at "quoted"
    return [replace(attribution, claimant=_named(sentence, tokens, start, j + 1))]


def _name_start(tokens: list[Token], j: int) -> int | None:
    """Where the name ending at tokens[j] starts, reading back; None when there is none."""
    start = j + 1
    while start > 0 and j - start < 8 and _in_claimant(tokens, start - 1, forward=False):
        start -= 1
    if start >= 2 and tokens[start - 1].text == "." and tokens[start - 2].word in _TITLES:
        start -= 2  # "St. Paul police"
    named = any(token.word not in DETERMINERS for token in tokens[start : j + 1])
    return start if start <= j and j - start < 10 and named else None


def _appositive(
    tokens: list[Token], sentence: str, j: int, attribution: Attribution
) -> list[Attribution]:
    """The claimant of "Ivan Petrov, a spokesman for the ministry, said", as written."""
    comma = next((c for c in range(j - 1, max(j - 12, -1), -1) if tokens[c].text == ","), None)
    start = _name_start(tokens, comma - 1) if comma is not None else None
    if start is None or not tokens[start].text[0].isupper():
        return []
    return [replace(attribution, claimant=sentence[tokens[start].start : tokens[j - 1].end])]


_BE = word_set("was were is are")


def _quoted(tokens: list[Token], sentence: str, i: int) -> list[Attribution]:
    """The speaker of "X was quoted as saying", "X was quoted by TASS as saying", "X quoted by
    CNN said", not the outlet that quotes them."""
    j = i - 1
    while j >= 0 and tokens[j].word in _BE | _ADVERBS:
        j -= 1
    start = _name_start(tokens, j)
    if start is None:
        return []
    return [Attribution(_named(sentence, tokens, start, j + 1), i, "quoted")]


def _saying(tokens: list[Token], sentence: str, i: int) -> list[Attribution]:
    """The claimant of "..., the ministry denied, saying four troops had died": the subject of
    the verb before the comma, or the name before it."""
    j = i - 2
    if not (tokens[j].word.endswith("ed") or tokens[j].word in SPEECH_VERBS):
        return [Attribution(None, i, "saying")]  # "X claimed responsibility, saying": X's
    start = _name_start(tokens, j - 1)
    if start is None:
        return []
    return [Attribution(_named(sentence, tokens, start, j), i, "saying")]
