"""The words extraction reads by: what names a metric, who is counted, what only joins.

Metric cues are keyed by the built-in metric names of app.domain.vocabulary, and
populations by its population names: nothing here lists them again.
"""

from __future__ import annotations

from app.domain.vocabulary import (
    ARRESTS,
    CHILDREN,
    CIVILIANS,
    DEATHS,
    DISPLACED,
    EVACUATED,
    HOSPITALIZED,
    INJURIES,
    MISSING,
    PROTESTERS,
    SECURITY_FORCES,
    TROOPS_DEPLOYED,
)


def word_set(text: str) -> frozenset[str]:
    """The words of a space-separated text."""
    return frozenset(text.split())


def phrase_set(*texts: str) -> frozenset[tuple[str, ...]]:
    """Each text as a tuple of its words."""
    return frozenset(tuple(text.split()) for text in texts)


# ---------------------------------------------------------------- metrics

# Cue words and phrases of each built-in metric (SPEC §1).
METRIC_CUES: dict[str, tuple[str, ...]] = {
    DEATHS.name: (
        "killed", "kill", "kills", "killing", "died", "die", "dies", "dying", "dead", "death",
        "deaths", "fatalities", "fatality", "perished", "slain", "murdered", "massacred",
        "drowned", "drowning", "executed", "toll", "lives", "bodies", "death toll",
        "lost their lives", "shot dead", "succumbed", "succumbing", "frozen to death",
        "burned to death", "burnt to death", "crushed to death", "beaten to death",
        "stabbed to death", "starved to death", "trampled to death", "hacked to death",
        "froze to death",
    ),
    INJURIES.name: (
        "injured", "injuring", "injure", "injures", "injuries", "injury", "wounded", "wounding",
        "wounds", "hurt", "hurting", "treated",
    ),
    ARRESTS.name: (
        "arrested", "arrest", "arrests", "arresting", "detained", "detain", "detaining",
        "detention", "detentions", "held", "jailed", "apprehended", "imprisoned",
        "in custody", "into custody", "rounded up", "charged",
    ),
    DISPLACED.name: (
        "displaced", "displacing", "displacement", "fled", "flee", "fleeing", "homeless",
        "refugees", "uprooted", "from their homes", "out of their homes", "without shelter",
        "lost their homes", "in need of shelter", "in shelters", "in public shelters", "in tents",
        "in relief camps", "in camps", "in temporary shelters", "to temporary shelters",
    ),
    MISSING.name: (
        "missing", "disappeared", "trapped", "unaccounted for", "buried alive", "buried under",
        "buried beneath", "buried in the rubble",
    ),
    EVACUATED.name: (
        "evacuated", "evacuate", "evacuating", "evacuation", "evacuations", "evacuees",
        "in evacuation centres", "in evacuation centers",
    ),
    HOSPITALIZED.name: (
        "hospitalised", "hospitalized", "hospitalisations", "hospitalizations", "hospital",
        "hospitals", "intensive care", "being treated", "treated in hospital",
        "treated in hospitals", "on ventilators", "on a ventilator",
    ),
    PROTESTERS.name: (
        "marched", "rallied", "protested", "demonstrated", "turnout", "crowd",
        "took to the streets", "take to the streets", "taking to the streets", "took part",
        "turned out", "flooded the streets", "filled the streets", "packed the streets",
        "poured into the streets", "taken part", "taking part", "take part", "joined", "join",
        "gathered", "went on strike", "walked out", "drew",
    ),
    TROOPS_DEPLOYED.name: (
        "sent", "send", "sends", "sending", "deployed", "deploy", "deploys", "deploying",
        "deployment", "dispatched", "dispatch", "dispatching", "stationed", "massed", "mobilised",
        "mobilized", "ordered", "reinforcements", "called in", "called up", "sent in",
        "brought in", "on duty",
    ),
}  # fmt: skip
# Counts no built-in metric names, proposed with metric None; UNNAMED stands for their metric.
UNNAMED = ""
UNNAMED_CUES = (
    "cases", "case", "infections", "infected", "affected", "casualties", "fell ill", "fell sick",
    "sickened", "tested positive", "abducted", "kidnapped", "held hostage", "taken hostage",
    "dead or missing", "dead and missing", "killed or injured", "killed or wounded",
    "dead or injured", "dead or wounded",
)  # fmt: skip
# Words that make "cases" those of a court, not people who fell ill ("opened 640 cases").
LEGAL_WORDS = word_set(
    "court courts courtroom tribunal tribunals judge judges judicial prosecutor prosecutors"
    " prosecution lawsuit lawsuits legal criminal lawyers"
)
# Protest cues that name protesters only where the sentence speaks of a protest.
WEAK_PROTEST_CUES = frozenset({"joined", "join", "gathered", "drew"})
PROTEST_WORDS = word_set(
    "protest protests protested protesting protesters protestors demonstration demonstrations"
    " demonstrators march marches marched marchers rally rallies rallied crowd crowds strike"
    " strikes strikers"
)
# Each cue phrase, as a tuple of its words -> the metric it names.
CUES = {
    tuple(cue.split()): metric
    for metric, cues in (*METRIC_CUES.items(), (UNNAMED, UNNAMED_CUES))
    for cue in cues
}
# Cues read only before a figure: a noun that the figure counts ("a crowd of 5,000") or a
# verb whose object it is ("doctors treated 231 people", "lost 14 men").
LEFT_CUES: dict[tuple[str, ...], str] = {
    tuple(cue.split()): metric
    for metric, cues in (
        (PROTESTERS.name, ("crowd of", "rally of", "march of", "protest of", "demonstration of",
                           "tear gas at", "tear gas on", "water cannon on", "crowd at",
                           "crowd estimated at", "turnout at")),
        (DEATHS.name, ("lost",)),
        (TROOPS_DEPLOYED.name, ("has", "have", "had", "with")),
    )
    for cue in cues
}  # fmt: skip
# Cues that name a metric after a figure but not before it ("the hall held 900 guests").
NOT_LEFT_CUES = phrase_set("held", "hospital", "hospitals", "intensive care", "join", "joined")
# Verbs whose object is no claim ("sentenced 11 protesters", "freed 3,700 inmates").
NOT_CLAIM_VERBS = word_set(
    "sentenced convicted released freed rescued fined deported expelled acquitted pardoned"
    " exchanged swapped tried"
)
# Those of them that end a predicate after the figure: the people counted were freed or
# judged, whatever verb follows ("the 48 prisoners released ... had been held").
NOT_CLAIM_PARTICIPLES = NOT_CLAIM_VERBS - word_set("rescued tried")
# Words after "has N troops" that place them, making the figure a deployment ("in Mali").
PLACED = word_set("in on at across along near inside around there")
# Subjects that count whatever the verb after them reaches ("the death toll ... rose to 50").
LEVEL_VERBS = phrase_set(
    "rose to", "risen to", "climbed to", "jumped to", "increased to", "grew to", "fell to",
    "dropped to", "reached", "stood at", "stands at", "hit", "topped", "passed", "exceeded",
    "surpassed", "reach", "at", "to", "was", "is", "were", "are", "numbered", "number",
    "numbering", "totalled", "totaled", "totals", "included", "include", "includes", "nearing",
    "neared", "approaching", "approached", "exceed", "exceeds", "surpass", "top", "tops",
    "rise to", "climb to", "rising to", "climbing to", "be", "rose by", "risen by",
    "increased by", "climbed by", "jumped by", "grew by", "rising by", "fell by", "dropped by",
    "rose from", "risen from", "increased from", "climbed from", "jumped from", "grew from",
)  # fmt: skip
# Words that make a figure after them a share of a group ("20% of the town's 30,000").
SHARE_WORDS = word_set("% percent cent half third quarter fifth tenth majority")
# Words before a figure that make it a change of a total ("rose by 708", "a further 6,000").
INCREMENT_BEFORE = phrase_set(
    "another", "an additional", "a further", "additional", "further", "extra", "rose by",
    "risen by", "increased by", "climbed by", "jumped by", "grew by", "up by", "rising by",
)  # fmt: skip
# Words after a figure that do ("two more bodies", "604 new deaths").
INCREMENT_AFTER = word_set("more additional further new extra")
# Words before a figure that make it an earlier count of the figure before ("up from 91").
COMPARED = phrase_set(
    "up from",
    "down from",
    "from",
    "against",
    "compared with",
    "compared to",
    "versus",
    "vs",
)
# Modals and verbs that make a figure one that may come ("could reach", "expect 100,000").
FORECAST_WORDS = word_set(
    "could may might will would expected expect expects projected forecast predicted likely"
)

