"""`bench --tree`: Tally from several source trees side by side, as a markdown table.

The first tree is the reference: every other tree's figures are also given as ratios to it,
run by run (the runs were interleaved, so run n of each tree saw the same machine), and the
median of those ratios. Throughput ratios above 1 are better; latency and CPU ratios below 1 are.
"""

from __future__ import annotations

import json
from pathlib import Path
from statistics import median
from typing import Any

from bench.results import row, spread, table

STEPS = ("writes", "bulk", "reports")


def write(
    folder: Path, info: dict[str, str], found: dict[str, Any], trees: dict[str, Path],
    settings: str,
) -> None:  # fmt: skip
    """compare.md and RESULTS.json (every figure) in `folder`."""
    saved = {"info": info, "settings": settings, "trees": {k: str(v) for k, v in trees.items()}}
    (folder / "RESULTS.json").write_text(json.dumps(saved | {"found": found}, indent=1) + "\n")
    (folder / "compare.md").write_text(render(info, found, list(trees)))
    print(f"bench: wrote {folder / 'compare.md'}")


def render(info: dict[str, str], found: dict[str, Any], labels: list[str]) -> str:
    lines = [f"- **{k}**: {v}" for k, v in info.items()]
    ref, others = labels[0], labels[1:]
    header = ["database", "measure", *labels, "naive / baseline"]
    header += [f"{o}/{ref} per run" for o in others]
    header += [f"{o}/{ref}, median of the runs' ratios" for o in others]
    lines += ["", *table(*header)]
    for kind, got in found.items():
        for measure, per_app, baseline in _measures(got, labels):
            cells = [spread(per_app[app], 2 if "CPU" in measure else 1) for app in labels]
            base = spread(baseline, 1) if baseline else "-"
            runs = [_ratios(per_app[o], per_app[ref]) for o in others]
            meds = [_x(_median_ratio(per_app[o], per_app[ref])) for o in others]
            lines.append(row(kind, measure, *cells, base, *runs, *meds))
    loads = [
        f"{kind} {step}: " + ", ".join(f"{a[0]:.1f}" for a in _loads(got.get(step, [])))
        for kind, got in found.items()
        for step in ("writes", "bulk", "reports")
        if _loads(got.get(step, []))
    ]
    lines += ["", "1-min load average at the start of each run: " + "; ".join(loads)]
    return "\n".join(lines) + "\n"


def _measures(
    got: dict[str, Any], labels: list[str]
) -> list[tuple[str, dict[str, list[float]], list[float]]]:
    """(measure, figures per app in run order, the baseline's figures) for each measure."""
    out = []
    writes = got.get("writes", [])
    for key, name in (
        ("throughput", "writes/s"), ("p50_ms", "write p50 ms"), ("p99_ms", "write p99 ms"),
        ("cpu_ms_per_ok", "server CPU ms/write"),
    ):  # fmt: skip
        if writes:
            per_app = {a: [r[key] for r in writes if r["app"] == a] for a in labels}
            out.append((name, per_app, [r[key] for r in writes if r["app"] == "naive"]))
    bulk = got.get("bulk", [])
    if bulk:
        per_app = {a: [r.get("bulk_rate", 0.0) for r in bulk if r["app"] == a] for a in labels}
        raw = [r["raw_rate"] for r in bulk if r["app"] == labels[0]]
        what = f"bulk claims/s ({bulk[0]['rows']:,}; baseline: raw executemany)"
        out.append((what, per_app, raw))
    for runs, name in ((bulk, "bulk"), (got.get("bulk_one_group", []), "bulk, one group,")):
        for key, unit in (("bulk_seconds", "seconds"), ("conflicts_open", "conflicts open after")):
            if any(key in r for r in runs):  # files imported (trees without the bulk endpoint: 0)
                per_app = {a: [r.get(key, 0.0) for r in runs if r["app"] == a] for a in labels}
                out.append((f"{name} {unit} ({runs[0]['rows']:,} claims)", per_app, []))
    reports = got.get("reports", [])
    for size in sorted({r["event"] for r in reports}):
        per_app = {
            a: [median(r["ms"]) for r in reports if r["app"] == a and r["event"] == size]
            for a in labels
        }
        sizes = {r["bytes"] for r in reports if r["event"] == size}
        what = f"report p50 ms, event of {size:,} ({min(sizes):,}-{max(sizes):,} bytes)"
        out.append((what, per_app, []))
    return out


def _ratios(values: list[float], refs: list[float]) -> str:
    return ", ".join(f"{v / r:.2f}" if r else "n/a" for v, r in zip(values, refs, strict=False))


def _median_ratio(values: list[float], refs: list[float]) -> float | None:
    """The median of the runs' ratios: run n of each tree shared the machine's load of the
    moment, so a drift in load over the runs cancels out (a ratio of medians would not)."""
    ratios = [v / r for v, r in zip(values, refs, strict=False) if r]
    return median(ratios) if ratios else None


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _loads(runs: list[dict[str, Any]]) -> list[list[float]]:
    return [r["load_average"] for r in runs if "load_average" in r]
