"""An article's sentences and paragraphs, as character spans of its text.

A sentence longer than MAX_SENTENCE_CHARS (no news sentence is) is read in pieces cut at a
space, so that reading an article takes time in proportion to its length and every quote
stays short, whatever the text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.extraction.cues import FUNCTION_WORDS, word_set

__all__ = ["MAX_SENTENCE_CHARS", "Sentence", "split_sentences"]

MAX_SENTENCE_CHARS = 1_000


@dataclass(frozen=True)
class Sentence:
    """text[start:end] is one sentence (or a piece of an over-long one), trimmed, at most
    MAX_SENTENCE_CHARS long; `paragraph` counts blank-line breaks."""

    start: int
    end: int
    paragraph: int


# Titles before a name never end a sentence; other abbreviations end one only when a
# word that usually starts a sentence follows ("... in the U.S. The ministry said").
_TITLES = word_set(
    "mr mrs ms dr prof gen lt col sgt capt maj cmdr adm gov sen rep rev hon st mt ft fr pres"
    " cpl pvt brig supt insp"
)
_ABBREVIATIONS = word_set(
    "jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat"
    " sun no nos vs etc inc ltd co corp approx est dept univ al jr sr"
)
_STARTERS = word_set(
    "the a an it he she they we i in on at but and this that these those there his her their"
    " its after before when while according police officials authorities"
)
# Possessive and starting where the marks start, so that a run of marks is read once.
_BREAK_RE = re.compile(r"(?<![.!?])[.!?]++[\"\u201d\u2019')\]]*+(?=\s)|\n")
_LAST_WORD_RE = re.compile(r"(\S+?)[.!?]*[\"\u201d\u2019')\]]*\Z")
_NEXT_WORD_RE = re.compile(r"\s*[\"\u201c\u2018'(\[]?(\S*)")
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n")


def split_sentences(text: str) -> list[Sentence]:
    """The sentences of text in order, each trimmed of surrounding whitespace."""
    sentences: list[Sentence] = []
    start, paragraph = 0, 0
    for end, paragraph_ends in _breaks(text):
        sentences.extend(_trimmed(text, start, end, paragraph))
        start, paragraph = end, paragraph + paragraph_ends
    sentences.extend(_trimmed(text, start, len(text), paragraph))
    return sentences


def _breaks(text: str) -> Iterator[tuple[int, bool]]:
    """(offset, whether a paragraph ends there) of each sentence boundary."""
    for match in _BREAK_RE.finditer(text):
        if match[0] == "\n":
            if _BLANK_LINE_RE.match(text, match.start()) or _line_ends_sentence(text, match.end()):
                yield match.start(), bool(_BLANK_LINE_RE.match(text, match.start()))
        elif _ends_sentence(text, match):
            yield match.end(), False


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    """Whether the punctuation matched ends a sentence: a capital or digit follows, no title."""
    following = _NEXT_WORD_RE.match(text, match.end())
    next_word = following[1] if following else ""
    if not next_word or not (next_word[0].isupper() or next_word[0].isdigit()):
        return False
    if "." not in match[0]:
        return True
    last = _LAST_WORD_RE.search(text, max(0, match.start() - 40), match.end())
    word = (last[1] if last else "").lower()
    if word in _TITLES or (len(word) == 1 and word.isalpha()):
        return False  # "Dr. Smith", "J. Smith"
    if word in _ABBREVIATIONS or "." in word:  # "Jan. 9", "U.S. troops"
        return next_word.lower().strip("\"\u201c\u2018'(") in _STARTERS
    return True


def _line_ends_sentence(text: str, after: int) -> bool:
    """Whether a single line break ends a sentence: a heading, not a hard-wrapped line."""
    following = _NEXT_WORD_RE.match(text, after)
    next_word = following[1] if following else ""
    line = text[text.rfind("\n", 0, after - 1) + 1 : after - 1].split()
    last = line[-1].lower() if line else ""
    starts_upper = bool(next_word) and (next_word[0].isupper() or next_word[0].isdigit())
    return starts_upper and last not in FUNCTION_WORDS and not last.endswith((",", ";", ":"))


def _trimmed(text: str, start: int, end: int, paragraph: int) -> list[Sentence]:
    """The sentence text[start:end] without surrounding whitespace, in pieces when over-long;
    none when blank."""
    pieces: list[Sentence] = []
    while (piece := _first_piece(text, start, end)) is not None:
        pieces.append(Sentence(*piece, paragraph))
        start = piece[1]
    return pieces


def _first_piece(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The first piece of text[start:end] without surrounding whitespace, at most
    MAX_SENTENCE_CHARS long and cut at a space when there is one; None when blank."""
    while start < end and text[start].isspace():
        start += 1
    if start == end:
        return None
    if end - start > MAX_SENTENCE_CHARS:
        end = _cut(text, start, start + MAX_SENTENCE_CHARS)
    while text[end - 1].isspace():
        end -= 1
    return start, end


def _cut(text: str, start: int, limit: int) -> int:
    """Where to end a piece of text[start:] no longer than limit: at the last space in its
    second half, else at the limit (a text with no spaces is no prose)."""
    for end in range(limit, (start + limit) // 2, -1):
        if text[end].isspace():
            return end
    return limit
