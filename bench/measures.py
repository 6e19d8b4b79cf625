"""The five measurements of issue 7 on one kind of database, side by side with baselines, and
the reads of issues 15 and 20 (the desk's event page, a naive listing, a 304)."""

from __future__ import annotations

import json
import os
import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from statistics import median
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.orm import Session

from app import models
from app.schemas import ClaimCreate
from app.services import keys
from bench import data, naive_app
from bench.load import Load, run_load
from bench.servers import Databases, Server, serving


@dataclass(frozen=True)
class Mode:
    runs: int
    write_seconds: float
    connections: int
    overload_seconds: float
    overload_connections: int
    preload: int  # claims already in the write bench's groups
    bulk_rows: int
    bulk_batch: int
    report_events: tuple[int, ...]
    ledgers: tuple[int, ...]
    filler_event: int  # claims per filler event
    detect_sizes: tuple[int, ...]
    detect_groups: int
    detect_writes: int
    report_requests: int
    read_requests: int  # per kind of read, side by side (issues 15 and 20)
    one_group_rows: int  # the bulk step's second file: all in one group (issue 14)


FULL = Mode(
    runs=3, write_seconds=15, connections=16, overload_seconds=60, overload_connections=256,
    preload=20_000, bulk_rows=5_000, bulk_batch=1_000, report_events=(100, 1_000, 10_000),
    ledgers=(10_000, 100_000, 1_000_000), filler_event=1_000,
    detect_sizes=(10, 100, 1_000, 3_000, 10_000), detect_groups=5, detect_writes=20,
    report_requests=15, read_requests=40, one_group_rows=5_000,
)  # fmt: skip
SMOKE = Mode(
    runs=1, write_seconds=1, connections=4, overload_seconds=2, overload_connections=32,
    preload=300, bulk_rows=60, bulk_batch=30, report_events=(10, 50), ledgers=(200, 600),
    filler_event=100, detect_sizes=(2, 10, 30), detect_groups=2, detect_writes=2,
    report_requests=2, read_requests=2, one_group_rows=60,
)  # fmt: skip


@dataclass
class Bench:
    """One database kind's run: where its databases live, how to drive load, what it found."""

    kind: str
    dbs: Databases
    logs: Path
    wrk: str | None
    mode: Mode
    base: str = ""  # migrated, with the bench's events, sources and an editor key
    token: str = ""
    found: dict[str, Any] = field(default_factory=dict)
    trees: dict[str, Path] = field(default_factory=dict)  # bench --tree: label -> source tree
    workers: int = 1  # server processes of each app in the writes step (bench --workers)
    _names: Iterator[int] = field(default_factory=lambda: iter(range(10**6)))

    @property
    def tallies(self) -> tuple[str, ...]:
        """The Tally apps measured: the installed `tally`, or the --tree labels in their order."""
        return tuple(self.trees) or ("tally",)

    def serving(self, app: str, url: str, workers: int = 1) -> Any:
        return serving(app, url, self.logs, tree=self.trees.get(app), workers=workers)

    def fresh(self, template: str) -> str:
        return self.dbs.copy(template, f"b{next(self._names)}")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def engine_of(url: str) -> Iterator[Engine]:
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def prepare(bench: Bench) -> str:
    """The base template and the write bench's template (base + preloaded claims)."""
    bench.base = bench.dbs.migrated("bench_base")
    with engine_of(bench.base) as engine:
        with engine.connect() as conn:
            data.seed_reference(conn, [data.event_slug(n) for n in range(data.EVENTS)])
            conn.commit()
        with Session(engine) as session:
            _, bench.token = keys.create_key(session, "bench", keys.Role.EDITOR)
        with engine.begin() as conn:  # the naive app's table, before two workers race for it
            naive_app.Base.metadata.create_all(conn)
    writes = bench.dbs.copy(bench.base, "bench_writes")
    with engine_of(writes) as engine, engine.connect() as conn:
        data.load_claims(conn, list(data.write_bodies(7, bench.mode.preload)))
        _analyze(conn)
    return writes


