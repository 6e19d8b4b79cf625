"""Extraction (SPEC §7): the candidate claims an article states, read by rule, never guessed.

Each figure that find_figures reports in a sentence is read against the words around
it, in this order:

1. its head: the noun it counts ("16 security guards", "164 deaths", "dozens of
   people") or none ("killed 12", "the toll rose to 50"). A figure counting a thing
   that is not people ("300 homes", "three days", "Boeing 737") is no candidate.
2. its metric, from the first cue that applies: the predicate after the head ("were
   killed", "remain missing"), a cue in the head ("164 deaths", "300 injured people"),
   the verb or noun before it ("killing 12", "detained more than 700", "the death toll
   ... rose to 50"), the figure it belongs to ("including 12 children", "1,404 of
   them"), or the kind of people counted ("5,000 protesters"). Counts the built-in
   metrics do not name ("cases", "casualties", "affected") are proposed with metric
   None; a figure with no cue at all is not proposed. A negated count ("none of the
   300 passengers was hurt") is not proposed; a hedged one ("could be displaced") is,
   with low confidence.
3. its population, from the people counted: police, soldiers and guards are
   security_forces, children and minors children, civilians civilians; else all. A
   figure with no head shares the people of the figure before it ("18 soldiers were
   killed and 40 wounded").
4. its claimant: "citing X" in the sentence, else the attribution nearest to it
   ("according to X", "X said", "said X", "X told reporters", "X put the toll at"),
   else the previous sentence's in the same paragraph; as written, or None.
5. its as_of: the day word nearest to it ("on Sunday", "yesterday", "January 9"),
   resolved against the publication date, else the publication date, else None.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Container, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta

from app.domain.figures import DEFAULT_TOLERANCE, find_figures
from app.domain.model import Figure

__all__ = ["Candidate", "Sentence", "extract_candidates", "split_sentences"]


@dataclass(frozen=True)
class Sentence:
    """text[start:end] is one sentence, trimmed; `paragraph` counts blank-line breaks."""

    start: int
    end: int
    paragraph: int


@dataclass(frozen=True)
class Candidate:
    """A claim an article seems to state, for a person to check; quote == text[span]."""

    figure: Figure
    metric: str | None
    population: str
    claimant: str | None
    as_of: date | None
    quote: str
    span: tuple[int, int]
    confidence: float
    why: str


# ---------------------------------------------------------------- sentences


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(*texts: str) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(text.split()) for text in texts)


# Titles before a name never end a sentence; other abbreviations end one only when a
# word that usually starts a sentence follows ("... in the U.S. The ministry said").
_TITLES = _words(
    "mr mrs ms dr prof gen lt col sgt capt maj cmdr adm gov sen rep rev hon st mt ft fr pres"
    " cpl pvt brig supt insp"
)
_ABBREVIATIONS = _words(
    "jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat"
    " sun no nos vs etc inc ltd co corp approx est dept univ al jr sr"
)
_STARTERS = _words(
    "the a an it he she they we i in on at but and this that these those there his her their"
    " its after before when while according police officials authorities"
)
_BREAK_RE = re.compile(r"[.!?]+[\"\u201d\u2019')\]]*(?=\s)|\n")
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
    return starts_upper and last not in _FUNCTION_WORDS and not last.endswith((",", ";", ":"))


def _trimmed(text: str, start: int, end: int, paragraph: int) -> list[Sentence]:
    """The sentence text[start:end] without surrounding whitespace; none when blank."""
    chunk = text[start:end]
    stripped = chunk.strip()
    if not stripped:
        return []
    first = start + chunk.index(stripped[0])
    return [Sentence(first, first + len(stripped), paragraph)]


# ---------------------------------------------------------------- the vocabulary


# Cue words and phrases -> the metric they name (SPEC §1's built-in metrics).
_METRIC_CUES: dict[str, tuple[str, ...]] = {
    "deaths": (
        "killed", "kill", "kills", "killing", "died", "die", "dies", "dying", "dead", "death",
        "deaths", "fatalities", "fatality", "perished", "slain", "murdered", "massacred",
        "drowned", "executed", "toll", "lives", "bodies", "death toll", "lost their lives",
        "shot dead",
    ),
    "injuries": (
        "injured", "injuring", "injure", "injures", "injuries", "injury", "wounded", "wounding",
        "wounds", "hurt", "hurting",
    ),
    "arrests": (
        "arrested", "arrest", "arrests", "arresting", "detained", "detain", "detaining",
        "detention", "detentions", "held", "jailed", "apprehended", "imprisoned",
        "in custody", "into custody", "rounded up",
    ),
    "displaced": (
        "displaced", "displacing", "displacement", "fled", "flee", "fleeing", "homeless",
        "refugees", "uprooted", "from their homes", "out of their homes", "without shelter",
        "lost their homes",
    ),
    "missing": ("missing", "disappeared", "trapped", "unaccounted for"),
    "evacuated": ("evacuated", "evacuate", "evacuating", "evacuation", "evacuations", "evacuees"),
    "hospitalized": (
        "hospitalised", "hospitalized", "hospitalisations", "hospitalizations", "hospital",
        "hospitals", "intensive care",
    ),
    "protesters": (
        "marched", "rallied", "protested", "demonstrated", "turnout", "crowd",
        "took to the streets", "take to the streets", "taking to the streets", "took part",
        "turned out",
    ),
    "troops_deployed": (
        "sent", "send", "sends", "sending", "deployed", "deploy", "deploys", "deploying",
        "deployment", "dispatched", "dispatch", "dispatching", "stationed", "massed", "mobilised",
        "mobilized", "ordered", "reinforcements",
    ),
    # Counts no built-in metric names: proposed with metric None.
    "": ("cases", "case", "infections", "infected", "affected", "casualties"),
}  # fmt: skip
_CUES = {tuple(cue.split()): metric for metric, cues in _METRIC_CUES.items() for cue in cues}
# Subjects that count whatever the verb after them reaches ("the death toll ... rose to 50").
_LEVEL_VERBS = _phrases(
    "rose to", "risen to", "climbed to", "jumped to", "increased to", "grew to", "fell to",
    "dropped to", "reached", "stood at", "stands at", "hit", "topped", "passed", "exceeded",
    "surpassed", "reach", "at", "to",
)  # fmt: skip

_SECURITY_FORCES = _words(
    "police policemen policewomen policeman officers officer soldiers soldier troops servicemen"
    " serviceman guards guard gendarmes peacekeepers guardsmen marines paratroopers conscripts"
    " forces personnel"
)
_TROOPS = _words(
    "soldiers troops servicemen paratroopers marines peacekeepers forces reinforcements conscripts"
)
_CHILDREN = _words(
    "children child kids minors babies infants toddlers schoolchildren boys girls pupils"
)
_CIVILIANS = _words("civilians civilian non-combatants noncombatants")
_PROTESTERS = _words("protesters protestors protester demonstrators demonstrator marchers crowd")
_PEOPLE = (
    _words(
        "people persons person residents villagers men women man woman others victims passengers"
        " migrants workers miners students patients tourists pilgrims fans spectators worshippers"
        " inmates prisoners detainees hostages fighters militants rebels insurgents gunmen"
        " attackers journalists reporters activists rioters looters supporters members citizens"
        " nationals foreigners crew sailors fishermen farmers staff employees teachers doctors"
        " nurses medics paramedics firefighters rescuers volunteers survivors adults pensioners"
        " individuals suspects mourners pedestrians motorists drivers climbers hikers them whom"
        " those evacuees refugees asylum-seekers youths teenagers relatives family families"
        " households customers voters delegates shoppers diners guests boy girl child counselor"
        " counsellor teacher worker driver pilot resident journalist reporter nurse doctor"
        " student passenger soldier policeman civilian protester"
    )
    | _SECURITY_FORCES
    | _CHILDREN
    | _CIVILIANS
    | _PROTESTERS
)
_NOT_PEOPLE = _words(
    "kilometers kilometres meters metres centimeters millimeters liters litres helicopters"
    " containers numbers shelters towers letters orders borders centers centres chapters layers"
    " barriers rivers waters quarters headquarters computers tankers bombers trailers papers"
    " dollars hours years"
)
_DETERMINERS = _words("the them whom those these its their his her our your this that a an")
# Words between a figure and its noun that do not change what it counts.
_HEAD_ADJECTIVES = _words(
    "more other additional further new extra fellow confirmed suspected probable possible"
)
# Words between a head and its predicate that keep the predicate its own.
_AUXILIARIES = _words(
    "were was are is have has had been be being reportedly also later still now already"
    " subsequently allegedly confirmed believed feared thought said reported known to remain"
    " remained remains left all both who that taken rushed admitted brought airlifted treated"
    " receiving seriously critically badly slightly lightly fatally forced initially so far"
    " officially either likely presumed listed"
)
_PREPOSITIONS = _words(
    "in from at on near across inside outside around throughout during for with among"
)
_MODALS = _words("could may might would will can should need needs needed")
_NEGATIONS = _words("not never no none n't without")
# Words between a cue and the figure it reaches ("killed at least", "deaths of", "put ... at").
_LEFT_FILLERS = _words(
    "a an the of to at all another additional further some total nearly almost about around"
    " more than over up least estimated its their his her reportedly also so far now had has"
    " have been were was are is among"
)
_INCLUDING = _phrases(
    "including", "among them", "among whom", "of whom", "of them", "mostly", "most of them",
    "many of them", "among those", "including at least",
)  # fmt: skip
_FUNCTION_WORDS = (
    _AUXILIARIES
    | _PREPOSITIONS
    | _MODALS
    | _words(
        "and or but while as after before since by for with of the a an to than when where"
        " which this that these his her its their our over under according said says"
    )
)
_DAY_NAMES = _words(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may"
    " june july august september october november december jan feb mar apr jun jul aug sep sept"
    " oct nov dec"
)

# ---------------------------------------------------------------- tokens

_TOKEN_RE = re.compile(r"(?:[A-Za-z]\.){2,}|[\w\u2019']+(?:[-\u2010][\w\u2019']+)*|[^\w\s]")


@dataclass(frozen=True)
class _Token:
    text: str
    start: int  # offsets in the sentence
    end: int
    figure: Figure | None = None
    word: str = ""  # the word in lower case with a plain apostrophe; "" for others


def _word(text: str, start: int, end: int) -> _Token:
    """A token of a word or a punctuation mark."""
    word = text.lower().replace("\u2019", "'") if text[0].isalnum() or text[0] == "'" else ""
    return _Token(text, start, end, None, word)


def _tokens(sentence: str, figures: list[tuple[int, int, Figure]]) -> list[_Token]:
    """The words and punctuation of a sentence, each figure as one token."""
    tokens = [_Token(figure.text, start, end, figure) for start, end, figure in figures]
    ends = [end for _, end, _ in figures]  # figures are ordered and do not overlap
    for match in _TOKEN_RE.finditer(sentence):
        n = bisect.bisect_right(ends, match.start())
        if n == len(figures) or match.end() <= figures[n][0]:
            tokens.append(_word(match[0], match.start(), match.end()))
    return sorted(tokens, key=lambda token: token.start)


def _phrase_at(tokens: list[_Token], i: int, phrases: Container[tuple[str, ...]]) -> int:
    """The length of the longest phrase that starts at tokens[i], or 0."""
    words = tuple(token.word for token in tokens[i : i + 5])
    return next((n for n in range(len(words), 0, -1) if words[:n] in phrases), 0)


def _phrase_ending(tokens: list[_Token], i: int, phrases: Container[tuple[str, ...]]) -> int:
    """The length of the longest phrase that ends at tokens[i], or 0."""
    words = tuple(token.word for token in tokens[max(0, i - 4) : i + 1])
    return next((n for n in range(len(words), 0, -1) if words[-n:] in phrases), 0)


def _cue_at(tokens: list[_Token], i: int) -> tuple[str, str] | None:
    """(metric, cue text) of the cue phrase starting at tokens[i], if any."""
    length = _phrase_at(tokens, i, _CUES)
    if not length:
        return None
    words = tuple(token.word for token in tokens[i : i + length])
    return _CUES[words], " ".join(token.text for token in tokens[i : i + length])


# ---------------------------------------------------------------- reading one figure


@dataclass(frozen=True)
class _Head:
    """What a figure counts: a noun of people ("guards"), a count ("deaths"), or nothing."""

    noun: str | None
    end: int  # index of the first token after the head
    cue: tuple[str, str] | None = None  # a metric the head itself names
    elided: bool = False  # the noun of the figure before ("12 soldiers were killed and 40 hurt")


@dataclass(frozen=True)
class _Reading:
    """What the words around one figure say of it."""

    index: int
    head: _Head
    metric: str | None
    cue: str | None
    source: str  # where the metric came from, for confidence
    negated: bool = False
    hedged: str | None = None
    unnamed: bool = False  # a count no built-in metric names ("cases", "affected")
    part: bool = False  # a part of the figure before ("including 12 children", "six of them")


def _is_people(token: _Token) -> bool:
    """Whether a word names people: a known noun, a demonym ("Palestinians"), an agent noun."""
    word = token.word
    if word in _PEOPLE:
        return True
    if word in _NOT_PEOPLE or len(word) < 4:
        return False
    if token.text[0].isupper() and word.endswith("s") and not word.endswith("ss"):
        return True  # Palestinians, Israelis, Britons
    return word.endswith(("ists", "ians", "ees", "ers"))


def _head(tokens: list[_Token], i: int) -> _Head | None:
    """The head of a figure whose words start at tokens[i]; None when it counts no people."""
    i = _after_adjectives(tokens, i)
    if [t.word for t in tokens[i : i + 3]] == ["the", "number", "of"]:
        i += 3  # "bringing to 16 the number of workers killed"
    if i < len(tokens) and tokens[i].word == "of":
        i = _after_of(tokens, i)
        if tokens[i - 1].word in ("them", "whom", "those"):
            return _Head(tokens[i - 1].word, i)
    unknown = False
    for j in range(i, min(i + 4, len(tokens))):
        head = _head_word(tokens, j, unknown)
        if head is not None:
            return head if head.end >= 0 else None
        unknown = True
    return None if unknown else _Head(None, i)


def _after_adjectives(tokens: list[_Token], i: int) -> int:
    """The index after words that do not change what a figure counts ("more", "confirmed and")."""
    while i < len(tokens) and (
        tokens[i].word in _HEAD_ADJECTIVES
        or (tokens[i].word in ("and", "or") and _word_at(tokens, i + 1) in _HEAD_ADJECTIVES)
    ):
        i += 1
    return i


def _word_at(tokens: list[_Token], i: int) -> str:
    return tokens[i].word if i < len(tokens) else ""


def _after_of(tokens: list[_Token], i: int) -> int:
    """The index after "of" and its determiners ("dozens of the", "three of them")."""
    i += 1
    while i < len(tokens) and tokens[i].word in _DETERMINERS:
        i += 1
        if tokens[i - 1].word in ("them", "whom", "those"):
            break
    return i


_NOT_A_HEAD = _Head(None, -1)


def _head_word(tokens: list[_Token], j: int, unknown: bool) -> _Head | None:
    """The head ending at tokens[j]; _NOT_A_HEAD for a thing; None to read on (an adjective)."""
    token = tokens[j]
    if token.figure is not None or not token.word or token.word in _FUNCTION_WORDS:
        return _NOT_A_HEAD if unknown else _Head(None, j)
    cue = _cue_at(tokens, j)
    if _is_people(token) and cue is None:
        if token.word == "members" and j + 1 < len(tokens) and tokens[j + 1].word == "of":
            return _head(tokens, _after_of(tokens, j + 1)) or _Head("members", j + 1)
        last = j  # "police officers", "health workers": the last noun counts
        while (
            last + 1 < len(tokens)
            and _is_people(tokens[last + 1])
            and not _cue_at(tokens, last + 1)
        ):
            last += 1
        return _Head(tokens[last].word, last + 1, _adjective_cue(tokens, j))
    if cue is None:
        return None
    if j + 1 < len(tokens) and _is_people(tokens[j + 1]):
        return None  # "300 injured people": read on to the noun
    if cue[0] == "troops_deployed" or _is_participle(token.word):
        return _Head(None, j)  # "121 wounded", "14,000 deployed": the predicate
    return _Head(token.word, j + 1, cue)


def _is_participle(word: str) -> bool:
    """Whether a cue word is a verb's participle ("wounded"), not a noun ("deaths")."""
    return word.endswith("ed") or word in ("hurt", "fled", "held", "sent", "dead", "slain")


