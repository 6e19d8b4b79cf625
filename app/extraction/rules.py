"""The rule-based extractor: the candidate claims an article states, read by rule, never guessed.

Each figure that find_figures reports in a sentence is read against the words around
it, in this order:

1. its head (heads.py): the noun it counts ("16 security guards", "164 deaths",
   "dozens of people") or none ("killed 12", "the toll rose to 50"). A figure
   counting a thing that is not people ("300 homes", "three days", "Boeing 737") is
   no candidate.
2. its metric (readings.py), from the first cue that applies: the predicate after the
   head ("were killed", "remain missing"), a cue in the head ("164 deaths", "300
   injured people"), the verb or noun before it ("killing 12", "detained more than
   700", "the death toll ... rose to 50"), the figure it belongs to ("including 12
   children", "1,404 of them"), or the kind of people counted ("5,000 protesters").
   Counts the built-in metrics do not name ("cases", "casualties", "affected") are
   proposed with metric None; a figure with no cue at all is not proposed. A negated
   count ("none of the 300 passengers was hurt") is not proposed; a hedged one ("could
   be displaced") is, with low confidence.
3. its population (readings.py), from the people counted: police, soldiers and guards
   are security_forces, children and minors children, civilians civilians; else all.
   A figure with no head shares the people of the figure before it ("18 soldiers were
   killed and 40 wounded").
4. its claimant (attribution.py): "citing X" in the sentence, else the attribution
   nearest to it ("according to X", "X said", "said X", "X told reporters", "X put the
   toll at"), else the previous sentence's in the same paragraph; as written, or None.
5. its as_of (dates.py): the day word nearest to it ("on Sunday", "yesterday",
   "January 9"), resolved against the publication date, else the publication date,
   else None.

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
)
from app.extraction.candidate import Candidate
from app.extraction.dates import find_days, nearest_day
from app.extraction.readings import Reading, is_candidate, population_of, read_figures
from app.extraction.sentences import Sentence, split_sentences
from app.extraction.tokens import Token, tokenize

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
    looks_back: str | None  # "anniversary", "in 2004": the figures may be of an earlier event


def extract_candidates(
    text: str, published: date | None = None, tolerance: float = DEFAULT_TOLERANCE
) -> list[Candidate]:
    """The candidate claims of text in order; each quote is text[span], its whole sentence
    (or piece of an over-long one). LimitExceeded when reading takes over the time budget."""
    candidates: list[Candidate] = []
    previous: tuple[int, str | None] = (-1, None)  # (paragraph, claimant) of the last sentence
    deadline = time.thread_time() + TIME_BUDGET_SECONDS
    for sentence in split_sentences(text):
        if time.thread_time() > deadline:
            raise LimitExceeded(
                f"Reading the text took more than {TIME_BUDGET_SECONDS:g} s (it was read up to "
                f"character {sentence.start:,}); send it in smaller parts.",
                field="text",
            )
        quote = text[sentence.start : sentence.end]
        tokens = tokenize(quote, find_figures(quote, tolerance))
        attributions = find_attributions(tokens, quote)
        inherited = previous[1] if previous[0] == sentence.paragraph else None
        looks_back = _looks_back(quote, published)
        context = _Context(
            sentence,
            quote,
            tokens,
            attributions,
            inherited,
            find_days(quote, published),
            looks_back,
        )
        for reading in filter(is_candidate, read_figures(tokens)):
            candidates.append(_candidate(context, reading, published))
        previous = (sentence.paragraph, passed_on_claimant(attributions))
    return candidates


def _looks_back(sentence: str, published: date | None) -> str | None:
    """The words that place a sentence at an earlier time, if any."""
    for match in _LOOKS_BACK_RE.finditer(sentence):
        if not match["year"] or published is None or int(match["year"]) < published.year:
            return match[0]
    return None


def _candidate(context: _Context, reading: Reading, published: date | None) -> Candidate:
    """The Candidate of one reading, with its confidence and the cues that made it."""
    token = context.tokens[reading.index]
    assert token.figure is not None
    claimant, claimant_how = claimant_for(context.attributions, reading.index, context.inherited)
    as_of, day_words = nearest_day(context.days, token.start, published)
    population, population_noun = population_of(reading)
    notes = [_metric_note(reading)]
    notes.append(f'{population} from "{population_noun}"' if population_noun else "")
    notes.append(f"claimant from {claimant_how}" if claimant_how else "no attribution")
    notes.append(f'as_of from "{day_words}"' if day_words else "")
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