def _analyze(conn: Any) -> None:
    """PostgreSQL's statistics as autovacuum would leave them (SQLite stays as Tally leaves it)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE"))
        conn.commit()


# --- 1. writes, 5. memory, and overload ------------------------------------------------------


def writes(bench: Bench, template: str) -> None:
    """Tally and the naive app, interleaved run by run, each on a fresh copy of one database,
    each as bench.workers server processes."""
    mode, runs = bench.mode, bench.found.setdefault("writes", [])
    for run in range(mode.runs):
        for app in (*bench.tallies, "naive"):
            load_average = os.getloadavg()
            view = _loaded(
                bench, app, template, mode.connections, mode.write_seconds, run,
                workers=bench.workers,
            )  # fmt: skip
            runs.append({"app": app, "run": run, **view, "load_average": load_average})
    bench.found["writes_workers"] = bench.workers


def overload(bench: Bench, template: str) -> None:
    """256 clients for 60 s: does the server keep answering, and with what?"""
    mode, runs = bench.mode, bench.found.setdefault("overload", [])
    for app in ("tally", "naive"):
        view = _loaded(
            bench, app, template, mode.overload_connections, mode.overload_seconds, 99, probe=True
        )
        runs.append({"app": app, **view})


def _loaded(
    bench: Bench, app: str, template: str, connections: int, seconds: float, seed: int,
    probe: bool = False, workers: int = 1,
) -> dict[str, Any]:  # fmt: skip
    url = bench.fresh(template)
    try:
        with bench.serving(app, url, workers) as server:
            cpu = server.cpu_seconds()
            load = run_load(bench.wrk, server.url, bench.token, connections, seconds, seed)
            view = _load_view(load) | {"rss_mib": server.peak_rss_mib()}
            view["cpu_ms_per_ok"] = (server.cpu_seconds() - cpu) * 1000 / max(load.ok, 1)
            return view | ({"alive_after": _answers(server)} if probe else {})
    finally:
        bench.dbs.drop(url)


def _answers(server: Server) -> float | None:
    """How long the server took to answer a health check right after the load (None: not
    within 5 s)."""
    started = time.perf_counter()
    try:
        ok = httpx.get(f"{server.url}/healthz", timeout=5).status_code == 200
    except httpx.HTTPError:
        return None
    return time.perf_counter() - started if ok else None


def _load_view(load: Load) -> dict[str, Any]:
    return {
        "throughput": load.throughput,
        "p50_ms": load.p50_ms,
        "p99_ms": load.p99_ms,
        "max_ms": load.max_ms,
        "requests": load.requests,
        "seconds": load.seconds,
        "statuses": load.statuses,
        "failures": load.failures,
        "socket_errors": load.socket_errors,
        "timeouts": load.timeouts,
        "no_retry_after": load.no_retry_after,
    }


# --- 2. bulk import ------------------------------------------------------------------------


def bulk(bench: Bench) -> None:
    """Claims/s through POST /v1/claims/bulk vs one executemany of the same claim rows, and the
    conflicts each import left open; in the first run also a file of one group (issue 14)."""
    runs = bench.found.setdefault("bulk", [])
    for run in range(bench.mode.runs):
        bodies = list(data.write_bodies(1000 + run, bench.mode.bulk_rows))
        baselines: dict[str, Any] = {
            "run": run,
            "rows": len(bodies),
            "raw_rate": _raw_rate(bench, bodies),
            "raw_with_revisions_rate": _raw_rate(bench, bodies, revisions=True),
            "validate_rate": _validate_rate(bodies),
        }
        for app in bench.tallies:  # one entry per run and Tally app, interleaved
            runs.append({"app": app, **baselines, **_imported(bench, app, bodies)})
    one_group = data.one_group_bodies(2000, bench.mode.one_group_rows)
    for app in bench.tallies:
        bench.found.setdefault("bulk_one_group", []).append(
            {"app": app, "rows": len(one_group), **_imported(bench, app, one_group)}
        )


def _imported(bench: Bench, app: str, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    """Import `bodies` into a fresh copy of the base: the rate, the time, the conflicts left
    open, the server's peak RSS."""
    url = bench.fresh(bench.base)
    try:
        with bench.serving(app, url) as server:
            found: dict[str, Any] = {"bulk_present": _has_bulk(server)}
            if found["bulk_present"]:
                found |= _bulk_rate(bench, server, bodies)
                found["conflicts_open"] = _open_conflicts(url)
            return found | {"rss_mib": server.peak_rss_mib(), "load_average": os.getloadavg()}
    finally:
        bench.dbs.drop(url)


def _open_conflicts(url: str) -> int:
    with engine_of(url) as engine, engine.connect() as conn:
        query = select(func.count()).select_from(models.Conflict)
        return int(conn.execute(query.where(models.Conflict.status == "open")).scalar_one())