# ---------------------------------------------------------------- people

SECURITY_FORCE_NOUNS = word_set(
    "police policemen policewomen policeman officers officer soldiers soldier troops servicemen"
    " serviceman guards guard gendarmes peacekeepers guardsmen marines paratroopers conscripts"
    " forces personnel troopers militiamen recruits cadets"
)
TROOP_NOUNS = SECURITY_FORCE_NOUNS | word_set("reinforcements")
CHILD_NOUNS = word_set(
    "children child kids minors babies infants toddlers schoolchildren boys girls pupils"
    " schoolgirls schoolboys newborns"
)
CIVILIAN_NOUNS = word_set("civilians civilian non-combatants noncombatants")
PROTESTER_NOUNS = word_set(
    "protesters protestors protester demonstrators demonstrator marchers crowd"
)
# The built-in populations a counted noun puts a figure in, first match first; else "all".
POPULATION_NOUNS: tuple[tuple[str, frozenset[str]], ...] = (
    (SECURITY_FORCES.name, SECURITY_FORCE_NOUNS),
    (CHILDREN.name, CHILD_NOUNS),
    (CIVILIANS.name, CIVILIAN_NOUNS),
)
PEOPLE_NOUNS = (
    word_set(
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
        " student passenger soldier policeman civilian protester officials diplomats colleagues"
        " comrades veterans immigrants occupants athletes players nuns monks priests clerics"
        " peasants labourers laborers herders nomads settlers cops agents sentries patrons"
        " viewers attendees participants strikers retirees teens adolescents juveniles orphans"
        " widows mothers fathers sons daughters brothers sisters lawmakers mps neighbours neighbors"
    )
    | SECURITY_FORCE_NOUNS
    | CHILD_NOUNS
    | CIVILIAN_NOUNS
    | PROTESTER_NOUNS
)
NOT_PEOPLE = word_set(
    "kilometers kilometres meters metres centimeters millimeters liters litres helicopters"
    " containers numbers shelters towers letters orders borders centers centres chapters layers"
    " barriers rivers waters quarters headquarters computers tankers bombers trailers papers"
    " dollars hours years hospitals hospital"
)

