"""Processes the bench starts (servers, a PostgreSQL cluster) and the databases it measures.

Every process runs in a session of its own and is stopped, with its whole process group,
when its `with` block ends, whatever happened inside it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from app.config import Settings
from app.db import make_engine
from app.services.ops import migrate
from tests.pgcluster import find_bindir, free_port, postgres_cluster

ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "bench-admin-key"
VENV_BIN = Path(sys.executable).parent


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]

    def peak_rss_mib(self) -> float | None:
        """The peak resident set size so far (VmHWM) in MiB: of the process, or the sum over
        its worker processes when it has some (uvicorn --workers)."""
        pid, *workers = _family(self.process.pid)
        peaks = [p for p in map(_peak_rss_kib, workers or [pid]) if p is not None]
        return sum(peaks) / 1024 if peaks else None

    def cpu_seconds(self) -> float:
        """User + system CPU time the process and its children (all threads) have used so far."""
        return sum(_cpu_seconds(pid) for pid in _family(self.process.pid))


def _family(pid: int) -> list[int]:
    """The process and its descendants, parent first."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return [pid]
    return [pid, *(p for child in children for p in _family(int(child)))]


def _peak_rss_kib(pid: int) -> int | None:
    with suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return None


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # a worker that has just exited
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a process and its group: SIGTERM, then SIGKILL after 10 s."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        if process.poll() is not None:
            break
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            process.wait(wait)


@contextmanager
def started(
    cmd: list[str], env: dict[str, str], log: Path, cwd: Path = ROOT
) -> Iterator[subprocess.Popen[bytes]]:
    """A process in a new session, logging to `log`, stopped (with its group) on exit."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, cwd=cwd, start_new_session=True,
        )  # fmt: skip
    try:
        yield process
    finally:
        stop(process)


def tally_env(database_url: str, overrides: dict[str, str] | None = None) -> dict[str, str]:
    env = {"TALLY_DATABASE_URL": database_url, "TALLY_ADMIN_KEY": ADMIN_KEY}
    return env | (overrides or {})


# `tally serve` from another source tree (bench --tree): the tree's `app` first on the path,
# and the file it came from in the log, checked once the server answers.
FROM_TREE = (
    "import sys, app; print('bench: app from', app.__file__, flush=True); "
    "from app.cli import main; sys.argv[0] = 'tally'; main()"
)


@contextmanager
def serving(
    name: str, database_url: str, logs: Path, env: dict[str, str] | None = None,
    tree: Path | None = None, workers: int = 1,
) -> Iterator[Server]:  # fmt: skip
    """`tally serve` (from `tree` when given) or the naive app on 127.0.0.1, one process each
    (with `workers` > 1: uvicorn's worker processes on one socket, Tally's started as
    `tally serve` starts it, see bench/workers.py), ready to answer."""
    port = free_port()
    cwd = ROOT
    uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port)]
    uvicorn += ["--workers", str(workers)] if workers > 1 else []
    if tree is not None:
        cmd = [sys.executable, "-c", FROM_TREE, "serve", "--host", "127.0.0.1", "--port", str(port)]
        environment = tally_env(database_url, env) | {"PYTHONPATH": str(tree)}
        cwd = tree
    elif name == "tally" and workers > 1:
        cmd = [*uvicorn, "--factory", "bench.workers:tally_app", "--no-access-log"]
        cmd += ["--timeout-graceful-shutdown", "10"]
        environment = tally_env(database_url, env)
    elif name == "tally":
        cmd = [str(VENV_BIN / "tally"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        environment = tally_env(database_url, env)
    else:
        cmd = [*uvicorn, "bench.naive_app:app", "--log-level", "warning", "--no-access-log"]
        environment = {"BENCH_DATABASE_URL": database_url}
    log = logs / f"{name}.log"
    with started(cmd, environment, log, cwd) as process:
        server = Server(name, f"http://127.0.0.1:{port}", process)
        wait_ready(server)
        if tree is not None:
            _check_tree(log, tree)
        yield server


def _check_tree(log: Path, tree: Path) -> None:
    """The server's `app` was imported from `tree`, not from the installed package."""
    said = [line for line in log.read_text().splitlines() if line.startswith("bench: app from")]
    where = Path(said[-1].split(" from ", 1)[1]).resolve() if said else None
    if where is None or not where.is_relative_to(tree.resolve()):
        raise RuntimeError(f"tally serve imported app from {where}, not from {tree}")


def wait_ready(server: Server, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}")
        with suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{server.name} did not answer /healthz within {seconds:.0f} s")


# --- databases ------------------------------------------------------------------------------


class Databases:
    """Fresh databases of one kind: SQLite files in a folder, or databases in one cluster."""

    def __init__(self, kind: str, folder: Path, base: str | None = None) -> None:
        self.kind, self.folder, self.base = kind, folder, base

    def migrated(self, name: str) -> str:
        """A new database with Tally's schema, migrated by Tally's own migrations."""
        url = self._create(name)
        engine = make_engine(Settings(database_url=url))
        try:
            migrate(engine)
        finally:
            engine.dispose()
        return url

    def copy(self, template: str, name: str) -> str:
        """A new database holding what `template` holds (no connection may be open to it)."""
        if self.kind == "sqlite":
            source = Path(template.removeprefix("sqlite:///"))
            shutil.copy(source, self.folder / f"{name}.db")
            return f"sqlite:///{self.folder / name}.db"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {template.rsplit('/', 1)[1]}")
        return f"{self.base}/{name}"

    def drop(self, url: str) -> None:
        if self.kind == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        else:
            self._admin(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def _create(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.folder / name}.db"
        self._admin(f"CREATE DATABASE {name}")
        return f"{self.base}/{name}"

    def _admin(self, sql: str) -> None:
        engine = create_engine(f"{self.base}/postgres", isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()


@contextmanager
def databases(kind: str, folder: Path) -> Iterator[Databases]:
    """Databases of `kind`; for PostgreSQL a throwaway cluster, started as the tests start one."""
    if kind == "sqlite":
        yield Databases(kind, folder)
        return
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    with postgres_cluster(bindir) as base:
        yield Databases(kind, folder, base)


def server_version(kind: str, url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = "SELECT sqlite_version()" if kind == "sqlite" else "SHOW server_version"
            return str(conn.execute(text(query)).scalar_one())
    finally:
        engine.dispose()