def _adjective_cue(tokens: list[_Token], j: int) -> tuple[str, str] | None:
    """A cue among the words just before a people noun ("300 injured people")."""
    for i in range(j - 1, max(j - 3, -1), -1):
        if tokens[i].figure is not None:
            return None
        if (cue := _cue_at(tokens, i)) is not None:
            return cue
    return None


def _predicate(tokens: list[_Token], i: int) -> tuple[tuple[str, str] | None, bool, str | None]:
    """(cue, negated, modal) of the predicate from tokens[i]: "were reportedly killed"."""
    negated, modal, phrase = False, None, 0
    i = _skip_relative(tokens, _skip_coordinate(tokens, _skip_aside(tokens, i)))
    for j in range(i, min(i + 14, len(tokens))):
        if (cue := _cue_at(tokens, j)) is not None:
            return cue, negated, modal
        word = tokens[j].word
        if word in _NEGATIONS or word.endswith("n't"):
            negated = True
        elif word in _MODALS:
            modal = modal or word
        elif word in _AUXILIARIES:
            phrase = 0  # "12 people in the city were killed": the verb ends the place
        elif word in _PREPOSITIONS and not phrase:
            phrase = 1
        elif phrase and word in ("and", "or") and _cue_at(tokens, j + 1):
            break  # "killed 94 people in Mozambique and injured 768": another predicate
        elif phrase and (word or tokens[j].figure) and phrase < 8:
            phrase += 1
        else:
            break
    return None, False, None


