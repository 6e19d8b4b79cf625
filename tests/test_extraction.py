"""Extraction rules (pure): sentences, metrics, populations, claimants, dates, and the scores
over a corpus of wire-style paragraphs (tests/extraction_corpus.json)."""

from __future__ import annotations

import ast
import json
import sys
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.extraction
from app.domain import vocabulary
from app.domain.figures import find_figures, parse_figure
from app.extraction import Candidate, extract_candidates, split_sentences
from app.extraction.cues import CUES, METRIC_CUES, POPULATION_NOUNS
from tests.conftest import REPORT

# SPEC's seed article retold in our own words, with the same figures and attributions.
ARTICLE = Path(__file__).parent / "data" / "article.txt"
CORPUS = Path(__file__).with_name("extraction_corpus.json")
OPEN = None


def one(text: str, published: date | None = None) -> Candidate:
    """The single candidate of a text."""
    found = extract_candidates(text, published)
    assert len(found) == 1, found
    return found[0]


def summary(candidate: Candidate) -> tuple[str, str | None, str, str | None]:
    return candidate.figure.text, candidate.metric, candidate.population, candidate.claimant


# ---------------------------------------------------------------- sentences


def sentences(text: str) -> list[str]:
    found = split_sentences(text)
    assert all(text[s.start : s.end] == text[s.start : s.end].strip() for s in found)
    return [text[s.start : s.end] for s in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. Two! Three? Four", ["One.", "Two!", "Three?", "Four"]),
        ("Mr. Smith met Dr. Jones. They talked.", ["Mr. Smith met Dr. Jones.", "They talked."]),
        ("U.S. troops left on Jan. 9 at 5 p.m. with Gen. Lee.", None),
        ("It happened in the U.S. The ministry said so.", ["It happened in the U.S.", None]),
        ("He met J. R. Smith. Then he left.", ["He met J. R. Smith.", "Then he left."]),
        ('"We are safe," he said. "Go home."', ['"We are safe," he said.', '"Go home."']),
        ("It rose 3.5 percent. Then 1,200 left.", ["It rose 3.5 percent.", "Then 1,200 left."]),
        ("Headline here\nBody starts. Ends.", ["Headline here", "Body starts.", "Ends."]),
        ("a hard-wrapped line of\nthe same sentence.", None),
        ("First para.\n\n  Second para.  ", ["First para.", "Second para."]),
        ("", []),
        ("   \n\n ", []),
    ],
)
def test_sentences_split_at_ends_not_abbreviations(
    text: str, expected: list[str | None] | None
) -> None:
    found = sentences(text)
    if expected is None:
        assert found == [text.strip()]
    else:
        assert len(found) == len(expected)
        assert all(e is None or f == e for f, e in zip(found, expected, strict=True))


def test_blank_lines_start_paragraphs() -> None:
    found = split_sentences("A one. A two.\n\nB one.\nB two.")
    assert [s.paragraph for s in found] == [0, 0, 1, 1]


# ---------------------------------------------------------------- the Kazakhstan article


def test_the_kazakhstan_article_yields_its_five_claims_and_nothing_else() -> None:
    article = ARTICLE.read_text(encoding="utf-8")
    found = extract_candidates(article, date(2022, 1, 10))
    assert [summary(c) for c in found] == [
        ("2,500", "troops_deployed", "all", None),
        ("almost 8,000", "arrests", "all", "the authorities"),
        ("at least 164", "deaths", "all", "the Ministry of Health"),
        ("Hundreds", "injuries", "all", "the Ministry of Health"),
        ("16", "deaths", "security_forces", "Tokayev"),
    ]
    assert found[2].as_of == date(2022, 1, 9)  # "on Sunday", published on Monday the 10th
    for candidate in found:
        assert article[slice(*candidate.span)] == candidate.quote
        assert candidate.figure == parse_figure(candidate.figure.text)


# ---------------------------------------------------------------- metrics and populations

