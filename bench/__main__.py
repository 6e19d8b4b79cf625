"""`python -m bench`: measure Tally against its baselines and write bench/RESULTS.md.

Every server, load generator and database cluster it starts is stopped before it returns;
everything talks to 127.0.0.1 only; every step has a time limit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import compare, measures, results
from bench.load import ensure_wrk
from bench.servers import databases, server_version

HERE = Path(__file__).resolve().parent
STEPS = ("writes", "overload", "bulk", "detection", "reports")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, seconds: checks that the bench runs"
    )
    parser.add_argument(
        "--db", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql"
    )
    parser.add_argument("--only", help=f"comma-separated steps of {STEPS} (default: all)")
    where = "where to write RESULTS.md (default: bench/, or a temporary folder with --smoke)"
    parser.add_argument("--out", type=Path, help=where)
    parser.add_argument(
        "--render", action="store_true", help="only re-render RESULTS.md from RESULTS.json"
    )
    parser.add_argument(
        "--python-load", action="store_true", help="use bench.loadgen even if wrk is there"
    )
    parser.add_argument(
        "--tree", action="append", default=[], metavar="LABEL=PATH",
        help="compare Tally from source trees (e.g. `git archive` exports; `now=.` for this "
        "one) instead of the installed `tally`, interleaved run by run: steps "
        f"{','.join(compare.STEPS)}, reports in the smallest ledger only; writes "
        "compare.md and RESULTS.json to a temporary folder (or --out's), not bench/",
    )  # fmt: skip
    parser.add_argument(
        "--workers", type=int, default=1, metavar="N",
        help="the writes step with N server processes of each app: Tally in N uvicorn workers "
        "built as `tally serve` builds it (bench/workers.py), the naive app with --workers N; "
        "meant for --db postgresql (issue 20)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    args.trees = _trees(parser, args.tree)
    if args.workers < 1 or (args.workers > 1 and args.trees):
        parser.error("--workers: a number >= 1, and not with --tree")
    args.only = args.only or ",".join(compare.STEPS if args.trees else STEPS)
    if args.trees and set(args.only.split(",")) - set(compare.STEPS):
        parser.error(f"--tree compares only the steps {','.join(compare.STEPS)} (see --only)")
    return args


def _trees(parser: argparse.ArgumentParser, given: list[str]) -> dict[str, Path]:
    trees: dict[str, Path] = {}
    for item in given:
        label, _, path = item.partition("=")
        tree = Path(path).resolve()
        if not label.isidentifier() or label in ("tally", "naive") or label in trees:
            parser.error(f"--tree {item}: a new label other than tally and naive, then =PATH")
        if not (tree / "app" / "cli.py").is_file():
            parser.error(f"--tree {item}: {tree} holds no app/cli.py")
        trees[label] = tree
    return trees


def run_kind(kind: str, args: argparse.Namespace, folder: Path, wrk: str | None) -> dict[str, Any]:
    """Every step on one kind of database; what they found."""
    mode = measures.SMOKE if args.smoke else measures.FULL
    steps = args.only.split(",")
    with databases(kind, folder / kind) as dbs:
        bench = measures.Bench(
            kind, dbs, folder / kind, wrk, mode, trees=args.trees, workers=args.workers
        )
        writes_template = measures.prepare(bench)
        bench.found["version"] = (
            f"{'SQLite' if kind == 'sqlite' else 'PostgreSQL'} " + server_version(kind, bench.base)
        )
        for step in STEPS:
            if step in steps:
                started = time.monotonic()
                print(f"bench: {kind}: {step}…", file=sys.stderr, flush=True)
                _step(step, bench, writes_template)
                bench.found.setdefault("seconds", {})[step] = round(time.monotonic() - started)
        return bench.found


def _step(step: str, bench: measures.Bench, writes_template: str) -> None:
    if step in ("writes", "overload"):
        getattr(measures, step)(bench, writes_template)
    else:
        getattr(measures, step)(bench)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    elsewhere = args.smoke or args.trees
    out = args.out or (HERE if not elsewhere else Path(tempfile.mkdtemp())) / "RESULTS.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    if args.render:  # RESULTS.md again from RESULTS.json (after editing bench/changes.md)
        saved = json.loads(out.with_suffix(".json").read_text())
        return _write(out, saved["info"], saved["found"], saved.get("settings", _settings(False)))
    wrk = None if args.python_load else ensure_wrk(may_install=not args.smoke)
    info = results.machine(f"wrk ({wrk}, 1 thread, bench/claims.lua)" if wrk else PYTHON_LOAD)
    folder = Path(tempfile.mkdtemp(prefix="tally-bench-"))
    found: dict[str, dict[str, Any]] = {}
    started = time.monotonic()
    try:
        for kind in args.db.split(","):
            (folder / kind).mkdir()
            found[kind] = run_kind(kind, args, folder, wrk)
            info["load average at end"] = results.load_average()
            info["duration"] = f"{(time.monotonic() - started) / 60:.1f} min"
            settings = _settings(args.smoke, args.workers)
            if args.trees:
                compare.write(out.parent, info, found, args.trees, settings)
            else:
                _write(out, info, found, settings)
    finally:
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(folder, ignore_errors=True)
    return 0


PYTHON_LOAD = "bench/loadgen.py (Python, asyncio; wrk could not be installed or --python-load)"


def _write(out: Path, info: dict[str, str], found: dict[str, Any], settings: str) -> int:
    """RESULTS.md and, beside it, RESULTS.json with every figure."""
    out.write_text(results.render(info, found, settings))
    saved = {"info": info, "settings": settings, "found": found}
    out.with_suffix(".json").write_text(json.dumps(saved, indent=1) + "\n")
    print(f"bench: wrote {out}", file=sys.stderr)
    return 0


def _settings(smoke: bool, workers: int = 1) -> str:
    mode = measures.SMOKE if smoke else measures.FULL
    processes = (
        "one server process each (uvicorn, 1 worker)"
        if workers == 1
        else f"writes with {workers} server processes each (uvicorn --workers {workers}), "
        "the other steps with one"
    )
    return (
        f"writes {mode.write_seconds:g} s at {mode.connections} connections; overload "
        f"{mode.overload_seconds:g} s at {mode.overload_connections}; {processes}; Tally with "
        "its defaults (TALLY_THREADS etc. unset)"
    )


if __name__ == "__main__":
    sys.exit(main())
