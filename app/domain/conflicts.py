"""The conflict rules of SPEC §5, as pure functions of claims.

Read it against the spec table: `find_conflicts` gathers the pair rules (value_mismatch,
downward_revision, part_exceeds_whole) and the claim rules (retracted_figure,
cites_retracted, disputed, and SPEC §13's source_unavailable and figure_not_in_source, read
from the claim's WatchState: app.domain.watch). Pairs are ordered by `chronology`: A is the
earlier claim.

Current figures: a claimant's active claims of one group and population form a series in
chronological order; a claim is its claimant's current figure at a date t from its own
as_of until the next claim of its series whose as_of <= t (`successors` finds that next
claim; `superseded_by` names it). Pairs of claims of different claimants are compared only
where both are current figures at the later one's date.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from itertools import pairwise
from typing import Generic, Protocol, TypeVar

from app.domain.model import ClaimFacts, ConflictKind, Figure, Finding, Gap, MetricKind
from app.domain.watch import WatchState

_SAME_DATE = "the two cannot both be right on the same date"
_FELL = "a cumulative count cannot fall between these dates"


class Succession(Protocol):
    """What succession needs of a claim (a Claim or its ClaimFacts)."""

    @property
    def id(self) -> str: ...
    @property
    def event(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def location_key(self) -> str: ...
    @property
    def population(self) -> str: ...
    @property
    def claimant_key(self) -> str: ...
    @property
    def as_of(self) -> date: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def retracted(self) -> bool: ...


def chronology(claim: Succession) -> tuple[date, datetime, int, str]:
    """The order of claims in time: as_of, then recorded_at, then id (a total order). Ids
    compare as the database orders them, as numbers ("9" before "10"): the claims of a bulk
    batch share their recorded_at."""
    return (claim.as_of, claim.recorded_at, len(claim.id), claim.id)


def find_conflicts(
    claims: Iterable[ClaimFacts], involving: str | Collection[str] | None = None
) -> list[Finding]:
    """Every conflict that holds among `claims`, sorted by key, without duplicates.

    With `involving` (an id, or several), only the findings whose claims include that id,
    from the pairs with the claims `Places.near` it (what a rule can compare with it). The
    claims must hold the involved claim's whole group, or at least what `comparable` picks of
    it for that claim (series decide what is current). Ids are assumed unique; findings about
    claims outside the group (a citing claim from another group) are reported too.
    """
    by_id = {claim.id: claim for claim in claims}
    following = successors(by_id.values())
    if involving is None:
        found = _all_findings(by_id, following)
    else:
        places = Places(by_id.values())
        citing: dict[str, list[ClaimFacts]] = {}
        for claim in by_id.values():
            if claim.cites is not None:
                citing.setdefault(claim.cites, []).append(claim)
        found = [
            f
            for i in ([involving] if isinstance(involving, str) else involving)
            if i in by_id
            for f in _findings_involving(by_id[i], places, citing, by_id, following)
        ]
    return sorted({finding.key: finding for finding in found}.values(), key=lambda f: f.key)


S = TypeVar("S", bound=Succession)
SeriesKey = tuple[str, str, str, str, str]


def successors(claims: Iterable[S]) -> dict[str, S | None]:
    """Each claim id -> its claimant's next active claim of its group and population (the
    claim that ends its time as a current figure), or None."""
    chains: dict[tuple[str, str, str, str, str], list[S]] = {}
    for claim in claims:
        chains.setdefault(_succession_key(claim), []).append(claim)
    result: dict[str, S | None] = {}
    for chain in chains.values():
        result.update(_successors(sorted(chain, key=chronology)))
    return result


def superseded_by(claims: Iterable[Succession]) -> dict[str, str | None]:
    """Each claim id -> the id of its claimant's next active claim of its group and population."""
    return {i: None if s is None else s.id for i, s in successors(claims).items()}


def predecessors(claims: Iterable[S], of: Iterable[Succession]) -> list[S]:
    """The active claims of `claims` that the claims `of` follow (or would follow) directly in
    their series: whose time as a current figure a change to `of` can end or extend."""
    chains: dict[tuple[str, str, str, str, str], list[S]] = {}
    for claim in claims:
        if not claim.retracted:
            chains.setdefault(_succession_key(claim), []).append(claim)
    for chain in chains.values():
        chain.sort(key=chronology)
    found: list[S] = []
    for changed in of:
        chain = chains.get(_succession_key(changed), [])
        at = bisect_left(chain, chronology(changed), key=chronology)
        found += [c for c in chain[max(0, at - 2) : at] if c.id != changed.id][-1:]
    return found


