"""The built-in metrics and populations of SPEC §1, declared once.

The initial migration inserts exactly these rows, and extraction keys its cue words by
these names. A database migrated before a change here keeps the rows it was given:
adding or changing a built-in needs a migration of its own as well.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.model import MetricKind

__all__ = [
    "ALL",
    "ARRESTS",
    "CHILDREN",
    "CIVILIANS",
    "DEATHS",
    "DISPLACED",
    "EVACUATED",
    "HOSPITALIZED",
    "INJURIES",
    "METRICS",
    "MISSING",
    "POPULATIONS",
    "PROTESTERS",
    "SECURITY_FORCES",
    "TROOPS_DEPLOYED",
    "BuiltinMetric",
    "BuiltinPopulation",
]


@dataclass(frozen=True)
class BuiltinMetric:
    """What is counted: cumulative (never decreases as time passes) or stock (a level)."""

    name: str
    kind: MetricKind
    unit: str = "people"
    description: str | None = None


@dataclass(frozen=True)
class BuiltinPopulation:
    """Who is counted; `parent` names the population this one is a part of."""

    name: str
    parent: str | None = None
    description: str | None = None


DEATHS = BuiltinMetric("deaths", MetricKind.CUMULATIVE)
INJURIES = BuiltinMetric("injuries", MetricKind.CUMULATIVE)
ARRESTS = BuiltinMetric("arrests", MetricKind.CUMULATIVE)
EVACUATED = BuiltinMetric("evacuated", MetricKind.CUMULATIVE)
MISSING = BuiltinMetric("missing", MetricKind.STOCK)
DISPLACED = BuiltinMetric("displaced", MetricKind.STOCK)
TROOPS_DEPLOYED = BuiltinMetric("troops_deployed", MetricKind.STOCK)
PROTESTERS = BuiltinMetric("protesters", MetricKind.STOCK)
HOSPITALIZED = BuiltinMetric("hospitalized", MetricKind.STOCK)

METRICS: tuple[BuiltinMetric, ...] = (
    DEATHS,
    INJURIES,
    ARRESTS,
    EVACUATED,
    MISSING,
    DISPLACED,
    TROOPS_DEPLOYED,
    PROTESTERS,
    HOSPITALIZED,
)

ALL = BuiltinPopulation("all")
CIVILIANS = BuiltinPopulation("civilians", parent=ALL.name)
SECURITY_FORCES = BuiltinPopulation("security_forces", parent=ALL.name)
CHILDREN = BuiltinPopulation("children", parent=CIVILIANS.name)

# Parents before their parts, as the migration inserts them.
POPULATIONS: tuple[BuiltinPopulation, ...] = (ALL, CIVILIANS, SECURITY_FORCES, CHILDREN)
