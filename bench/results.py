"""bench/RESULTS.md from what the measurements found: medians, spreads, ratios, targets."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from statistics import median, quantiles
from typing import Any

HERE = Path(__file__).resolve().parent


def machine(loadgen: str) -> dict[str, str]:
    """Where and when the bench ran."""
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "machine": f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.platform()}",
        "python": platform.python_version(),
        "load generator": loadgen,
        "load average at start": load_average(),
    }


def _commit() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, cwd=HERE.parent)
        return done.stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--", "app") else ""
    return (git("rev-parse", "--short", "HEAD") or "unknown") + dirty


def load_average() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg()) + " (1 / 5 / 15 min)"


def spread(values: list[float], digits: int = 1) -> str:
    """`median [min-max]` of the runs."""
    if not values:
        return "n/a"
    fmt = f"{{:,.{digits}f}}"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(median(values))} [{fmt.format(min(values))}-{fmt.format(max(values))}]"


def p99(values: list[float]) -> float:
    """The 99th percentile (interpolated between the two largest of fewer than 100 values)."""
    return quantiles(values, n=100, method="inclusive")[98] if len(values) > 1 else values[0]


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def verdict(ok: object) -> str:
    return "n/a" if ok is None else ("**met**" if ok else "**missed**")


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


# --- sections ------------------------------------------------------------------------------


def row(*cells: object) -> str:
    """One markdown table row."""
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(*header: str) -> list[str]:
    return [row(*header), row(*["---"] * len(header))]


def writes_section(kind: str, found: dict[str, Any], targets: list[str]) -> list[str]:
    runs = found.get("writes", [])
    by = {app: [r for r in runs if r["app"] == app] for app in ("tally", "naive")}
    if not by["tally"] or not by["naive"]:
        return []
    workers = found.get("writes_workers", 1)
    each = f", {workers} server processes each" if workers > 1 else ""
    lines = [f"#### Writes: POST /v1/claims, {len(by['tally'])} runs each{each}", ""]
    lines += table(
        "app", "writes/s", "p50 ms", "p99 ms", "failures", "server CPU ms/write", "RSS MiB"
    )
    for app, rs in by.items():
        cells = [spread([r[k] for r in rs]) for k in ("throughput", "p50_ms", "p99_ms")]
        cpu = spread([r.get("cpu_ms_per_ok", 0) for r in rs], 2)
        rss = spread([r["rss_mib"] or 0 for r in rs], 0)
        lines.append(row(app, *cells, sum(r["failures"] for r in rs), cpu, rss))
    med = {
        app: {k: median(r[k] for r in rs) for k in ("throughput", "p99_ms")}
        for app, rs in by.items()
    }
    thr = ratio(med["tally"]["throughput"], med["naive"]["throughput"])
    late = ratio(med["tally"]["p99_ms"], med["naive"]["p99_ms"])
    targets += [
        row(kind, f"write throughput ≥ 0.7x naive{each}", _x(thr), verdict(thr and thr >= 0.7)),
        row(kind, f"write p99 ≤ 2x naive{each}", _x(late), verdict(late and late <= 2)),
        row(kind, f"write throughput ≥ 1.2x naive (issue 20){each}", _x(thr),
            verdict(thr and thr >= 1.2)),
        row(kind, f"write p99 ≤ naive's (issue 20){each}", _x(late), verdict(late and late <= 1)),
    ]  # fmt: skip
    return [*lines, ""]


def overload_section(kind: str, found: dict[str, Any], targets: list[str]) -> list[str]:
    runs = found.get("overload", [])
    if not runs:
        return []
    lines = ["#### Overload: one run per app", ""]
    lines += table(
        "app", "2xx/s", "201", "503", "other answers, errors, time-outs", "503 w/o Retry-After",
        "p50 ms", "p99 ms", "max ms", "/healthz after", "RSS MiB",
    )  # fmt: skip
    for r in runs:
        st = r["statuses"]
        lines.append(row(
            r["app"], f"{r['throughput']:,.1f}", f"{st.get('201', 0):,}", f"{st.get('503', 0):,}",
            f"{r['failures']:,}", r["no_retry_after"],
            *(f"{r[k]:,.0f}" for k in ("p50_ms", "p99_ms", "max_ms")),
            _alive(r["alive_after"]), f"{r['rss_mib'] or 0:,.0f}",
        ))  # fmt: skip
    tally = next(r for r in runs if r["app"] == "tally")
    ok = tally["failures"] == 0 and tally["no_retry_after"] == 0 and tally["throughput"] > 0
    seen = f"{tally['statuses']}, {tally['failures']} failures"
    target = "overload: answers, only 201 or 503 + Retry-After"
    targets.append(row(kind, target, seen, verdict(ok and tally["alive_after"] is not None)))
    return [*lines, ""]


def _alive(after: float | None) -> str:
    """The health check after the load: how long it took, or no answer."""
    return "no" if after is None else f"yes, {after * 1000:,.0f} ms"


def bulk_section(kind: str, found: dict[str, Any], targets: list[str]) -> list[str]:
    runs = found.get("bulk", [])
    if not runs:
        return []
    raw = [r["raw_rate"] for r in runs]
    rates = [r["bulk_rate"] for r in runs if r.get("bulk_present")]
    lines = [f"#### Bulk import: {runs[0]['rows']:,} claims, {len(runs)} runs", ""]
    lines += table("path", "claims/s")
    lines.append(
        row("POST /v1/claims/bulk (NDJSON, batches)", spread(rates) if rates else "absent")
    )
    lines.append(row("raw executemany of the claim rows, one transaction", spread(raw)))
    r = ratio(median(rates), median(raw)) if rates else None
    targets.append(row(kind, "bulk ≥ 0.3x raw executemany", _x(r), verdict(r and r >= 0.3)))
    if "validate_rate" not in runs[0]:  # results of a bench before the floor was measured
        return [*lines, ""]
    # The least any implementation of the same contract spends a claim: validating its line
    # and writing it with its revision, nothing else (no figures, no detection, no HTTP).
    both = [r["raw_with_revisions_rate"] for r in runs]
    checked = [r["validate_rate"] for r in runs]
    floor = [1 / (1 / w + 1 / v) for w, v in zip(both, checked, strict=True)]
    bound = _x(ratio(median(floor), median(raw)))
    lines += [
        row("raw executemany of the claim rows and their revisions", spread(both)),
        row("validating the same NDJSON lines with Tally's input model", spread(checked)),
        row("those two, one after the other: a bound for any implementation", spread(floor)),
        "",
        f"The bound is {bound} the raw executemany of the claim rows.",
    ]
    r = ratio(median(rates), median(floor)) if rates else None
    target = "bulk ≥ 0.5x the rows + validation bound (issue 20)"
    targets.append(row(kind, target, _x(r), verdict(r and r >= 0.5)))
    return [*lines, "", *_imports(found)]


def _imports(found: dict[str, Any]) -> list[str]:
    """Each bulk file's time and the conflicts it left open (issue 14)."""
    files = [("the bulk file above: 200 events x 5 metrics x 3 populations", found["bulk"])]
    files.append(("one group (1 event, 1 metric, 3 populations)", found.get("bulk_one_group")))
    present = [(name, [r for r in runs or [] if "conflicts_open" in r]) for name, runs in files]
    if not any(runs for _, runs in present):
        return []
    lines = table("file", "claims", "runs", "seconds", "claims/s", "conflicts open after")
    for name, runs in present:
        if runs:
            lines.append(row(
                name, f"{runs[0]['rows']:,}", len(runs), spread([r["bulk_seconds"] for r in runs]),
                spread([r["bulk_rate"] for r in runs]),
                spread([r["conflicts_open"] for r in runs], 0),
            ))  # fmt: skip
    return [*lines, ""]