METRICS: list[tuple[str, str, str | None, str]] = [
    ("At least 12 people were killed in the blast.", "At least 12", "deaths", "all"),
    ("The blast killed 12 on Sunday.", "12", "deaths", "all"),
    ("The death toll rose to 50 on Sunday.", "50", "deaths", "all"),
    (
        "The toll from the quake, the worst in decades, has risen to 5,000.",
        "5,000",
        "deaths",
        "all",
    ),
    ("Rescuers recovered the bodies of 11 miners.", "11", "deaths", "all"),
    ("It left 30 people dead.", "30", "deaths", "all"),
    ("Among the dead were 32 children.", "32", "deaths", "children"),
    ("Six workers who were filling potholes are presumed dead.", "Six", "deaths", "all"),
    ("Hundreds more people were injured.", "Hundreds", "injuries", "all"),
    ("Another 28 were hurt.", "28", "injuries", "all"),
    ("42 were treated for injuries.", "42", "injuries", "all"),
    ("There were 300 injured people.", "300", "injuries", "all"),
    ("Police arrested 457 people nationwide.", "457", "arrests", "all"),
    ("Almost 8,000 people were detained.", "Almost 8,000", "arrests", "all"),
    ("The ministry put the number of detentions at 633.", "633", "arrests", "all"),
    ("The alliance sent 2,500 soldiers.", "2,500", "troops_deployed", "all"),
    ("Britain is sending 500 troops to Estonia.", "500", "troops_deployed", "all"),
    (
        "More than 7 million people have fled their homes.",
        "More than 7 million",
        "displaced",
        "all",
    ),
    ("About 1,600 have been left homeless.", "About 1,600", "displaced", "all"),
    ("Some 200 people remain unaccounted for.", "Some 200", "missing", "all"),
    ("Six miners were still trapped underground.", "Six", "missing", "all"),
    ("More than 8,000 residents were evacuated.", "More than 8,000", "evacuated", "all"),
    ("They ordered the evacuation of about 20,000 residents.", "about 20,000", "evacuated", "all"),
    (
        "Tens of thousands of people rallied in the capital.",
        "Tens of thousands",
        "protesters",
        "all",
    ),
    ("Police fired tear gas at 5,000 protesters.", "5,000", "protesters", "all"),
    ("Police put the turnout at 128,000.", "128,000", "protesters", "all"),
    ("18 people were hospitalized.", "18", "hospitalized", "all"),
    ("48 people were still in hospital.", "48", "hospitalized", "all"),
    ("16 security guards were killed.", "16", "deaths", "security_forces"),
    ("Two police officers were hurt.", "Two", "injuries", "security_forces"),
    ("Eighteen members of the security forces died.", "Eighteen", "deaths", "security_forces"),
    ("The strike killed 27 civilians.", "27", "deaths", "civilians"),
    ("Ten girls and a counselor are missing.", "Ten", "missing", "children"),
    ("The airstrikes killed 27 Palestinians.", "27", "deaths", "all"),
    ("Protesters clashed with police, and 300 protesters were arrested.", "300", "arrests", "all"),
]


@pytest.mark.parametrize(("text", "figure", "metric", "population"), METRICS)
def test_metric_and_population_from_the_words_around_the_figure(
    text: str, figure: str, metric: str | None, population: str
) -> None:
    found = one(text)
    assert (found.figure.text, found.metric, found.population) == (figure, metric, population)
    assert found.metric in found.why


def test_a_figure_takes_its_own_cue_not_its_neighbours() -> None:
    found = extract_candidates("Two people were killed and five others injured; 9 fled.")
    assert [(c.figure.text, c.metric) for c in found] == [
        ("Two", "deaths"),
        ("five", "injuries"),
        ("9", "displaced"),
    ]


def test_parts_share_the_metric_of_their_whole() -> None:
    text = "The strikes killed 40 people, including three children, and wounded 75 others."
    found = extract_candidates(text)
    assert [(c.figure.text, c.metric, c.population) for c in found] == [
        ("40", "deaths", "all"),
        ("three", "deaths", "children"),
        ("75", "injuries", "all"),
    ]