def _skip_coordinate(tokens: list[_Token], i: int) -> int:
    """The index after a second subject ("Ten girls and a counselor were missing")."""
    if i >= len(tokens) or tokens[i].word not in ("and", "or"):
        return i
    j = i + 1
    while j < min(i + 4, len(tokens)) and (tokens[j].word in _DETERMINERS or tokens[j].figure):
        j += 1
    for noun in range(j, min(j + 3, len(tokens))):
        if _is_people(tokens[noun]) and not _cue_at(tokens, noun):
            return noun + 1
    return i


_BE = _words("are is were was have has had")


def _skip_relative(tokens: list[_Token], i: int) -> int:
    """The index of the main verb after a relative clause ("who were filling potholes ... are")."""
    if i >= len(tokens) or tokens[i].word not in ("who", "that"):
        return i
    for j in range(i + 1, min(i + 14, len(tokens))):
        if _cue_at(tokens, j) or tokens[j].figure or not tokens[j].word:
            return i  # "who were killed": the clause is the predicate
        if tokens[j].word in _BE and tokens[j - 1].word not in _AUXILIARIES | {"who", "that"}:
            return j
    return i


def _skip_aside(tokens: list[_Token], i: int) -> int:
    """The index after an aside between commas (", including three children,")."""
    if i + 1 < len(tokens) and tokens[i].text == "," and _phrase_at(tokens, i + 1, _INCLUDING):
        for j in range(i + 2, min(i + 12, len(tokens))):
            if tokens[j].text == ",":
                return j + 1
    return i


