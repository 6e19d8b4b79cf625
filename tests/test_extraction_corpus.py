"""Issue 18: the extractor scored on our own wire-style corpus (tests/data/extraction/*.json).

Every paragraph was written for this corpus, none copied from an article. Each is labelled
with the candidates an editor wants from it (figure, metric, population, claimant, kind)
and its distractors: the numbers in it that are no claim (ages, years, money, things).

Labels follow these rules:
- a count of people under a built-in metric is expected with that metric; a count of
  people no built-in metric names ("cases", "casualties", "affected", "abducted") with
  metric null; a count of things, a group's size ("of the 40 passengers"), a rate, an age,
  a year, money, a percentage, an ordinal or a measure is a distractor;
- the claimant is who states the figure, as written: the speaker or the cited originator
  over the outlet that relays it, the attribution of the previous sentence of the same
  paragraph when the figure's own has none; null when no one is named;
- `kind` is "increment" for a figure that adds to a total ("two more bodies", "604 new
  deaths"), "forecast" for one that may come ("could reach 20,000"), else "count";
- people "treated" for something are injuries, "in hospital" or "in intensive care"
  hospitalized; people rescued, freed or held hostage, responders and a force's size are
  distractors.

distractors.json holds paragraphs dense in distractor numbers (addresses, times, money,
measures, durations, ages said with a verb, a court's cases, sizes of forces and crowds): the
held-out split had 59 distractors, too few for one proposed number to stay under 1 %, so its
held-out paragraphs were written and committed before the rules were changed again.

The split is fixed by rule, decided before any tuning: a paragraph is held out when the
first byte of the SHA-256 of its id is divisible by 3. Rules are tuned on the other
paragraphs only; the held-out ones are scored and printed, never read to tune.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.domain.figures import find_figures, parse_figure
from app.extraction import Candidate, extract_candidates
from tests.conftest import REPORT

CORPUS = Path(__file__).parent / "data" / "extraction"
TARGETS = {
    "recall": 0.95,
    "precision": 0.97,
    "claimant": 0.90,
    "population": 0.97,
}
MAX_DISTRACTOR_RATE = 0.01
KINDS = ("count", "forecast", "increment")


def load_corpus() -> list[dict[str, Any]]:
    paragraphs: list[dict[str, Any]] = []
    for path in sorted(CORPUS.glob("*.json")):
        for paragraph in json.loads(path.read_text(encoding="utf-8")):
            paragraphs.append(paragraph | {"file": path.stem})
    return paragraphs


def split_of(paragraph: dict[str, Any]) -> str:
    """The split rule, fixed before tuning: held out when sha256(id)[0] % 3 == 0."""
    first = hashlib.sha256(paragraph["id"].encode()).digest()[0]
    return "held-out" if first % 3 == 0 else "tuned"


# ---------------------------------------------------------------- comparing claimants

_NOT_WORD_RE = re.compile(r"[^\w']+")


def _words(claimant: str) -> list[str]:
    words = _NOT_WORD_RE.sub(" ", claimant.lower().replace("\u2019", "'")).split()
    return words[1:] if words[:1] in (["the"], ["a"], ["an"]) else words


def _contains(longer: list[str], shorter: list[str]) -> bool:
    n = len(shorter)
    return any(longer[i : i + n] == shorter for i in range(len(longer) - n + 1))


def same_claimant(expected: list[str], found: str | None) -> bool:
    """Whether found names one of the expected claimants: the same words but for case,
    punctuation and a leading article, or one inside the other and at least half of it."""
    if found is None:
        return False
    got = _words(found)
    for name in expected:
        want = _words(name)
        if got == want:
            return True
        shorter, longer = sorted((got, want), key=len)
        if shorter and _contains(longer, shorter) and 2 * len(shorter) >= len(longer):
            return True
    return False


# ---------------------------------------------------------------- scoring


def figure_text(distractor: str) -> str:
    """The figure a distractor's words start with, as find_figures reads it."""
    found = find_figures(distractor)
    return distractor[found[0][0] : found[0][1]] if found else distractor


def found_in(paragraph: dict[str, Any]) -> list[Candidate]:
    published = paragraph["published_at"]
    return extract_candidates(
        paragraph["text"], date.fromisoformat(published) if published else None
    )