def comparable(
    entries: Iterable[S], subjects: Iterable[Succession], also: Iterable[str] = ()
) -> set[str]:
    """The ids of `entries` (the claims of the subjects' groups: at least the claims next to
    each subject in its own series, and of every series the claims current at their own date)
    that the pair rules can compare with each subject (Places.near), and the claims that
    decide whether those are current: the successor of each of those and of `also`. That is
    all `find_conflicts(..., involving=subject)` needs of the group: about claimants x
    populations claims on a long story, however many the group holds (issue 14).
    """
    places = Places(entries)
    wanted = set(also)
    for subject in subjects:
        wanted.update(c.id for c in places.near(subject))
    following = {c.id: n.id for chain in places.chains.values() for c, n in pairwise(chain)}
    return wanted | {following[i] for i in wanted if i in following}


class Places(Generic[S]):
    """The active claims of some groups by series, in time: what `near` looks up."""

    def __init__(self, claims: Iterable[S]) -> None:
        self.chains: dict[SeriesKey, list[S]] = {}
        for claim in claims:
            if not claim.retracted:
                self.chains.setdefault(_succession_key(claim), []).append(claim)
        self.series: dict[tuple[str, str, str], list[SeriesKey]] = {}
        self.days: dict[SeriesKey, tuple[list[date], list[S]]] = {}
        for key, chain in self.chains.items():
            chain.sort(key=chronology)
            self.series.setdefault(key[:3], []).append(key)
            # Only the last claim of a date can be current at a date: the others meet no series.
            last = [
                c
                for c, n in zip(chain, [*chain[1:], None], strict=True)
                if n is None or n.as_of > c.as_of
            ]
            self.days[key] = ([c.as_of for c in last], last)

    def near(self, subject: Succession) -> list[S]:
        """The claims a pair rule can compare with `subject`: in its own series the claims
        just before and after it; in every other series of its group the claim current at
        the subject's as_of and each claim dated while the subject is current (from its as_of
        until its successor's)."""
        own = _succession_key(subject)
        mine = self.chains.get(own, [])
        at = bisect_left(mine, chronology(subject), key=chronology)
        earlier = [c for c in mine[max(0, at - 2) : at] if c.id != subject.id][-1:]
        later = [c for c in mine[at : at + 2] if c.id != subject.id][:1]
        found = [*earlier, *later]
        for key in self.series.get(own[:3], []):
            if key == own:
                continue
            dates, last = self.days[key]
            current = bisect_right(dates, subject.as_of)
            until = bisect_left(dates, later[0].as_of) if later else len(dates)
            start = bisect_left(dates, subject.as_of)
            found += last[max(0, current - 1) : current]
            found += last[start:until]  # dated while the subject is current
        return found


def newer_figure(claims: Iterable[ClaimFacts], following: Following) -> str | None:
    """Why a pair of active claims is no longer compared, when a newer figure of one of them
    is the reason: the sentence an editor reads on the cleared conflict, else None."""
    a, b = sorted(claims, key=chronology)
    if a.retracted or b.retracted or not _pair_findings(a, b, _ALL_CURRENT):
        return None  # it would not hold even without newer figures: a correction cleared it
    newer = next((n for c in (a, b) if (n := following.get(c.id)) is not None), None)
    if newer is None:
        return None
    figure = f"{newer.figure.text}, {newer.as_of}"
    return f"No longer compared: {newer.claimant} gave a newer figure ({figure})."


def is_current(claim: ClaimFacts, at: date, following: Mapping[str, ClaimFacts | None]) -> bool:
    """Whether the claim is its claimant's current figure at the date `at`."""
    after = following.get(claim.id)
    return claim.as_of <= at and (after is None or after.as_of > at)


# --- gathering -----------------------------------------------------------------------------


Following = Mapping[str, ClaimFacts | None]
_ALL_CURRENT: Following = {}  # as if no claim had a newer one


def _all_findings(by_id: Mapping[str, ClaimFacts], following: Following) -> list[Finding]:
    """The findings of every pair of claims and of every single claim."""
    every = list(by_id.values())
    found = [f for claim in every for f in _claim_findings(claim, by_id)]
    for index, first in enumerate(every):
        for second in every[index + 1 :]:
            found.extend(_pair_findings(first, second, following))
    return found


def _findings_involving(
    subject: ClaimFacts,
    places: Places[ClaimFacts],
    citing: Mapping[str, list[ClaimFacts]],
    by_id: Mapping[str, ClaimFacts],
    following: Following,
) -> list[Finding]:
    """The findings that include `subject`, from the pairs and claims that can yield them."""
    found = _claim_findings(subject, by_id)
    for other in places.near(subject):
        found.extend(_pair_findings(subject, other, following))
    for other in citing.get(subject.id, []):
        found.extend(f for f in _claim_findings(other, by_id) if subject.id in f.claims)
    return found


