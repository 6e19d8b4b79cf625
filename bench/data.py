"""Bench data: claims spread over realistic groups, and rows of the app's own shape.

The figures of one (event, metric, population) follow one curve that grows with `as_of`,
with +-5 % noise and a few qualifiers, so most claims agree and some conflict: the
conflict engine does real work without every pair conflicting. bench/claims.lua draws
the same distribution for wrk.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, text

from app import models
from app.domain.figures import parse_figure

EVENTS = 200
METRICS = ("deaths", "injuries", "arrests", "displaced", "hospitalized")
POPULATIONS = ("all", "civilians", "children")
SHARE = {"all": 10, "civilians": 6, "children": 2}  # tenths of the whole
CLAIMANTS = (
    "Ministry of Health",
    "Civil Defence",
    "Red Crescent",
    "Governor's Office",
    "UN OCHA",
    "City Hospital",
)
SOURCES = ("bench-wire", "bench-daily", "bench-tv")
QUALIFIERS = ("", "at least ", "about ")
START = date(2024, 3, 1)
DAYS = 14
ACTOR = "bench"
CLIENT_FIELDS = (
    "event", "metric", "population", "location", "figure", "as_of", "claimant", "source",
    "url", "quote", "published_at", "cites", "note",
)  # fmt: skip


def event_slug(number: int) -> str:
    return f"bench-e{number:03d}"


def claim_body(
    rng: random.Random,
    number: int,
    slug: str,
    *,
    location: str | None = None,
    metrics: Sequence[str] = METRICS,
    claimants: int = len(CLAIMANTS),
) -> dict[str, Any]:
    """A POST /v1/claims body for event `slug` (curve chosen by `number`)."""
    metric = rng.choice(metrics)
    population = rng.choice(POPULATIONS)
    day = rng.randrange(DAYS)
    base = (number * 7919 + METRICS.index(metric) * 104729) % 900 + 100
    value = base * SHARE[population] * (10 + day) // 100
    value = max(1, round(value * rng.uniform(0.95, 1.05)))
    body = {
        "event": slug,
        "metric": metric,
        "population": population,
        "figure": f"{rng.choice(QUALIFIERS)}{value:,}",
        "as_of": (START + timedelta(days=day)).isoformat(),
        "claimant": CLAIMANTS[rng.randrange(claimants)],
        "source": rng.choice(SOURCES),
    }
    return body | ({"location": location} if location else {})


def write_bodies(seed: int, count: int) -> Iterator[dict[str, Any]]:
    """Bodies over the write bench's groups: 200 events x 5 metrics x 3 populations."""
    rng = random.Random(seed)
    for _ in range(count):
        number = rng.randrange(EVENTS)
        yield claim_body(rng, number, event_slug(number))


def one_group_bodies(seed: int, count: int) -> list[dict[str, Any]]:
    """`count` claims of one group (one event, metric and location; its three populations),
    from the six claimants over 14 days: the shape of issue 14's red-team file."""
    rng = random.Random(seed)
    slug = event_slug(0)
    return [
        claim_body(rng, 0, slug, location="One group", metrics=("deaths",)) for _ in range(count)
    ]