def test_an_elided_noun_and_verb_come_from_the_figure_before() -> None:
    found = extract_candidates("18 soldiers were killed and 40 were wounded.")
    assert [(c.metric, c.population) for c in found] == [
        ("deaths", "security_forces"),
        ("injuries", "security_forces"),
    ]
    found = extract_candidates("105 people died in Jajarkot and 52 in Rukum.")
    assert [(c.figure.text, c.metric) for c in found] == [("105", "deaths"), ("52", "deaths")]


@pytest.mark.parametrize(
    "text",
    [
        "1,245 new cases were recorded.",
        "The floods affected more than 33 million.",
        "There were 50 casualties.",
        "128 health workers have been infected.",
    ],
)
def test_counts_no_built_in_metric_names_are_proposed_with_metric_null(text: str) -> None:
    found = one(text)
    assert found.metric is None
    assert "no built-in metric" in found.why


NOT_CLAIMS = [
    "The quake struck at 10:30 on January 9, 2022, and lasted 40 seconds.",
    "The 35-year-old man, aged 35, lived 12 kilometres away.",
    "Prices rose 5%, or 7 per cent, in 2021.",
    "It cost $5 million, 3 million euros and 40,000 tenge.",
    "Call +7 727 123 4567 for details.",
    "Some 1,200 homes were destroyed and 300 cars burned.",
    "The Boeing 737-800 crashed on Flight 5735.",
    "Real Madrid beat Barcelona 3-1 in the first 20 minutes.",
    "The committee has nine members.",
    "Rescuers pulled 81 survivors from the water.",
    "None of the 300 passengers was hurt.",
    "The 120 passengers were not injured.",
    "Around 20 refugees arrive every hour.",
    "He was sentenced to 10 years.",
    "one of the largest protests in years",
]


@pytest.mark.parametrize("text", NOT_CLAIMS)
def test_numbers_that_count_no_claim_are_not_proposed(text: str) -> None:
    assert extract_candidates(text) == []


def test_hedged_figures_are_proposed_with_less_confidence() -> None:
    sure = one("Up to 1 million people were displaced.")
    hedged = one("Up to 1 million people could be displaced.")
    assert (hedged.metric, sure.metric) == ("displaced", "displaced")
    assert hedged.confidence < sure.confidence
    assert 'hedged ("could")' in hedged.why


def test_figures_of_an_earlier_event_are_flagged() -> None:
    found = one("The 2004 tsunami, which struck 20 years ago, killed about 230,000 people.")
    assert found.metric == "deaths"
    assert "earlier event" in found.why
    assert found.confidence < one("The tsunami killed about 230,000 people.").confidence


# ---------------------------------------------------------------- claimants

CLAIMANTS: list[tuple[str, str | None]] = [
    ("According to the authorities, 300 people were arrested.", "the authorities"),
    ("The media reported 164 deaths, citing the Ministry of Health.", "the Ministry of Health"),
    ("Tokayev said 16 security guards were killed.", "Tokayev"),
    ("At least 12 people were killed, police said.", "police"),
    ("At least 12 people died, the Health Ministry said on Monday.", "the Health Ministry"),
    ("\u201c12 people died,\u201d said the head of state on Monday.", "the head of state"),
    ("Officials told reporters that 40 were injured.", "Officials"),
    (
        "Regional governor Serhiy Lysak said 40 people were killed.",
        "Regional governor Serhiy Lysak",
    ),
    (
        "Ivan Petrov, a spokesman for the ministry, said 12 people died.",
        "Ivan Petrov, a spokesman for the ministry",
    ),
    ("Police in Minsk said 700 people were detained.", "Police in Minsk"),
    ("Unions put the turnout at 3.5 million.", "Unions"),
    ("The Kenya National Commission on Human Rights said 23 died.", None),
    ("At least 12 people were killed.", None),
    ("The confirmed death toll stood at 19.", None),
]