def _left_cue(tokens: list[_Token], k: int) -> tuple[str, str] | None:
    """The cue before a figure: "killing at least 12", "deaths of", "the toll ... rose to 50"."""
    i = k - 1
    while i >= 0 and tokens[i].word in _LEFT_FILLERS:
        i -= 1
    if i >= 0 and (cue := _cue_ending(tokens, i)) is not None:
        return cue
    level = _phrase_ending(tokens, k - 1, _LEVEL_VERBS)
    return _subject_cue(tokens, k - 1 - level) if level else None


def _cue_ending(tokens: list[_Token], i: int) -> tuple[str, str] | None:
    """The cue phrase that ends at tokens[i], if any."""
    length = _phrase_ending(tokens, i, _CUES)
    return _cue_at(tokens, i - length + 1) if length else None


def _subject_cue(tokens: list[_Token], i: int) -> tuple[str, str] | None:
    """The nearest cue in the subject before a level verb, within the clause."""
    for j in range(i, max(i - 12, -1), -1):
        if tokens[j].text in (";", ":"):
            return None
        if (cue := _cue_ending(tokens, j)) is not None:
            return cue
    return None


def _read(
    tokens: list[_Token], k: int, last: _Reading | None, whole: _Reading | None
) -> _Reading | None:
    """The reading of the figure at tokens[k], after the `last` reading and the `whole` last
    reading that is not a part of another."""
    if _is_name(tokens, k - 1):
        return None  # "Boeing 737", "Flight 17", "Article 5"
    head = _head(tokens, k + 1)
    if head is None:
        return None
    if head.noun is None and whole is not None and _shares_noun(tokens, whole.index, k):
        head = replace(head, noun=whole.head.noun, elided=True)
    if _is_rate(tokens, head.end):
        return None  # "20 refugees arrive every hour"
    cue, negated, modal = _predicate(tokens, head.end)
    negated = negated or _phrase_ending(tokens, k - 1, _phrases("none of the", "none of")) > 0
    modal = modal or _level_modal(tokens, k)
    part = _phrase_ending(tokens, k - 1, _INCLUDING) > 0 or head.noun in ("them", "whom")
    part = part or _anaphoric_level(tokens, k)
    reading = _Reading(k, head, None, None, "none", negated, modal, part=part)
    for source, found in (("predicate", cue), ("head", head.cue), ("before", _left_cue(tokens, k))):
        if found is not None and _fits(found[0], head, tokens, k):
            metric, unnamed = found[0] or None, not found[0]
            return replace(reading, metric=metric, cue=found[1], source=source, unnamed=unnamed)
    return _metric_from_context(tokens, reading, last)