def score(paragraph: dict[str, Any], found: list[Candidate]) -> tuple[Counter[str], list[str]]:
    """The counts of one paragraph, and a line for each miss (to read when tuning)."""
    left = list(paragraph["expected"])
    counts: Counter[str] = Counter(expected=len(left), distractors=len(paragraph["distractors"]))
    misses: list[str] = []
    unmatched: list[Candidate] = []
    for candidate in found:
        kind = getattr(candidate, "kind", "count")
        key = (candidate.figure.low, candidate.figure.high, candidate.metric, kind)
        same = [e for e in left if (e["low"], e["high"], e["metric"], e["kind"]) == key]
        match = next((e for e in same if e["figure"] == candidate.figure.text), None)
        match = match or (same[0] if same else None)
        if match is None:
            unmatched.append(candidate)
            misses.append(f"  fp {candidate.figure.text!r} {candidate.metric} {kind}")
            continue
        left.remove(match)
        counts["tp"] += 1
        counts["population"] += match["population"] == candidate.population
        if match["claimant"] is not None:
            names = [match["claimant"], *match.get("claimant_also", [])]
            right = same_claimant(names, candidate.claimant)
            counts["attributed"] += 1
            counts["claimant"] += right
            if not right:
                misses.append(f"  claimant {candidate.figure.text!r}: {candidate.claimant!r}")
        if match["population"] != candidate.population:
            misses.append(f"  population {candidate.figure.text!r}: {candidate.population}")
    counts["fp"] = len(unmatched)
    counts["fn"] = len(left)
    misses += [f"  fn {e['figure']!r} {e['metric']} {e['kind']}" for e in left]
    texts = [c.figure.text.lower() for c in unmatched]
    for distractor in paragraph["distractors"]:
        text = figure_text(distractor).lower()
        counts["figures"] += text != distractor.lower() or bool(find_figures(distractor))
        if text in texts:
            texts.remove(text)
            counts["proposed"] += 1
            misses.append(f"  distractor {distractor!r}")
    return counts, misses


def rates(counts: Counter[str]) -> dict[str, float]:
    tp = counts["tp"]
    return {
        "precision": tp / max(tp + counts["fp"], 1),
        "recall": tp / max(counts["expected"], 1),
        "claimant": counts["claimant"] / max(counts["attributed"], 1),
        "population": counts["population"] / max(tp, 1),
        "distractors": counts["proposed"] / max(counts["distractors"], 1),
    }


def scores_line(name: str, paragraphs: int, counts: Counter[str]) -> str:
    r = rates(counts)
    return (
        f"{name:<9} {paragraphs:>3} paragraphs  precision {r['precision']:.3f}  "
        f"recall {r['recall']:.3f}  claimant {r['claimant']:.3f}  "
        f"population {r['population']:.3f}  distractors {r['distractors']:.3f} "
        f"({counts['proposed']} of {counts['distractors']}, {counts['figures']} read as figures)"
        f"  [tp {counts['tp']}, fp {counts['fp']}, fn {counts['fn']}]"
    )


def evaluate(corpus: list[dict[str, Any]]) -> dict[str, tuple[int, Counter[str], list[str]]]:
    """Per split: paragraphs, counts, and the misses of each paragraph."""
    result: dict[str, tuple[int, Counter[str], list[str]]] = {}
    for paragraph in corpus:
        counts, misses = score(paragraph, found_in(paragraph))
        n, total, lines = result.get(split_of(paragraph), (0, Counter(), []))
        if misses:
            lines = [*lines, f"{paragraph['file']}/{paragraph['id']}", *misses]
        result[split_of(paragraph)] = (n + 1, total + counts, lines)
    return result


# ---------------------------------------------------------------- the tests


def test_the_corpus_is_large_labelled_and_split_a_third_held_out() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 300
    assert len({p["id"] for p in corpus}) == len(corpus)
    held_out = sum(split_of(p) == "held-out" for p in corpus)
    assert 0.28 <= held_out / len(corpus) <= 0.4
    # Enough held-out distractors that one proposed number is not already over 1 %.
    distractors = sum(len(p["distractors"]) for p in corpus if split_of(p) == "held-out")
    assert distractors * MAX_DISTRACTOR_RATE > 1
    for paragraph in corpus:
        for expected in paragraph["expected"]:
            assert expected["figure"] in paragraph["text"], paragraph["id"]
            figure = parse_figure(expected["figure"])
            assert (figure.low, figure.high) == (expected["low"], expected["high"])
            assert expected["kind"] in KINDS
        for distractor in paragraph["distractors"]:
            assert distractor in paragraph["text"], (paragraph["id"], distractor)


def test_scores_on_both_splits_meet_the_targets_on_the_tuned_one(
    request: pytest.FixtureRequest,
) -> None:
    result = evaluate(load_corpus())
    lines = [scores_line(split, n, counts) for split, (n, counts, _) in sorted(result.items())]
    request.config.stash.setdefault(REPORT, []).extend(["issue 18 corpus:", *lines])
    _, tuned, misses = result["tuned"]
    r = rates(tuned)
    failing = [name for name, target in TARGETS.items() if r[name] < target]
    if r["distractors"] > MAX_DISTRACTOR_RATE:
        failing.append("distractors")
    assert not failing, "\n".join([*lines, *misses])