@pytest.mark.parametrize(("text", "claimant"), CLAIMANTS)
def test_claimants_as_written(text: str, claimant: str | None) -> None:
    if claimant is None and "Commission" in text:
        claimant = "The Kenya National Commission on Human Rights"
    assert one(text).claimant == claimant


def test_the_nearest_attribution_wins_unless_one_is_cited() -> None:
    text = "Organisers said 1.7 million people marched, while police put the turnout at 128,000."
    assert [c.claimant for c in extract_candidates(text)] == ["Organisers", "police"]
    cited = one("State TV reported 164 deaths, citing the Ministry of Health.")
    assert cited.claimant == "the Ministry of Health"


def test_a_sentence_without_attribution_takes_the_one_before_in_its_paragraph() -> None:
    text = "Officials said 12 died. Another 40 were hurt.\n\nA further 5 were missing."
    found = extract_candidates(text)
    assert [c.claimant for c in found] == ["Officials", "Officials", None]
    assert "previous sentence" in found[1].why
    assert found[1].confidence < found[0].confidence
    assert one("The ministry said so. It said 30 people were injured.").claimant == "The ministry"


# ---------------------------------------------------------------- dates

MONDAY = date(2022, 1, 10)


@pytest.mark.parametrize(
    ("text", "published", "as_of"),
    [
        ("12 people died on Sunday.", MONDAY, date(2022, 1, 9)),
        ("12 people died on Monday.", MONDAY, MONDAY),
        ("12 people died on Tuesday.", MONDAY, date(2022, 1, 4)),
        ("12 people died yesterday.", MONDAY, date(2022, 1, 9)),
        ("12 people died last night.", MONDAY, date(2022, 1, 9)),
        ("12 people died today.", MONDAY, MONDAY),
        ("12 people died.", MONDAY, MONDAY),
        ("12 people died on January 5.", MONDAY, date(2022, 1, 5)),
        ("12 people died on 30 December.", MONDAY, date(2021, 12, 30)),
        ("12 people died on Dec. 30, 2019.", MONDAY, date(2019, 12, 30)),
        ("12 people died on Dec. 30, 2019.", None, date(2019, 12, 30)),
        ("Since January 2, 12 people died.", MONDAY, MONDAY),
        ("12 people died on Sunday.", None, None),
        ("12 people died.", None, None),
    ],
)
def test_as_of_from_day_words_and_the_publication_date(
    text: str, published: date | None, as_of: date | None
) -> None:
    assert one(text, published).as_of == as_of


def test_as_of_takes_the_day_nearest_the_figure() -> None:
    text = "The toll from Friday's quake rose to 2,012, the ministry said on Saturday."
    assert one(text, date(2023, 9, 10)).as_of == date(2023, 9, 9)


# ---------------------------------------------------------------- every candidate


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(
        st.sampled_from(
            [
                "12", "at least 40", "hundreds", "people", "soldiers", "were", "killed", "injured",
                "arrested", "said", "police", "according to", "the", "ministry", ",", ".", "and",
                "including", "children", "on Sunday", "citing", "Mr.", "U.S.", "\n\n", "2022",
                "%", "$", "toll", "rose to", "of them", "could", "not", "every day", "\u201c",
            ]
        ),
        max_size=40,
    )
)  # fmt: skip
def test_any_text_gives_well_formed_candidates(words: list[str]) -> None:
    text = " ".join(words)
    for candidate in extract_candidates(text, MONDAY):
        assert text[slice(*candidate.span)] == candidate.quote
        assert candidate.figure.text in candidate.quote
        assert candidate.figure == parse_figure(candidate.figure.text)
        assert 0 <= candidate.confidence <= 1
        assert candidate.why


def test_extraction_imports_only_the_standard_library_the_domain_and_itself() -> None:
    for module in Path(app.extraction.__file__).parent.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        outside = {name for name in imported if name.split(".")[0] not in sys.stdlib_module_names}
        assert all(
            name.split(".")[:2] in (["app", "domain"], ["app", "extraction"]) for name in outside
        ), (module.name, outside)