def _metric_from_context(
    tokens: list[_Token], reading: _Reading, whole: _Reading | None
) -> _Reading:
    """A reading with no cue of its own: the metric of the figure it is part of, or protesters."""
    head = reading.head
    gapped = head.elided and not _has_verb(tokens, head.end)  # "105 died in A and 52 in B"
    if (reading.part or gapped) and whole is not None and (whole.metric or whole.unnamed):
        same = (whole.metric, whole.cue, whole.unnamed)
        return replace(reading, metric=same[0], cue=same[1], unnamed=same[2], source="part")
    if head.noun in _PROTESTERS:
        return replace(reading, metric="protesters", cue=head.noun, source="head")
    return reading


_RATES = _phrases(
    *(
        f"{each} {unit}"
        for each in ("every", "per", "a", "each")
        for unit in ("minute", "hour", "day", "week", "month", "year")
    )
)


def _is_rate(tokens: list[_Token], i: int) -> bool:
    """Whether the words after a head make its figure a rate ("every hour", "a day")."""
    return any(_phrase_at(tokens, j, _RATES) for j in range(i, min(i + 6, len(tokens))))


def _level_modal(tokens: list[_Token], k: int) -> str | None:
    """The modal before a level verb ("the number could reach 500")."""
    level = _phrase_ending(tokens, k - 1, _LEVEL_VERBS)
    before = k - 1 - level
    return tokens[before].word if level and before >= 0 and tokens[before].word in _MODALS else None


