"""The bench in its smoke mode: it still runs end to end (it measures nothing worth reading)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_bench_smoke_runs_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    cmd = [
        sys.executable,
        "-m",
        "bench",
        "--smoke",
        "--db",
        "sqlite",
        "--python-load",
        "--out",
        str(out),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text()
    for heading in (
        "## Targets",
        "#### Writes",
        "#### Overload",
        "#### Bulk import",
        "#### Detection",
        "#### Reports",
        "#### Reads beside the report",
    ):
        assert heading in text
    for cell in (
        "conflicts open after",  # issue 14: each bulk file's conflicts and time
        "| one group (1 event, 1 metric, 3 populations) | 60 |",
        "detection flattens",
        "desk event page ≤ 1.5x JSON report",  # issue 15
        "report ≤ 1.0x naive listing",  # issue 20
        "304 ≤ 0.2x full report",
        "bulk ≥ 0.5x the rows + validation bound",
        "write throughput ≥ 1.2x naive",
    ):
        assert cell in text
    assert "| tally |" in text
    assert "| naive |" in text
