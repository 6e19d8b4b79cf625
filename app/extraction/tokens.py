"""A sentence as tokens: words, punctuation marks, and each figure as one token."""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from app.domain.figures import parse_figure
from app.domain.model import Figure, InvalidFigure, Qualifier
from app.extraction.cues import CUES

_TOKEN_RE = re.compile(r"(?:[A-Za-z]\.){2,}|[\w\u2019']+(?:[-\u2010][\w\u2019']+)*|[^\w\s]")


@dataclass(frozen=True)
class Token:
    text: str
    start: int  # offsets in the sentence
    end: int
    figure: Figure | None = None
    word: str = ""  # the word in lower case with a plain apostrophe; "" for others


def _word(text: str, start: int, end: int) -> Token:
    """A token of a word or a punctuation mark."""
    word = text.lower().replace("\u2019", "'") if text[0].isalnum() or text[0] == "'" else ""
    return Token(text, start, end, None, word)


_CHANGE_BEFORE_RE = re.compile(
    r"\b(?:rose|risen|rising|rises|increased|climbed|jumped|grew|fell|dropped|declined|up|down)"
    r"\s+(?:by\s+|from\s+)?\Z",
    re.IGNORECASE,
)
_TO_RE = re.compile(
    r"(?P<from>from\s+)?(?P<a>\S+(?:\s+\S+){0,3}?)\s+to\s+(?P<b>\S.*)", re.IGNORECASE
)


def split_changes(
    sentence: str, figures: list[tuple[int, int, Figure]], tolerance: float
) -> list[tuple[int, int, Figure]]:
    """The figures of a sentence, with a range after "by" or "from" read as the two figures it
    is: "rose by 708 to 4,934", "rose from 91 to 133"."""
    found: list[tuple[int, int, Figure]] = []
    for start, end, figure in figures:
        match = _TO_RE.fullmatch(sentence, start, end)
        changed = figure.qualifier == Qualifier.RANGE and match is not None
        if changed and _CHANGE_BEFORE_RE.search(sentence, max(0, start - 20), start):
            assert match is not None
            try:
                a, b = parse_figure(match["a"], tolerance), parse_figure(match["b"], tolerance)
            except InvalidFigure:
                found.append((start, end, figure))
                continue
            found += [(match.start("a"), match.end("a"), a), (match.start("b"), end, b)]
        else:
            found.append((start, end, figure))
    return found


def tokenize(sentence: str, figures: list[tuple[int, int, Figure]]) -> list[Token]:
    """The words and punctuation of a sentence, each figure as one token; the words around a
    figure are read as if it stood apart ("nine-storey" is "nine", "-", "storey")."""
    tokens = [Token(figure.text, start, end, figure) for start, end, figure in figures]
    pieces, last = [], 0
    for start, end, _ in figures:  # figures are ordered and do not overlap
        pieces += [sentence[last:start], " " * (end - start)]
        last = end
    masked = "".join([*pieces, sentence[last:]])
    tokens += [_word(m[0], m.start(), m.end()) for m in _TOKEN_RE.finditer(masked)]
    return sorted(tokens, key=lambda token: token.start)


def word_at(tokens: list[Token], i: int) -> str:
    """The word of tokens[i]; "" past the end."""
    return tokens[i].word if i < len(tokens) else ""


def phrase_at(tokens: list[Token], i: int, phrases: Container[tuple[str, ...]]) -> int:
    """The length of the longest phrase that starts at tokens[i], or 0."""
    words = tuple(token.word for token in tokens[i : i + 5])
    return next((n for n in range(len(words), 0, -1) if words[:n] in phrases), 0)


def phrase_ending(tokens: list[Token], i: int, phrases: Container[tuple[str, ...]]) -> int:
    """The length of the longest phrase that ends at tokens[i], or 0."""
    words = tuple(token.word for token in tokens[max(0, i - 4) : i + 1])
    return next((n for n in range(len(words), 0, -1) if words[-n:] in phrases), 0)


def cue_at(tokens: list[Token], i: int) -> tuple[str, str] | None:
    """(metric, cue text) of the cue phrase starting at tokens[i], if any."""
    length = phrase_at(tokens, i, CUES)
    if not length:
        return None
    words = tuple(token.word for token in tokens[i : i + length])
    return CUES[words], " ".join(token.text for token in tokens[i : i + length])


def cue_ending(tokens: list[Token], i: int) -> tuple[str, str] | None:
    """The cue phrase that ends at tokens[i], if any."""
    length = phrase_ending(tokens, i, CUES)
    return cue_at(tokens, i - length + 1) if length else None