def _anaphoric_level(tokens: list[_Token], k: int) -> bool:
    """Whether a level verb's subject is the figure before ("the number could reach 500")."""
    level = _phrase_ending(tokens, k - 1, _LEVEL_VERBS)
    subject = [token.word for token in tokens[max(0, k - 1 - level - 3) : k - level]]
    return bool(level) and any(word in ("number", "figure", "total", "tally") for word in subject)


def _has_verb(tokens: list[_Token], i: int) -> bool:
    """Whether a verb of its own follows a head, rather than a place, a time or nothing."""
    word = tokens[i].word if i < len(tokens) else ""
    return bool(word) and word not in _PREPOSITIONS and word not in ("and", "or")


def _is_name(tokens: list[_Token], i: int) -> bool:
    """Whether tokens[i], before a figure, makes it part of a name: "Flight 17", not "Sunday 12"."""
    if i < 0 or not tokens[i].word or not tokens[i].text[0].isupper():
        return False
    starts_sentence = not any(token.word for token in tokens[:i])
    return not starts_sentence and tokens[i].word not in _DAY_NAMES


def _fits(metric: str, head: _Head, tokens: list[_Token], k: int) -> bool:
    """Whether a cue's metric may apply to what the head counts: troops are deployed, not sent.

    A figure with no noun is deployed when troops are near ("troops ... the 14,000 deployed").
    """
    if metric != "troops_deployed":
        return True
    if head.noun is None:
        return any(token.word in _TROOPS for token in tokens[max(0, k - 30) : k + 30])
    return head.noun in _TROOPS


# ---------------------------------------------------------------- a sentence's figures


def _readings(tokens: list[_Token]) -> list[_Reading]:
    """The reading of every figure in a sentence that counts people, in order."""
    readings: list[_Reading] = []
    whole: _Reading | None = None
    for k, token in enumerate(tokens):
        reading = (
            _read(tokens, k, readings[-1] if readings else None, whole) if token.figure else None
        )
        if reading is not None:
            readings.append(reading)
            whole = whole if reading.part else reading
    return readings


def _shares_noun(tokens: list[_Token], previous: int, k: int) -> bool:
    """Whether a bare figure elides the noun of the one before ("12 soldiers ... and 40")."""
    between = [token.word for token in tokens[previous + 1 : k]]
    return "and" in between and not any(word in ("toll", "total") for word in between)


def _is_candidate(reading: _Reading) -> bool:
    """Whether a reading is proposed: it names a metric, or a count no metric names."""
    return not reading.negated and (reading.metric is not None or reading.unnamed)


# ---------------------------------------------------------------- populations


def _population(reading: _Reading) -> tuple[str, str | None]:
    """(population, the noun that says so) of a reading; metrics of people as such are all."""
    noun = reading.head.noun
    if noun is None or reading.metric in ("troops_deployed", "protesters"):
        return "all", None
    for population, nouns in (
        ("security_forces", _SECURITY_FORCES),
        ("children", _CHILDREN),
        ("civilians", _CIVILIANS),
    ):
        if noun in nouns:
            return population, noun
    return "all", None


# ---------------------------------------------------------------- claimants

_SPEECH_VERBS = _words(
    "said says told reported reports announced announces confirmed confirms stated added"
    " estimated estimates claimed claims tweeted wrote insisted noted declared put puts"
)
_ADVERBS = _words("also later earlier previously separately then had has have initially first")
_PRONOUNS = _words("he she it they we i")
# A claimant's name ends before these.
_CLAIMANT_STOPS = (
    _AUXILIARIES
    | _MODALS
    | _NEGATIONS
    | _SPEECH_VERBS
    | _words(
        "that which who when while as after before because if so where since at by with to"
        " than but or during over under late early last this next citing according"
    )
) - _words("all")
_CLAIMANT_LINKS = _words("of for on in and the de")
_RELAYED = _phrases(
    "figures from", "data from", "statistics from", "a statement from", "a statement by",
    "a report from", "a report by", "reports from", "a tally by", "a count by",
)  # fmt: skip
_CLOSERS = frozenset({",", "\u201d", '"', "\u2019", "'"})


@dataclass(frozen=True)
class _Attribution:
    claimant: str | None  # None: a pronoun, resolved from the previous sentence
    at: int  # token index of the cue
    cue: str
    citing: bool = False