# ---------------------------------------------------------------- words that join

# Verbs that attribute a figure to whoever says it ("X said", "X told reporters", "X say").
SPEECH_VERBS = word_set(
    "said says say told tell tells reported reports announced announces confirmed confirms stated"
    " added estimated estimates claimed claims tweeted wrote insisted noted declared put puts"
    " showed shows show found finds verified recorded registered documented documents counted"
    " warned warns warn appealed expect expects"
)
DETERMINERS = word_set("the them whom those these its their his her our your this that a an")
# Words between a figure and its noun that do not change what it counts.
HEAD_ADJECTIVES = word_set(
    "more other additional further new extra fellow confirmed suspected probable possible"
)
# Words between a head and its predicate that keep the predicate its own.
AUXILIARIES = word_set(
    "were was are is have has had been be being reportedly also later still now already"
    " subsequently allegedly confirmed believed feared thought said reported known to remain"
    " remained remains left all both who that taken rushed admitted brought airlifted treated"
    " receiving seriously critically badly slightly lightly fatally forced initially so far"
    " officially either likely presumed listed sustained suffered received found rescued living"
    " staying sheltering"
)
PREPOSITIONS = word_set(
    "in from at on near across inside outside around throughout during for with among of into"
    " aboard"
)
MODALS = word_set("could may might would will can should need needs needed")
NEGATIONS = word_set("not never no none n't without")
# Words between a cue and the figure it reaches ("killed at least", "deaths of", "put ... at").
LEFT_FILLERS = word_set(
    "a an the of to at all another additional further some total nearly almost about around"
    " more than over up least estimated its their his her reportedly also so far now had has"
    " have been were was are is among"
)
INCLUDING = phrase_set(
    "including", "among them", "among whom", "of whom", "of them", "mostly", "most of them",
    "many of them", "among those", "including at least", "including some", "including about",
)  # fmt: skip
FUNCTION_WORDS = (
    AUXILIARIES
    | PREPOSITIONS
    | MODALS
    | word_set(
        "and or but while as after before since by for with of the a an to than when where"
        " which this that these his her its their our over under according said says"
    )
)
DAY_NAMES = word_set(
    "monday tuesday wednesday thursday friday saturday sunday january february march april may"
    " june july august september october november december jan feb mar apr jun jul aug sep sept"
    " oct nov dec"
)