def event_bodies(seed: int, number: int, slug: str, size: int) -> list[dict[str, Any]]:
    """`size` claims of one event, over 5 metrics x 3 populations x ~size/300 locations."""
    rng = random.Random(seed)
    locations = max(1, size // 300)
    places = [None] + [f"District {n}" for n in range(1, locations)]
    return [claim_body(rng, number, slug, location=rng.choice(places)) for _ in range(size)]


# --- reference rows -------------------------------------------------------------------------


def seed_reference(conn: Connection, events: Sequence[str]) -> None:
    """Insert `events` and the bench's sources (one transaction, committed by the caller)."""
    now = datetime.now(UTC)
    event_rows = [{"slug": s, "title": s, "created_at": now, "updated_at": now} for s in events]
    conn.execute(insert(models.Event), event_rows)
    source_rows = [
        {"slug": s, "name": s, "kind": "news_agency", "created_at": now, "updated_at": now}
        for s in SOURCES
    ]
    conn.execute(insert(models.Source), source_rows)


def add_events(conn: Connection, slugs: Sequence[str]) -> None:
    now = datetime.now(UTC)
    rows = [{"slug": s, "title": s, "created_at": now, "updated_at": now} for s in slugs]
    conn.execute(insert(models.Event), rows)


def references(conn: Connection) -> dict[str, dict[str, int]]:
    """Ids of events, metrics, populations and sources by the names clients use."""
    tables = {
        "event": (models.Event.slug, models.Event.id),
        "metric": (models.Metric.name, models.Metric.id),
        "population": (models.Population.name, models.Population.id),
        "source": (models.Source.slug, models.Source.id),
    }
    return {noun: dict(conn.execute(select(*cols)).all()) for noun, cols in tables.items()}


# --- claim rows, as the app stores them ------------------------------------------------------

CLAIM_COLUMNS = (
    "id", "event_id", "metric_id", "population_id", "location", "location_key", "figure_text",
    "low", "high", "point", "qualifier", "as_of", "claimant", "claimant_key", "source_id",
    "status", "disputed", "version", "created_at", "updated_at",
)  # fmt: skip
REVISION_COLUMNS = (
    "id", "claim_id", "version", "recorded_at", "actor", "changes", "snapshot",
)  # fmt: skip


def _key(value: str | None) -> str:
    return " ".join((value or "").casefold().split())


def claim_rows(
    bodies: Sequence[dict[str, Any]], first_id: int, refs: dict[str, dict[str, int]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Claim rows and their first revisions (as record_claim writes them), ids from first_id."""
    now = datetime.now(UTC)
    claims, revisions = [], []
    for number, body in enumerate(bodies, start=first_id):
        figure = parse_figure(body["figure"])
        claim = {
            "id": number,
            "event_id": refs["event"][body["event"]],
            "metric_id": refs["metric"][body["metric"]],
            "population_id": refs["population"][body["population"]],
            "location": body.get("location"),
            "location_key": _key(body.get("location")),
            "figure_text": figure.text,
            "low": figure.low,
            "high": figure.high,
            "point": figure.point,
            "qualifier": figure.qualifier.value,
            "as_of": date.fromisoformat(body["as_of"]),
            "claimant": body["claimant"],
            "claimant_key": _key(body["claimant"]),
            "source_id": refs["source"][body["source"]],
            "status": "active",
            "disputed": False,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        snap = _snapshot(body, claim, figure.text)
        changes = {k: snap[k] for k in CLIENT_FIELDS}
        revision = {"id": number, "claim_id": number, "version": 1, "recorded_at": now}
        revision |= {"actor": ACTOR, "changes": changes, "snapshot": snap}
        claims.append(claim)
        revisions.append(revision)
    return claims, revisions


def _snapshot(body: dict[str, Any], claim: dict[str, Any], figure_text: str) -> dict[str, Any]:
    """The claim as clients see it: the shape of app.repository.claims.snapshot_of."""
    figure = {k: claim[k] for k in ("low", "high", "point", "qualifier")}
    stamp = claim["created_at"].isoformat()
    return {
        "id": str(claim["id"]),
        "version": 1,
        "status": "active",
        "disputed": False,
        **{k: body.get(k) for k in ("event", "metric", "population", "location")},
        "figure": {"text": figure_text, **figure},
        "as_of": body["as_of"],
        "claimant": body["claimant"],
        "source": body["source"],
        **dict.fromkeys(("url", "quote", "published_at", "cites", "note", "retraction")),
        "created_at": stamp,
        "updated_at": stamp,
    }


# --- raw inserts ----------------------------------------------------------------------------


def _driver_value(value: Any, sqlite: bool) -> Any:
    """A value as the DBAPI driver takes it, stored as SQLAlchemy's types store it."""
    if isinstance(value, dict):
        return json.dumps(value)
    if sqlite and isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if sqlite and isinstance(value, date):
        return value.isoformat()
    return value


def executemany(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]
) -> None:
    """One DBAPI executemany of `rows` into `table` (no ORM, no SQLAlchemy type processing)."""
    sqlite = conn.dialect.name == "sqlite"
    marks = ", ".join(["?" if sqlite else "%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    params = [tuple(_driver_value(row[c], sqlite) for c in columns) for row in rows]
    conn.exec_driver_sql(sql, params)


def next_id(conn: Connection, table: str) -> int:
    return int(conn.execute(text(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")).scalar_one())


def load_claims(conn: Connection, bodies: Sequence[dict[str, Any]], chunk: int = 20_000) -> None:
    """Insert claims and their first revisions by direct SQL, committing every `chunk` claims."""
    refs = references(conn)
    for start in range(0, len(bodies), chunk):
        claims, revisions = claim_rows(bodies[start : start + chunk], next_id(conn, "claim"), refs)
        executemany(conn, "claim", CLAIM_COLUMNS, claims)
        executemany(conn, "claim_revision", REVISION_COLUMNS, revisions)
        conn.commit()
    if conn.dialect.name == "postgresql":  # ids were given: move the sequences past them
        for table in ("claim", "claim_revision"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"{next_id(conn, table)})"
                )
            )
        conn.commit()
