"""Extraction's cost (issue 18): start-up time, memory, and time per 1,000 words.

    python -m bench.extraction                    # the extractor of this working tree
    python -m bench.extraction --tree /tmp/before # another tree's, to compare

To measure the extractor before a change, unpack that commit's `app` package somewhere
without touching the working tree (`mkdir /tmp/before && git archive HEAD app | tar -x -C
/tmp/before`) and pass that folder as --tree. Each measure runs in a fresh interpreter that
imports `app.extraction` from the tree:

- start-up: the wall time of `import app.extraction` (the median of --runs processes), and
  of the same import once the figure grammar (app.domain.figures, which both share and which
  compiles its patterns at import) is loaded: what extraction itself adds;
- memory: what that import allocates (tracemalloc), and the peak resident set of a process
  that imports it and reads the whole corpus;
- speed: CPU time per 1,000 words over the corpus (tests/data/extraction/*.json and the
  fixture article), the best of --runs rounds, so that other work on the machine shows less.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "extraction"
ARTICLE = ROOT / "tests" / "data" / "article.txt"

_STARTUP = """
import time
start = time.perf_counter()
import app.extraction
print(time.perf_counter() - start)
"""

_OWN_STARTUP = """
import time
import app.domain.figures
start = time.perf_counter()
import app.extraction
print(time.perf_counter() - start)
"""

_MEMORY = """
import tracemalloc
tracemalloc.start()
import app.extraction
print(tracemalloc.get_traced_memory()[1])
"""

_SPEED = """
import json, resource, sys, time
from datetime import date
from app.extraction import extract_candidates
texts = json.load(sys.stdin)
words = sum(len(text.split()) for text, _ in texts)
best = float("inf")
for _ in range({runs}):
    start = time.process_time()
    for text, published in texts:
        extract_candidates(text, date.fromisoformat(published) if published else None)
    best = min(best, time.process_time() - start)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"words": words, "seconds": best, "peak_rss_kib": rss}}))
"""


def texts() -> list[tuple[str, str | None]]:
    """The corpus paragraphs and the fixture article, with their publication dates."""
    found = [
        (paragraph["text"], paragraph["published_at"])
        for path in sorted(CORPUS.glob("*.json"))
        for paragraph in json.loads(path.read_text(encoding="utf-8"))
    ]
    return [*found, (ARTICLE.read_text(encoding="utf-8"), "2022-01-10")]


def run(tree: Path, code: str, stdin: str = "") -> str:
    """What `code` prints, run in a fresh interpreter that imports app from `tree`."""
    env = os.environ | {"PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
        check=True,
    )
    return done.stdout.strip()


def measure(tree: Path, runs: int) -> dict[str, Any]:
    """The measures of the extractor in `tree`."""
    run(tree, "import app.extraction")  # compile once, so that start-up reads bytecode
    startup = statistics.median(float(run(tree, _STARTUP)) for _ in range(runs))
    own = statistics.median(float(run(tree, _OWN_STARTUP)) for _ in range(runs))
    imported = int(run(tree, _MEMORY))
    speed = json.loads(run(tree, _SPEED.format(runs=runs), json.dumps(texts())))
    return {
        "tree": str(tree),
        "startup_ms": round(startup * 1000, 1),
        "startup_after_figure_grammar_ms": round(own * 1000, 1),
        "import_alloc_kib": round(imported / 1024),
        "peak_rss_mib": round(speed["peak_rss_kib"] / 1024, 1),
        "words": speed["words"],
        "ms_per_1000_words": round(speed["seconds"] * 1000 * 1000 / speed["words"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="a folder holding app/")
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    print(json.dumps(measure(arguments.tree.resolve(), arguments.runs), indent=2))


if __name__ == "__main__":
    main()