# --- pair rules ----------------------------------------------------------------------------


def _pair_findings(x: ClaimFacts, y: ClaimFacts, following: Following) -> list[Finding]:
    """The pair conflicts between two claims, in whichever order they are given."""
    if not _comparable(x, y):
        return []
    a, b = sorted((x, y), key=chronology)
    if a.population == b.population:
        found = _downward_revision(a, b, following) or _value_mismatch(a, b, following)
    elif b.population in a.population_ancestors:
        found = _part_exceeds_whole(a, b, following)
    elif a.population in b.population_ancestors:
        found = _part_exceeds_whole(b, a, following)
    else:
        found = None  # siblings (civilians, security_forces) are never compared
    return [] if found is None else [found]


def _comparable(a: ClaimFacts, b: ClaimFacts) -> bool:
    """Both claims are active and of the same group (event, metric, location)."""
    return (
        not a.retracted
        and not b.retracted
        and (a.event, a.metric, a.location_key) == (b.event, b.metric, b.location_key)
    )


def _value_mismatch(a: ClaimFacts, b: ClaimFacts, following: Following) -> Finding | None:
    """Same population: disjoint on the same as_of, or a cumulative count fell (A.low > B.high);
    between two claimants' current figures at B's date, or two consecutive claims of one
    claimant's series with the same as_of."""
    if a.claimant_key == b.claimant_key:
        if following.get(a.id) is not b or a.as_of != b.as_of:
            return None
    elif not (is_current(a, b.as_of, following) and is_current(b, b.as_of, following)):
        return None
    if a.as_of == b.as_of:
        gap, why = _separation(a.figure, b.figure), _SAME_DATE
    elif a.metric_kind is MetricKind.CUMULATIVE:
        gap, why = _excess(a.figure, b.figure), _FELL
    else:
        return None  # a stock is free to move between dates
    if gap is None:
        return None
    detail = f"{_stated(a)} vs {_stated(b)}: {why}."
    return Finding(ConflictKind.VALUE_MISMATCH, (a.id, b.id), detail, gap)


def _downward_revision(a: ClaimFacts, b: ClaimFacts, following: Following) -> Finding | None:
    """Cumulative, B follows A directly in one claimant's series, A.as_of < B.as_of,
    A.low > B.high."""
    if a.metric_kind is not MetricKind.CUMULATIVE or following.get(a.id) is not b:
        return None
    gap = _excess(a.figure, b.figure) if a.as_of < b.as_of else None
    if gap is None:
        return None
    detail = f"{_stated(a)} then {_stated(b)}: the same claimant lowered a count that cannot fall."
    return Finding(ConflictKind.DOWNWARD_REVISION, (a.id, b.id), detail, gap)


def _part_exceeds_whole(
    part: ClaimFacts, whole: ClaimFacts, following: Following
) -> Finding | None:
    """Both current figures at the whole's as_of, and the part's low exceeds the whole's high
    (cumulative: part.as_of <= whole's; stock: the same as_of)."""
    at = whole.as_of
    if not (is_current(part, at, following) and is_current(whole, at, following)):
        return None
    if part.metric_kind is MetricKind.CUMULATIVE:
        in_time = part.as_of <= whole.as_of
    else:
        in_time = part.as_of == whole.as_of
    gap = _excess(part.figure, whole.figure) if in_time else None
    if gap is None:
        return None
    detail = (
        f"{_stated(part, population=True)} vs {_stated(whole, population=True)}: "
        f"a part ({part.population}) cannot exceed its whole ({whole.population})."
    )
    return Finding(ConflictKind.PART_EXCEEDS_WHOLE, (part.id, whole.id), detail, gap)


def _excess(larger: Figure, smaller: Figure) -> Gap | None:
    """How far `larger.low` exceeds `smaller.high`; None when it does not (or high is open)."""
    if smaller.high is None or larger.low <= smaller.high:
        return None
    absolute = larger.low - smaller.high
    # larger.low > smaller.high >= 0, so the ratio is well defined and in (0, 1].
    return Gap(absolute=absolute, relative=absolute / larger.low)


def _separation(a: Figure, b: Figure) -> Gap | None:
    """The distance between two intervals; None when they overlap or touch."""
    return _excess(a, b) or _excess(b, a)


# --- claim rules ---------------------------------------------------------------------------