def test_every_built_in_metric_has_cue_words() -> None:
    cued = set(CUES.values())
    uncued = [metric.name for metric in vocabulary.METRICS if metric.name not in cued]
    assert not uncued, f"built-in metrics extraction has no cue words for: {uncued}"
    assert set(METRIC_CUES) == {metric.name for metric in vocabulary.METRICS}


def test_every_population_extraction_proposes_is_built_in() -> None:
    built_in = {population.name for population in vocabulary.POPULATIONS}
    assert {name for name, _ in POPULATION_NOUNS} | {vocabulary.ALL.name} <= built_in


# ---------------------------------------------------------------- precision and recall


def normal_claimant(claimant: str | None) -> str | None:
    if claimant is None:
        return None
    words = claimant.lower().split()
    return " ".join(words[1:] if words[:1] == ["the"] else words)


def same_claimant(expected: str | None, found: str | None) -> bool:
    """Equal but for case, spaces and a leading "the"; or one names the other's words."""
    a, b = normal_claimant(expected), normal_claimant(found)
    return a == b or (a is not None and b is not None and (a in b or b in a))


def score(paragraph: dict[str, Any]) -> Counter[str]:
    """True and false positives and negatives of one paragraph, and the fields right."""
    published = paragraph["published_at"]
    found = extract_candidates(
        paragraph["text"], date.fromisoformat(published) if published else None
    )
    left = list(paragraph["expected"])
    counts: Counter[str] = Counter()
    for candidate in found:
        key = (candidate.figure.low, candidate.figure.high, candidate.metric)
        match = next((e for e in left if (e["low"], e["high"], e["metric"]) == key), None)
        if match is None:
            counts["fp"] += 1
            continue
        left.remove(match)
        counts["tp"] += 1
        counts["population"] += match["population"] == candidate.population
        counts["claimant"] += same_claimant(match["claimant"], candidate.claimant)
    counts["fn"] += len(left)
    return counts


def scores_line(name: str, counts: Counter[str]) -> str:
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return (
        f"{name:<10} precision {precision:.3f}  recall {recall:.3f}  "
        f"population {counts['population'] / max(tp, 1):.3f}  "
        f"claimant {counts['claimant'] / max(tp, 1):.3f}  (tp {tp}, fp {fp}, fn {fn})"
    )


def test_precision_and_recall_over_the_corpus(request: pytest.FixtureRequest) -> None:
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    assert len(corpus) >= 25
    by_batch: dict[str, Counter[str]] = {}
    for paragraph in corpus:
        by_batch.setdefault(paragraph["batch"], Counter()).update(score(paragraph))
    total = sum(by_batch.values(), Counter())
    lines = [scores_line("all", total), *(scores_line(b, c) for b, c in by_batch.items())]
    request.config.stash.setdefault(REPORT, []).extend(
        [
            f"{len(corpus)} paragraphs, {sum(len(p['expected']) for p in corpus)} expected claims",
            *lines,
        ]
    )
    tp, fp, fn = total["tp"], total["fp"], total["fn"]
    assert tp / (tp + fp) >= 0.95, lines
    assert tp / (tp + fn) >= 0.95, lines
    assert total["population"] / tp >= 0.95, lines
    assert total["claimant"] / tp >= 0.9, lines


@pytest.mark.parametrize(
    ("text", "figures"),
    [
        ("About 2000 people were evacuated.", ["About 2000"]),
        ("2000 soldiers were sent.", ["2000"]),
        ("In 2000 people were killed by floods.", []),
        ("The 2004 tsunami killed people.", []),
        ("Since 2020 cases rose.", []),
    ],
)
def test_a_number_like_a_year_before_people_is_a_count(text: str, figures: list[str]) -> None:
    assert [text[start:end] for start, end, _ in find_figures(text)] == figures
