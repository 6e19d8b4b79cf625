"""Extraction (SPEC §7): candidate claims from an article's text, behind one protocol.

An Extractor reads text and proposes Candidates; it stores nothing and knows nothing of
the database or HTTP. The rule-based reader of app.extraction.rules is the default;
anything with the same call signature (another rule set, a model) can replace it
wherever an Extractor is taken.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from app.domain.figures import DEFAULT_TOLERANCE
from app.extraction import rules
from app.extraction.candidate import Candidate
from app.extraction.sentences import MAX_SENTENCE_CHARS, Sentence, split_sentences

__all__ = [
    "MAX_SENTENCE_CHARS",
    "Candidate",
    "Extractor",
    "Sentence",
    "extract_candidates",
    "split_sentences",
]


class Extractor(Protocol):
    """Reads an article for the claims it states; `published` resolves day words ("Sunday")."""

    def __call__(
        self, text: str, published: date | None = None, tolerance: float = DEFAULT_TOLERANCE
    ) -> list[Candidate]:
        """The candidates in text, in order; each quote is text[span]; figures read with
        the figure grammar at this tolerance. LimitExceeded when the text is too much to
        read at once."""
        ...


extract_candidates: Extractor = rules.extract_candidates
"""The default Extractor: read by rule, never guessed."""