def _attributions(tokens: list[_Token], sentence: str) -> list[_Attribution]:
    """Every attribution in a sentence: citing, according to, X said, said X."""
    found: list[_Attribution] = []
    for i, token in enumerate(tokens):
        if token.word == "citing":
            found += _forward(tokens, sentence, i + 1, _Attribution(None, i, "citing", True))
        elif _phrase_at(tokens, i, _phrases("according to")):
            found += _forward(tokens, sentence, i + 2, _Attribution(None, i, "according to"))
        elif token.word in _SPEECH_VERBS and _is_speech(tokens, i):
            found += _speaker(tokens, sentence, i)
    return found


def _is_speech(tokens: list[_Token], i: int) -> bool:
    """Whether a speech verb attributes: "put" only as "put the toll at"."""
    if tokens[i].word not in ("put", "puts"):
        return True
    words = [token.word for token in tokens[i + 1 : i + 7]]
    return bool(words) and words[0] == "the" and "at" in words


def _named(sentence: str, tokens: list[_Token], start: int, end: int) -> str | None:
    """The claimant tokens[start:end] as written; None for a pronoun."""
    text = sentence[tokens[start].start : tokens[end - 1].end]
    return None if text.lower() in _PRONOUNS else text


def _forward(
    tokens: list[_Token], sentence: str, i: int, attribution: _Attribution
) -> list[_Attribution]:
    """The claimant named after a cue ("citing the Ministry of Health", ", said Tokayev")."""
    i += _phrase_at(tokens, i, _RELAYED)
    end = i
    while end < len(tokens) and end - i < 10 and _in_claimant(tokens, end, forward=True):
        end += 1
    end = _trim_links(tokens, i, end)
    if end <= i:
        return []
    return [replace(attribution, claimant=_named(sentence, tokens, i, end))]


def _in_claimant(tokens: list[_Token], i: int, *, forward: bool) -> bool:
    """Whether tokens[i] may belong to a claimant's name."""
    token = tokens[i]
    if token.figure is not None or not token.word or token.word in _CLAIMANT_STOPS:
        return False
    if token.word in ("in", "on"):  # "police in Almaty", not "in a statement", "on Monday"
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        named = after is not None and after.text[0].isupper() and after.word not in _DAY_NAMES
        return named or (not forward and after is not None and after.word == "the")
    return forward or token.word != "and"


def _trim_links(tokens: list[_Token], start: int, end: int) -> int:
    """The end of a claimant without trailing links ("the ministry of" -> "the ministry")."""
    while end > start and tokens[end - 1].word in _CLAIMANT_LINKS:
        end -= 1
    return end


def _speaker(tokens: list[_Token], sentence: str, i: int) -> list[_Attribution]:
    """The claimant of "X said", ", said X" or "X, a spokesman for Y, said"."""
    attribution = _Attribution(None, i, tokens[i].text)
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


def _name_start(tokens: list[_Token], j: int) -> int | None:
    """Where the name ending at tokens[j] starts, reading back; None when there is none."""
    start = j + 1
    while start > 0 and j - start < 8 and _in_claimant(tokens, start - 1, forward=False):
        start -= 1
    named = any(token.word not in _DETERMINERS for token in tokens[start : j + 1])
    return start if start <= j and j - start < 8 and named else None


def _appositive(
    tokens: list[_Token], sentence: str, j: int, attribution: _Attribution
) -> list[_Attribution]:
    """The claimant of "Ivan Petrov, a spokesman for the ministry, said", as written."""
    comma = next((c for c in range(j - 1, max(j - 12, -1), -1) if tokens[c].text == ","), None)
    start = _name_start(tokens, comma - 1) if comma is not None else None
    if start is None or not tokens[start].text[0].isupper():
        return []
    return [replace(attribution, claimant=sentence[tokens[start].start : tokens[j - 1].end])]