def _has_bulk(server: Server) -> bool:
    paths = httpx.get(f"{server.url}/openapi.json", timeout=30).json()["paths"]
    return "post" in paths.get("/v1/claims/bulk", {})


def _bulk_rate(bench: Bench, server: Server, bodies: list[dict[str, Any]]) -> dict[str, Any]:
    started, recorded = time.perf_counter(), 0
    with httpx.Client(base_url=server.url, headers=bench.headers(), timeout=600) as client:
        for chunk in _chunks(bodies, bench.mode.bulk_batch):
            recorded += _post_bulk(client, chunk)
    seconds = time.perf_counter() - started
    return {"bulk_rate": recorded / seconds, "bulk_recorded": recorded, "bulk_seconds": seconds}


def _post_bulk(client: httpx.Client, bodies: list[dict[str, Any]]) -> int:
    """POST one NDJSON batch; the number of rows recorded (201)."""
    lines = "\n".join(json.dumps(b) for b in bodies)
    response = client.post(
        "/v1/claims/bulk", content=lines.encode(), headers={"Content-Type": "application/x-ndjson"}
    )
    response.raise_for_status()
    return sum(1 for r in response.json()["results"] if r["status"] == 201)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _raw_rate(bench: Bench, bodies: list[dict[str, Any]], revisions: bool = False) -> float:
    """Claims/s of one DBAPI executemany of the claim rows (and of their first revisions,
    which every claim Tally records has), in one transaction, committed."""
    url = bench.fresh(bench.base)
    try:
        with engine_of(url) as engine, engine.connect() as conn:
            refs = data.references(conn)
            claims, firsts = data.claim_rows(bodies, data.next_id(conn, "claim"), refs)
            conn.rollback()
            started = time.perf_counter()
            data.executemany(conn, "claim", data.CLAIM_COLUMNS, claims)
            if revisions:
                data.executemany(conn, "claim_revision", data.REVISION_COLUMNS, firsts)
            conn.commit()
            return len(claims) / (time.perf_counter() - started)
    finally:
        bench.dbs.drop(url)


def _validate_rate(bodies: list[dict[str, Any]]) -> float:
    """Claims/s of validating the bulk lines with Tally's input model (pydantic), no database."""
    lines = [json.dumps(body) for body in bodies]
    started = time.perf_counter()
    for line in lines:
        ClaimCreate.model_validate_json(line)
    return len(lines) / (time.perf_counter() - started)


# --- 4. detection cost vs group size ---------------------------------------------------------


def detection(bench: Bench) -> None:
    """Latency of one write into groups of each size (0 = a new group), one writer at a time."""
    mode, url = bench.mode, bench.fresh(bench.base)
    slug = data.event_slug(1)
    with engine_of(url) as engine, engine.connect() as conn:
        rng = random.Random(11)
        bodies = [
            data.claim_body(rng, 1, slug, location=f"G{size}-{g}", metrics=("deaths",))
            for size in mode.detect_sizes
            for g in range(mode.detect_groups)
            for _ in range(size)
        ]
        data.load_claims(conn, bodies)
        _analyze(conn)
    timings: dict[int, list[float]] = {}
    try:
        with serving("tally", url, bench.logs) as server, _client(bench, server) as client:
            rng = random.Random(12)
            for run in range(mode.runs):
                for size in (0, *mode.detect_sizes):
                    timings.setdefault(size, []).append(_group_writes(client, rng, mode, size, run))
            bench.found["detection_rss_mib"] = server.peak_rss_mib()
    finally:
        bench.dbs.drop(url)
    bench.found["detection"] = {str(size): runs for size, runs in timings.items()}


def _group_writes(
    client: httpx.Client, rng: random.Random, mode: Mode, size: int, run: int
) -> float:
    """The median latency (ms) of mode.detect_writes writes into groups of `size`."""
    latencies = []
    for n in range(mode.detect_writes):
        where = f"G{size}-{n % mode.detect_groups}" if size else f"new-{run}-{n}"
        body = data.claim_body(rng, 1, data.event_slug(1), location=where, metrics=("deaths",))
        started = time.perf_counter()
        response = client.post("/v1/claims", json=body)
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return median(latencies)


@contextmanager
def _client(bench: Bench, server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=bench.headers(), timeout=120) as client:
        client.post("/v1/claims", json=data.claim_body(random.Random(1), 2, data.event_slug(2)))
        yield client


