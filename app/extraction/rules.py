"""The rule-based extractor: the candidate claims an article states, read by rule, never guessed.

An article is read sentence by sentence (sentences.py), each sentence as tokens with each
figure as one token (tokens.py), and each figure that find_figures reports against the words
around it, in this order:

1. whether it counts people, its head and its metric (readings.py, heads.py, predicates.py):
   the noun it counts ("16 security guards", "164 deaths") and the cue that names what
   happened to them, nearest first ("the deaths of 247", "442 deaths", "were killed",
   "killing 12", "the toll rose to 50"), or the figure it is part of or listed with
   ("including 12 children", "six in Lagos, three in Abuja"). Counts the built-in metrics do
   not name ("cases", "casualties", "abducted") are proposed with metric None; a figure with
   no cue, of things ("four hospitals", a court's "640 cases"), an age ("13 or younger", "the
   median age was 54"), a name ("Flight 17"), a force's size ("which has 150,000 soldiers")
   or people freed ("the 48 prisoners released") is not proposed. A negated count ("none of
   the 300 passengers was hurt") is not proposed.
2. its population (readings.py): police, soldiers and guards are security_forces; children,
   minors and people under 18 children; civilians civilians; else all.
3. its kind (kinds.py): a count, an increment ("two more bodies") or a forecast ("could
   reach 20,000"); only counts are ready to post.
4. its claimant (attribution.py): a cited originator ("citing X"), else the attribution that
   closes its clause (", police said"), else the nearest before it ("Officials say ..."),
   else the previous sentence's in the same paragraph; the speaker over the outlet that
   relays them ("the governor told Reuters"); as written, or None.
5. its as_of (dates.py): the day word nearest to it ("on Sunday", "yesterday", "last
   week"), resolved against the article's dateline ("KABUL, Oct 9 (Reuters) -") or else its
   publication date; else that date; else None.

The words each step reads by are in cues.py.

Reading takes time in proportion to the text: sentences are at most MAX_SENTENCE_CHARS
long (sentences.py) and every step reads a bounded stretch of one. A text that still
takes more than TIME_BUDGET_SECONDS of CPU time is refused with LimitExceeded, checked
after each sentence.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import date

from app.domain.figures import DEFAULT_TOLERANCE, find_figures
from app.domain.model import LimitExceeded
from app.extraction.attribution import (
    Attribution,
    claimant_for,
    find_attributions,
    passed_on_claimant,
    subject_of,
)
from app.extraction.candidate import Candidate
from app.extraction.dates import dateline_day, find_days, nearest_day
from app.extraction.kinds import Signs, kind_of, signs_of
from app.extraction.readings import Reading, is_candidate, population_of, read_figures
from app.extraction.sentences import Sentence, split_sentences
from app.extraction.tokens import Token, split_changes, tokenize

__all__ = ["TIME_BUDGET_SECONDS", "extract_candidates"]

# CPU time, not wall-clock time: a busy server reads slower, but only a text that is itself
# too much to read is refused. Reading the longest article ExtractBody takes needs well
# under a second.
TIME_BUDGET_SECONDS = 5.0

# Words that place a sentence's figures at an earlier time than the article's.
_LOOKS_BACK_RE = re.compile(
    r"\b(?:anniversary|(?:years|decades)\s+(?:ago|since|after|earlier)|(?:in|since|of)\s+"
    r"(?P<year>(?:19|20)[0-9]{2})\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Context:
    """What a sentence tells all of its figures."""

    sentence: Sentence
    quote: str
    tokens: list[Token]
    attributions: list[Attribution]
    inherited: str | None  # the claimant of the sentence before, in the same paragraph
    days: list[tuple[int, date, str]]
    reference: date | None  # the day of the dateline, else of publication
    looks_back: str | None  # "anniversary", "in 2004": the figures may be of an earlier event
    signs: Signs


@dataclass
class _Paragraph:
    """What the sentences read so far in a paragraph pass on to the next."""

    number: int = -1
    claimant: str | None = None  # a named claimant to inherit
    subject: str | None = None  # the subject a pronoun may stand for
    metric: str | bool | None = False  # the last candidate's; False before the first


def extract_candidates(
    text: str, published: date | None = None, tolerance: float = DEFAULT_TOLERANCE
) -> list[Candidate]:
    """The candidate claims of text in order; each quote is text[span], its whole sentence
    (or piece of an over-long one). LimitExceeded when reading takes over the time budget."""
    candidates: list[Candidate] = []
    paragraph = _Paragraph()
    reference: date | None = None  # the dateline's day, once one is read
    deadline = time.thread_time() + TIME_BUDGET_SECONDS
    for sentence in split_sentences(text):
        if time.thread_time() > deadline:
            raise LimitExceeded(
                f"Reading the text took more than {TIME_BUDGET_SECONDS:g} s (it was read up to "
                f"character {sentence.start:,}); send it in smaller parts.",
                field="text",
            )
        quote = text[sentence.start : sentence.end]
        if sentence.paragraph != paragraph.number:
            paragraph = _Paragraph(sentence.paragraph)
            reference = reference or dateline_day(quote, published)
        context = _context(sentence, quote, tolerance, paragraph, reference or published)
        for reading in filter(is_candidate, read_figures(context.tokens)):
            candidate = _candidate(context, reading, paragraph.metric)
            candidates.append(candidate)
            paragraph.metric = candidate.metric
        paragraph.claimant = passed_on_claimant(context.attributions) or (
            paragraph.claimant if not context.attributions else None
        )
        paragraph.subject = subject_of(context.tokens, quote)
    return candidates


def _context(
    sentence: Sentence, quote: str, tolerance: float, paragraph: _Paragraph, day: date | None
) -> _Context:
    """What one sentence tells its figures, with what its paragraph passed on."""
    tokens = tokenize(quote, split_changes(quote, find_figures(quote, tolerance), tolerance))
    attributions = find_attributions(tokens, quote)
    inherited = paragraph.claimant or (paragraph.subject if _opens_with_pronoun(tokens) else None)
    return _Context(
        sentence, quote, tokens, attributions, inherited, find_days(quote, day), day,
        _looks_back(quote, day), signs_of(tokens),
    )  # fmt: skip


def _opens_with_pronoun(tokens: list[Token]) -> bool:
    return bool(tokens) and tokens[0].word in ("he", "she", "it", "they")


def _looks_back(sentence: str, published: date | None) -> str | None:
    """The words that place a sentence at an earlier time, if any."""
    for match in _LOOKS_BACK_RE.finditer(sentence):
        if not match["year"] or published is None or int(match["year"]) < published.year:
            return match[0]
    return None


def _candidate(context: _Context, reading: Reading, earlier: str | bool | None) -> Candidate:
    """The Candidate of one reading, with its confidence and the cues that made it."""
    token = context.tokens[reading.index]
    assert token.figure is not None
    claimant, claimant_how = claimant_for(context.attributions, reading.index, context.inherited)
    as_of, day_words = nearest_day(context.days, token.start, context.reference)
    population, population_words = population_of(reading)
    kind, kind_words = kind_of(reading, context.tokens, context.signs, earlier)
    notes = [_metric_note(reading)]
    notes.append(f'{population} from "{population_words}"' if population_words else "")
    notes.append(f"claimant from {claimant_how}" if claimant_how else "no attribution")
    notes.append(f'as_of from "{day_words}"' if day_words else "")
    notes.append(f'{kind} ("{kind_words}")' if kind_words else "")
    notes.append(f'hedged ("{reading.hedged}")' if reading.hedged else "")
    notes.append(
        f'may be of an earlier event ("{context.looks_back}")' if context.looks_back else ""
    )
    return Candidate(
        figure=token.figure,
        metric=reading.metric,
        population=population,
        claimant=claimant,
        as_of=as_of,
        quote=context.quote,
        span=(context.sentence.start, context.sentence.end),
        confidence=_confidence(reading, claimant_how, context.looks_back),
        why="; ".join(note for note in notes if note),
        kind=kind,
    )


def _metric_note(reading: Reading) -> str:
    """Where the metric came from, naming the cue words."""
    if reading.metric is None:
        return f'no built-in metric counts "{reading.cue}"'
    if reading.source == "part":
        return f'{reading.metric}: part of the figure before ("{reading.cue}")'
    return f'{reading.metric} from "{reading.cue}"'


_METRIC_WEIGHT = {"predicate": 0.55, "head": 0.55, "before": 0.45, "part": 0.4, "none": 0.15}


def _confidence(reading: Reading, claimant_how: str | None, looks_back: str | None) -> float:
    """0..1: how clearly the words name the metric, the people counted, and who says so."""
    score = _METRIC_WEIGHT[reading.source]
    score += 0.1 if reading.head.noun is not None else 0.0
    if claimant_how is not None:
        score += 0.15 if "previous sentence" in claimant_how else 0.25
    if reading.hedged:
        score *= 0.5
    if looks_back:
        score *= 0.6
    return round(min(score, 0.95), 2)