def _claimant_for(
    attributions: list[_Attribution], k: int, inherited: str | None
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


def _own_claimant(attributions: list[_Attribution]) -> str | None:
    """The claimant a sentence passes on to the next: citing first, else the first named."""
    named = [a for a in attributions if a.claimant]
    citing = [a for a in named if a.citing]
    return (citing or named)[0].claimant if named else None


# ---------------------------------------------------------------- dates

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_NAMES = (
    "January Jan", "February Feb", "March Mar", "April Apr", "May", "June Jun", "July Jul",
    "August Aug", "September Sept Sep", "October Oct", "November Nov", "December Dec",
)  # fmt: skip
_MONTHS = {name.lower(): n for n, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}
_MONTH = "(?-i:(?P<{}>" + "|".join(" ".join(_MONTH_NAMES).split()) + r"))\.?"
_DAY_RE = re.compile(
    r"(?<![\w-])(?:(?P<before>since|from|until|till|by|next|before)\s+(?:the\s+)?)?"
    r"(?:(?P<relative>yesterday|today|tonight|last\s+night|this\s+(?:morning|afternoon|evening))"
    r"|(?-i:(?P<weekday>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))"
    rf"|{_MONTH.format('m1')}\s+(?P<d1>[0-9]{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y1>[0-9]{{4}}))?"
    rf"|(?P<d2>[0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH.format('m2')}"
    r"(?:,?\s+(?P<y2>[0-9]{4}))?)(?![\w-])",
    re.IGNORECASE,
)
_DAYS_BACK = {"yesterday": 1, "last night": 1}


def _days(sentence: str, published: date | None) -> list[tuple[int, date, str]]:
    """(offset, date, words) of each day phrase in a sentence that names a date."""
    found = ((m, _day(m, published)) for m in _DAY_RE.finditer(sentence))
    return [(match.start(), day, match[0]) for match, day in found if day is not None]


def _as_of(
    days: list[tuple[int, date, str]], at: int, published: date | None
) -> tuple[date | None, str | None]:
    """(as_of, the day words) for a figure at offset `at`: the nearest day word, else published."""
    if not days:
        return published, None
    n = bisect.bisect_left(days, at, key=lambda found: found[0])
    _, day, words = min(days[max(0, n - 1) : n + 1], key=lambda found: abs(found[0] - at))
    return day, words


def _day(match: re.Match[str], published: date | None) -> date | None:
    """The date a day phrase names, seen from the publication date; None when it can't say."""
    if match["before"]:
        return None  # "since January 2", "next Monday": not the day of the count
    if match["weekday"] or match["relative"]:
        return _relative_day(match, published) if published else None
    year_text = match["y1"] or match["y2"]
    year = int(year_text) if year_text else published.year if published else None
    month = _MONTHS[(match["m1"] or match["m2"]).lower()]
    try:
        day = date(year, month, int(match["d1"] or match["d2"])) if year else None
    except ValueError:
        return None
    if day is not None and not year_text and published is not None and day > published:
        return day.replace(year=day.year - 1)  # "December 30" in a January article
    return day


def _relative_day(match: re.Match[str], published: date) -> date:
    """The weekday on or before publication, or yesterday, today."""
    if match["weekday"]:
        back = (published.weekday() - _WEEKDAYS.index(match["weekday"].lower())) % 7
        return published - timedelta(days=back)
    words = " ".join(match["relative"].lower().split())
    return published - timedelta(days=_DAYS_BACK.get(words, 0))


# ---------------------------------------------------------------- candidates

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
    tokens: list[_Token]
    attributions: list[_Attribution]
    inherited: str | None  # the claimant of the sentence before, in the same paragraph
    days: list[tuple[int, date, str]]
    looks_back: str | None  # "anniversary", "in 2004": the figures may be of an earlier event


def extract_candidates(
    text: str, published: date | None = None, tolerance: float = DEFAULT_TOLERANCE
) -> list[Candidate]:
    """The candidate claims of text in order; each quote is text[span], its whole sentence."""
    candidates: list[Candidate] = []
    previous: tuple[int, str | None] = (-1, None)  # (paragraph, claimant) of the last sentence
    for sentence in split_sentences(text):
        quote = text[sentence.start : sentence.end]
        tokens = _tokens(quote, find_figures(quote, tolerance))
        attributions = _attributions(tokens, quote)
        inherited = previous[1] if previous[0] == sentence.paragraph else None
        looks_back = _looks_back(quote, published)
        context = _Context(
            sentence, quote, tokens, attributions, inherited, _days(quote, published), looks_back
        )
        for reading in filter(_is_candidate, _readings(tokens)):
            candidates.append(_candidate(context, reading, published))
        previous = (sentence.paragraph, _own_claimant(attributions))
    return candidates


def _looks_back(sentence: str, published: date | None) -> str | None:
    """The words that place a sentence at an earlier time, if any."""
    for match in _LOOKS_BACK_RE.finditer(sentence):
        if not match["year"] or published is None or int(match["year"]) < published.year:
            return match[0]
    return None


def _candidate(context: _Context, reading: _Reading, published: date | None) -> Candidate:
    """The Candidate of one reading, with its confidence and the cues that made it."""
    token = context.tokens[reading.index]
    assert token.figure is not None
    claimant, claimant_how = _claimant_for(context.attributions, reading.index, context.inherited)
    as_of, day_words = _as_of(context.days, token.start, published)
    population, population_noun = _population(reading)
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


def _metric_note(reading: _Reading) -> str:
    """Where the metric came from, naming the cue words."""
    if reading.metric is None:
        return f'no built-in metric counts "{reading.cue}"'
    if reading.source == "part":
        return f'{reading.metric}: part of the figure before ("{reading.cue}")'
    return f'{reading.metric} from "{reading.cue}"'


_METRIC_WEIGHT = {"predicate": 0.55, "head": 0.55, "before": 0.45, "part": 0.4, "none": 0.15}


def _confidence(reading: _Reading, claimant_how: str | None, looks_back: str | None) -> float:
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