# --- 3. reports ----------------------------------------------------------------------------


def reports(bench: Bench) -> None:
    """Report latency for events of each size, as the ledger around them grows; in the
    smallest ledger, the reads of issues 15 and 20 beside the report (`_reads`)."""
    if bench.trees:
        return reports_compared(bench)
    mode, url = bench.mode, bench.fresh(bench.base)
    targets = {size: f"report-{size}" for size in mode.report_events}
    bodies = _target_bodies(targets)
    found: list[dict[str, Any]] = bench.found.setdefault("reports", [])
    try:
        with serving("tally", url, bench.logs) as server, engine_of(url) as engine:
            with engine.connect() as conn:
                data.add_events(conn, list(targets.values()))
                conn.commit()
            bench.found["report_targets_via"] = _load_targets(bench, server, engine, bodies)
            for ledger in mode.ledgers:
                total = _grow(engine, mode, ledger)
                for size, slug in targets.items():
                    found.append({"ledger": ledger, "claims": total, "event": size,
                                  "ms": _report_times(bench, server, slug)})  # fmt: skip
                if ledger == mode.ledgers[0]:
                    bench.found["reads"] = _reads(bench, server, engine, targets, bodies, total)
            bench.found["reports_rss_mib"] = server.peak_rss_mib()
    finally:
        bench.dbs.drop(url)


def _target_bodies(targets: dict[int, str]) -> dict[int, list[dict[str, Any]]]:
    """The claims of each measured event, by its size."""
    return {
        size: data.event_bodies(size, 5000 + size, slug, size) for size, slug in targets.items()
    }


def _load_targets(
    bench: Bench, server: Server, engine: Engine, bodies: dict[int, list[dict[str, Any]]]
) -> str:
    """Load the measured events through the bulk endpoint (real conflicts), else by SQL."""
    if _has_bulk(server):
        with httpx.Client(base_url=server.url, headers=bench.headers(), timeout=600) as client:
            for rows in bodies.values():
                for chunk in _chunks(rows, 1000):
                    _post_bulk(client, chunk)
        return "POST /v1/claims/bulk"
    with engine.connect() as conn:
        data.load_claims(conn, [b for rows in bodies.values() for b in rows])
    return "direct SQL (bulk endpoint absent)"