def _claim_findings(claim: ClaimFacts, by_id: Mapping[str, ClaimFacts]) -> list[Finding]:
    """retracted_figure, cites_retracted, disputed, source_unavailable and
    figure_not_in_source, for the claim they start from."""
    found = [_disputed(claim, dispute) for dispute in claim.open_disputes]
    if claim.retracted:
        found.append(_retracted_figure(claim))
    cited = by_id.get(claim.cites) if claim.cites is not None else None
    if not claim.retracted and cited is not None and cited.retracted:
        found.append(_cites_retracted(claim, cited))
    watch = claim.watch
    if not claim.retracted and watch is not None:  # a retracted claim is no longer watched
        if watch.unavailable:
            found.append(_source_unavailable(claim, watch))
        elif watch.figure_missing:
            found.append(_figure_not_in_source(claim, watch))
    return found


def _retracted_figure(claim: ClaimFacts) -> Finding:
    """One finding per retracted claim."""
    detail = f"{_figure_of(claim)}{_published_by(claim)} was retracted."
    return Finding(ConflictKind.RETRACTED_FIGURE, (claim.id,), detail)


def _cites_retracted(citing: ClaimFacts, cited: ClaimFacts) -> Finding:
    """An active claim relays a retracted one: claims are (citing, cited)."""
    if citing.source and cited.source:
        figure = f"{cited.figure.text} ({cited.claimant}, {cited.as_of})"
        detail = f"{citing.source} relays a figure that {cited.source} retracted: {figure}."
    else:
        detail = f"{_figure_of(citing)} cites {_figure_of(cited)}, which was retracted."
    return Finding(ConflictKind.CITES_RETRACTED, (citing.id, cited.id), detail)


def _disputed(claim: ClaimFacts, dispute: str) -> Finding:
    """One finding per open dispute, retracted claim or not."""
    note = next((n for n in claim.dispute_notes if n.id == dispute), None)
    detail = f"{_figure_of(claim)}{_published_by(claim)} is disputed"
    detail += "." if note is None else f" by {note.by}: {_sentence(note.reason)}"
    return Finding(ConflictKind.DISPUTED, (claim.id,), detail, dispute=dispute)


def _source_unavailable(claim: ClaimFacts, watch: WatchState) -> Finding:
    """SPEC §13: the url answered 404 or 410, or failed every check for the grace period."""
    if watch.status in (404, 410):
        why = f"answered {watch.status}"
    else:
        since = watch.failing_since or watch.checked_at
        why = "has failed every check" + (f" since {since:%Y-%m-%d %H:%M} UTC" if since else "")
    detail = f"{_figure_of(claim)}{_published_by(claim)} cannot be read at its source: {watch.url}"
    return Finding(ConflictKind.SOURCE_UNAVAILABLE, (claim.id,), f"{detail} {why}.")


def _figure_not_in_source(claim: ClaimFacts, watch: WatchState) -> Finding:
    """SPEC §13: the page is there, and no longer shows the figure or quote it showed."""
    detail = (
        f"{_figure_of(claim)}{_published_by(claim)} is no longer on its source page, "
        f"where an earlier check found it: {watch.url}"
    )
    return Finding(ConflictKind.FIGURE_NOT_IN_SOURCE, (claim.id,), detail)


# --- succession ----------------------------------------------------------------------------


def _succession_key(claim: Succession) -> tuple[str, str, str, str, str]:
    """Claims that can supersede each other: one claimant, group and population."""
    return (claim.event, claim.metric, claim.location_key, claim.population, claim.claimant_key)


def _successors(chain: list[S]) -> dict[str, S | None]:
    """For a chain in chronological order, each claim's nearest later active claim."""
    result: dict[str, S | None] = {}
    following: S | None = None
    for claim in reversed(chain):
        result[claim.id] = following
        if not claim.retracted:
            following = claim
    return result


# --- sentences -----------------------------------------------------------------------------


def _stated(claim: ClaimFacts, *, population: bool = False) -> str:
    """`Claimant (figure, as_of)`, with the population when it matters to the sentence."""
    parts = [claim.figure.text, *([claim.population] if population else []), str(claim.as_of)]
    return f"{claim.claimant} ({', '.join(parts)})"


def _published_by(claim: ClaimFacts) -> str:
    """`, published by Source`, when the source is known."""
    return f", published by {claim.source}," if claim.source else ""


def _sentence(text: str) -> str:
    """The text as the end of a sentence: stripped, with a full stop unless it has one."""
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _figure_of(claim: ClaimFacts) -> str:
    """`Claimant's figure (figure, as_of)`."""
    owner = f"{claim.claimant}'" if claim.claimant.endswith("s") else f"{claim.claimant}'s"
    return f"{owner} figure ({claim.figure.text}, {claim.as_of})"