def detection_section(kind: str, found: dict[str, Any], targets: list[str]) -> list[str]:
    det = found.get("detection")
    if not det:
        return []
    sizes = sorted(int(s) for s in det)
    lat = {s: median(det[str(s)]) for s in sizes}
    lines = ["#### Detection cost per write vs group size (one writer; median per run)", ""]
    lines += table(
        "claims in the group", "write ms", "minus a new group's ms", "µs per added claim"
    )
    slopes: list[float] = []
    for before, s in zip([None, *sizes], sizes, strict=False):
        slope = "-"
        if before is not None and s:
            slopes.append(1000 * (lat[s] - lat[before]) / (s - before))
            slope = f"{slopes[-1]:,.1f} (from {before:,})"
        lines.append(row(f"{s:,}", spread(det[str(s)], 2), f"{lat[s] - lat[0]:,.2f}", slope))
    # Linear: each added claim costs the same, so the last two steps' slopes agree (a cost
    # quadratic in the group would make the last slope ~3.6x the one before, for 100-1k-3k).
    last = ratio(slopes[-1], slopes[-2]) if len(slopes) > 1 else None
    shown = f"slope {sizes[-2]:,}→{sizes[-1]:,} = {_x(last)} slope {sizes[-3]:,}→{sizes[-2]:,}"
    targets.append(
        row(kind, "detection grows at most linearly", shown, verdict(last and last <= 1.5))
    )
    # Flat (issue 14): a write compares a claim with the current figure of each other series,
    # so ten times the group should not cost ten times the write (linear would, nearly).
    top, smaller = sizes[-1], [s for s in sizes if 0 < s <= sizes[-1] / 10]
    if smaller:
        flat = ratio(lat[top], lat[smaller[-1]])
        shown = f"write into {top:,} = {_x(flat)} a write into {smaller[-1]:,}"
        target = "detection flattens: 10x the group ≤ 2x the write (issue 14)"
        targets.append(row(kind, target, shown, verdict(flat and flat <= 2)))
    return [*lines, ""]