def _grow(engine: Engine, mode: Mode, ledger: int) -> int:
    """Add filler events of mode.filler_event claims until the ledger holds >= `ledger` claims."""
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(models.Claim)).scalar_one()
        first = conn.execute(select(func.count()).select_from(models.Event)).scalar_one()
        missing = max(0, ledger - total)
        slugs = [f"fill-{first + n:06d}" for n in range(-(-missing // mode.filler_event))]
        for start in range(0, len(slugs), 50):
            batch = slugs[start : start + 50]
            data.add_events(conn, batch)
            conn.commit()
            bodies = [
                body
                for n, slug in enumerate(batch, start=first + start)
                for body in data.event_bodies(n, n % data.EVENTS, slug, mode.filler_event)
            ]
            data.load_claims(conn, bodies, chunk=50_000)
        _analyze(conn)
        return int(conn.execute(select(func.count()).select_from(models.Claim)).scalar_one())


def _report_times(bench: Bench, server: Server, slug: str) -> list[float]:
    """Latencies (ms) of GET /v1/events/{slug}/report after one unmeasured request."""
    times = []
    with httpx.Client(base_url=server.url, headers=bench.headers(), timeout=300) as client:
        for n in range(bench.mode.report_requests + 1):
            started = time.perf_counter()
            response = client.get(f"/v1/events/{slug}/report")
            response.raise_for_status()
            if n:
                times.append((time.perf_counter() - started) * 1000)
    return times


def reports_compared(bench: Bench) -> None:
    """bench --tree: report latency for events of each size in the smallest ledger, every tree
    on a fresh copy of one database (its events loaded through the first tree's bulk
    endpoint), interleaved run by run."""
    mode, template = bench.mode, bench.fresh(bench.base)
    targets = {size: f"report-{size}" for size in mode.report_events}
    found: list[dict[str, Any]] = bench.found.setdefault("reports", [])
    try:
        with bench.serving(bench.tallies[0], template) as server, engine_of(template) as engine:
            with engine.connect() as conn:
                data.add_events(conn, list(targets.values()))
                conn.commit()
            bodies = _target_bodies(targets)
            bench.found["report_targets_via"] = _load_targets(bench, server, engine, bodies)
            total = _grow(engine, mode, mode.ledgers[0])
        for run in range(mode.runs):
            for app in bench.tallies:
                url = bench.fresh(template)
                try:
                    with bench.serving(app, url) as server:
                        for size, slug in targets.items():
                            found.append({
                                "app": app, "run": run, "ledger": mode.ledgers[0],
                                "claims": total, "event": size,
                                "ms": _report_times(bench, server, slug),
                                "bytes": len(_report_body(bench, server, slug)),
                                "load_average": os.getloadavg(),
                            })  # fmt: skip
                finally:
                    bench.dbs.drop(url)
    finally:
        bench.dbs.drop(template)


def _report_body(bench: Bench, server: Server, slug: str) -> bytes:
    """The report's body, for checking that the compared trees answer alike."""
    with httpx.Client(base_url=server.url, headers=bench.headers(), timeout=300) as client:
        response = client.get(f"/v1/events/{slug}/report")
        response.raise_for_status()
        return response.content


# --- reads beside the report: the desk's page, a 304, a naive listing (issues 15 and 20) ----

READ_STATUS = {"report": 200, "not_modified": 304, "page": 200, "naive": 200}


def _reads(
    bench: Bench, server: Server, engine: Engine, targets: dict[int, str],
    bodies: dict[int, list[dict[str, Any]]], total: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """For each measured event: its JSON report, the same report answered 304 (If-None-Match
    with its ETag), the desk's event page, and the naive app's listing of the same claims
    (loaded into its table), one request of each in turn, after one unmeasured round."""
    with engine.begin() as conn:
        rows = [_naive_row(body) for claims in bodies.values() for body in claims]
        conn.execute(naive_app.NaiveClaim.__table__.insert(), rows)
    found = []
    with (
        serving("naive", engine.url.render_as_string(hide_password=False), bench.logs) as naive,
        httpx.Client(base_url=server.url, headers=bench.headers(), timeout=600) as api,
        _desk(bench, server) as desk,
        httpx.Client(base_url=naive.url, timeout=600) as plain,
    ):
        for size, slug in targets.items():
            report = f"/v1/events/{slug}/report"
            tag = api.get(report).headers.get("ETag", "")
            reads = {
                "report": (api, report, {}),
                "not_modified": (api, report, {"If-None-Match": tag}),
                "page": (desk, f"/events/{slug}", {}),
                "naive": (plain, f"/v1/events/{slug}/claims", {}),
            }
            found.append({"ledger": bench.mode.ledgers[0], "claims": total, "event": size,
                          **_in_turn(reads, bench.mode.read_requests)})  # fmt: skip
    return found


def _in_turn(
    reads: dict[str, tuple[httpx.Client, str, dict[str, str]]], requests: int
) -> dict[str, Any]:
    """`{name}_ms` (latencies of `requests` measured rounds) and `{name}_bytes` of each read."""
    found: dict[str, Any] = {f"{name}_ms": [] for name in reads}
    for n in range(requests + 1):
        for name, (client, path, headers) in reads.items():
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != READ_STATUS[name]:
                raise RuntimeError(f"{name} {path}: {response.status_code} {response.text[:300]}")
            found[f"{name}_bytes"] = len(response.content)
            if n:
                found[f"{name}_ms"].append(elapsed)
    return found


def _naive_row(body: dict[str, Any]) -> dict[str, Any]:
    """A claim as the naive app stores what it is posted."""
    return {
        **{k: body.get(k) for k in data.CLIENT_FIELDS},
        "as_of": date.fromisoformat(body["as_of"]),
    }


@contextmanager
def _desk(bench: Bench, server: Server) -> Iterator[httpx.Client]:
    """A browser's session of the desk, signed in with the bench's editor key (redirects not
    followed, so that a page sending back to the sign-in fails the read)."""
    with httpx.Client(base_url=server.url, timeout=600) as client:
        form = client.get("/sign-in")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        if token is None:
            raise RuntimeError(f"no CSRF token in the sign-in page: {form.text[:300]}")
        body = {"key": bench.token, "csrf": token.group(1), "next": "/"}
        signed = client.post("/sign-in", data=body)
        if signed.status_code != 303 or not client.cookies:
            raise RuntimeError(f"desk sign-in: {signed.status_code} {signed.text[:300]}")
        yield client
