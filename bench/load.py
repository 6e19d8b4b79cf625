"""Drive POST /v1/claims from a separate process: wrk with bench/claims.lua, or bench.loadgen."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass
class Load:
    """What one load run saw, from the client's side."""

    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    socket_errors: int
    timeouts: int
    statuses: dict[str, int] = field(default_factory=dict)
    no_retry_after: int = 0

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status.startswith("2"))

    @property
    def throughput(self) -> float:
        """Successful writes per second."""
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def failures(self) -> int:
        """Answers other than 2xx and 503, plus requests with no answer (errors, time-outs)."""
        bad = sum(n for s, n in self.statuses.items() if not s.startswith("2") and s != "503")
        return bad + self.socket_errors + self.timeouts


def ensure_wrk(may_install: bool) -> str | None:
    """The path of wrk, installing Debian's package when allowed; None when it cannot be had."""
    found = shutil.which("wrk")
    if found or not may_install or shutil.which("apt-get") is None:
        return found
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    for commands in ([install], [["apt-get", "update", "-qq"], install]):
        for cmd in commands:
            subprocess.run(cmd, capture_output=True, timeout=300, check=False)
        if shutil.which("wrk"):
            break
    return shutil.which("wrk")


def run_load(
    wrk: str | None, url: str, token: str, connections: int, seconds: float, seed: int,
    timeout: float = 20.0,
) -> Load:  # fmt: skip
    """A closed-loop run of `connections` clients for `seconds` against url/v1/claims."""
    target = f"{url}/v1/claims"
    if wrk:
        cmd = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", f"--timeout={timeout:g}s"]
        cmd += ["-s", str(HERE / "claims.lua"), target, "--", token, str(seed)]
    else:
        cmd = [sys.executable, "-m", "bench.loadgen", target, token, str(connections)]
        cmd += [f"{seconds:g}", f"{timeout:g}", str(seed)]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=seconds + timeout + 60, cwd=HERE.parent
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"load generator failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    ms = {k: raw[f"{k}_us"] / 1000 for k in ("p50", "p90", "p99", "max")}
    return Load(
        requests=raw["requests"],
        seconds=raw["duration_us"] / 1e6,
        p50_ms=ms["p50"], p90_ms=ms["p90"], p99_ms=ms["p99"], max_ms=ms["max"],
        socket_errors=raw["socket_errors"],
        timeouts=raw["timeouts"],
        statuses={str(k): v for k, v in raw["statuses"].items()},
        no_retry_after=raw["no_retry_after"],
    )  # fmt: skip
