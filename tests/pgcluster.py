"""A throwaway PostgreSQL cluster from the machine's server binaries, for tests and benches."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path


def find_bindir() -> Path | None:
    """Where initdb and pg_ctl live, or None when PostgreSQL's server is not installed."""
    candidates = []
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(Path(out.stdout.strip()))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((d for d in candidates if (d / "initdb").exists()), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A private cluster in its own folder (data, log, socket), owned by `postgres` when the
    tests run as root, listening on 127.0.0.1:`port`."""

    bindir: Path
    root: Path
    port: int = field(default_factory=free_port)
    settings: tuple[str, ...] = ()  # more `-c name=value` server settings

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        """The base URL of the cluster (append `/dbname`)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}"

    def run(self, *cmd: str) -> None:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_user, *cmd], check=True, capture_output=True)

    def start(self) -> None:
        options = " ".join(
            [
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1",
                "-c max_connections=400 -c fsync=on",
                *(f"-c {setting}" for setting in self.settings),
            ]
        )
        log = str(self.root / "log")
        self.run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            log,
            "-w",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        self.run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")


def _folder() -> Path:
    """A new folder that the cluster's owner may use alone."""
    root = Path(tempfile.mkdtemp(prefix="tally-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        root.chmod(0o700)
    return root


@contextmanager
def _running(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster started; stopped and its folder removed afterwards, whatever happens."""
    try:
        cluster.start()
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


def _initdb(bindir: Path, *settings: str) -> Cluster:
    cluster = Cluster(bindir, _folder(), settings=settings)
    initdb = str(bindir / "initdb")
    cluster.run(initdb, "-D", str(cluster.data), "-U", "postgres", "-A", "trust", "-E", "UTF8")
    return cluster


@contextmanager
def postgres_cluster(bindir: Path) -> Iterator[str]:
    """Start a private cluster (as `postgres` when run as root) and yield a base URL."""
    with _running(_initdb(bindir)) as cluster:
        yield cluster.url


@contextmanager
def replicated_clusters(bindir: Path) -> Iterator[tuple[Cluster, Cluster]]:
    """A primary and a hot standby streaming from it (made with `pg_basebackup -R`), each on
    its own port and socket folder; both stopped and removed afterwards."""
    with _running(_initdb(bindir, "wal_level=replica", "max_wal_senders=4")) as primary:
        # initdb's pg_hba.conf already admits replication from 127.0.0.1; said here in full.
        hba = primary.data / "pg_hba.conf"
        hba.write_text(hba.read_text() + "host replication all 127.0.0.1/32 trust\n")
        primary.run(str(bindir / "pg_ctl"), "-D", str(primary.data), "reload")
        standby = Cluster(bindir, _folder(), settings=("hot_standby=on",))
        standby.run(
            str(bindir / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"),
            *("-D", str(standby.data), "-R", "-X", "stream", "-c", "fast"),
        )
        with _running(standby):
            yield primary, standby
