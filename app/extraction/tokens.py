"""A sentence as tokens: words, punctuation marks, and each figure as one token."""

from __future__ import annotations

import bisect
import re
from collections.abc import Container
from dataclasses import dataclass

from app.domain.model import Figure
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


def tokenize(sentence: str, figures: list[tuple[int, int, Figure]]) -> list[Token]:
    """The words and punctuation of a sentence, each figure as one token."""
    tokens = [Token(figure.text, start, end, figure) for start, end, figure in figures]
    ends = [end for _, end, _ in figures]  # figures are ordered and do not overlap
    for match in _TOKEN_RE.finditer(sentence):
        n = bisect.bisect_right(ends, match.start())
        if n == len(figures) or match.end() <= figures[n][0]:
            tokens.append(_word(match[0], match.start(), match.end()))
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