def reports_section(kind: str, found: dict[str, Any], targets: list[str]) -> list[str]:
    rows = found.get("reports", [])
    if not rows:
        return []
    events = sorted({r["event"] for r in rows})
    ledgers = sorted({(r["ledger"], r["claims"]) for r in rows})
    via = found.get("report_targets_via", "?")
    lines = [f"#### Reports: GET /v1/events/{{slug}}/report, ms (events loaded by {via})", ""]
    lines += table("ledger (claims)", *(f"event of {e:,}" for e in events))
    cell = {(r["ledger"], r["event"]): r["ms"] for r in rows}
    for ledger, claims in ledgers:
        lines.append(row(f"{ledger:,} ({claims:,})", *(spread(cell[(ledger, e)]) for e in events)))
    middle = 1_000 if 1_000 in events else events[len(events) // 2]
    small, big = ledgers[0][0], ledgers[-1][0]
    r = ratio(median(cell[(big, middle)]), median(cell[(small, middle)]))
    target = f"report, event of {middle:,}: {big:,}-claim ledger ≤ 1.3x {small:,}"
    targets.append(row(kind, target, _x(r), verdict(r and r <= 1.3)))
    return [*lines, ""]


def reads_section(kind: str, found: dict[str, Any], targets: list[str]) -> list[str]:
    """The report beside a naive listing, the desk's event page and a 304 (issues 15, 20)."""
    reads = found.get("reads", [])
    if not reads:
        return []
    n = len(reads[0]["report_ms"])
    lines = [
        f"#### Reads beside the report: {n} requests of each, in turn, in the "
        f"{reads[0]['claims']:,}-claim ledger; ms, p50 / p99", "",
        *table(
            "event", "report", "naive listing", "report / naive", "desk event page",
            "page / report (p50)", "304", "304 / report (p50)", "bytes: report, page, naive",
        ),
    ]  # fmt: skip
    view = {r["event"]: _read_ratios(r) for r in reads}
    for r in reads:
        v = view[r["event"]]
        lines.append(row(
            f"{r['event']:,}", _p50_p99(r["report_ms"]), _p50_p99(r["naive_ms"]),
            f"{_x(v['naive'])} / {_x(v['naive_p99'])}", _p50_p99(r["page_ms"]), _x(v["page"]),
            _p50_p99(r["not_modified_ms"]), _x(v["not_modified"]),
            ", ".join(f"{r[f'{k}_bytes']:,}" for k in ("report", "page", "naive")),
        ))  # fmt: skip
    for size, v in view.items():
        both = f"p50 {_x(v['naive'])}, p99 {_x(v['naive_p99'])}"
        met = _at_most(v["naive"], 1) and _at_most(v["naive_p99"], 1)
        target = f"report ≤ 1.0x naive listing, event of {size:,} (issue 20)"
        targets.append(row(kind, target, both, verdict(met)))
    size = 1_000 if 1_000 in view else sorted(view)[len(view) // 2]
    page = view[size]
    target = f"desk event page ≤ 1.5x JSON report, event of {size:,} (issues 15, 20)"
    targets.append(row(kind, target, _x(page["page"]), verdict(_at_most(page["page"], 1.5))))
    seen = ", ".join(f"{_x(v['not_modified'])} ({s:,})" for s, v in view.items())
    cheap = all(_at_most(v["not_modified"], 0.2) for v in view.values())
    targets.append(
        row(kind, "304 ≤ 0.2x full report, every event (issue 20)", seen, verdict(cheap))
    )
    return [*lines, ""]


def _read_ratios(r: dict[str, Any]) -> dict[str, float | None]:
    report = median(r["report_ms"])
    return {
        "naive": ratio(report, median(r["naive_ms"])),
        "naive_p99": ratio(p99(r["report_ms"]), p99(r["naive_ms"])),
        "page": ratio(median(r["page_ms"]), report),
        "not_modified": ratio(median(r["not_modified_ms"]), report),
    }


def _at_most(value: float | None, bound: float) -> bool:
    return value is not None and value <= bound


def _p50_p99(values: list[float]) -> str:
    return f"{median(values):,.1f} / {p99(values):,.1f}"


SECTIONS = (
    writes_section, overload_section, bulk_section, detection_section, reports_section,
    reads_section,
)  # fmt: skip


def render(info: dict[str, str], found: dict[str, dict[str, Any]], settings: str) -> str:
    """The whole of RESULTS.md."""
    targets: list[str] = []
    body: list[str] = []
    for kind, results in found.items():
        body += [f"### {kind} ({results.get('version', '?')})", ""]
        for section in SECTIONS:
            body += section(kind, results, targets)
    head = ["# Tally benchmark results", "", "Generated by `scripts/bench` (see bench/README.md); "
            "do not edit by hand: bench/changes.md is copied in below.", ""]  # fmt: skip
    head += [f"- **{k}**: {v}" for k, v in info.items()]
    head += [f"- **settings**: {settings}", ""]
    summary = ["## Targets (ratios measured in the same run)", ""]
    summary += [*table("database", "target", "measured", "verdict"), *targets, ""]
    changes = (HERE / "changes.md").read_text() if (HERE / "changes.md").exists() else ""
    return "\n".join([*head, *summary, "## Figures", "", *body, changes])
