"""deploy/compose.yaml cannot run here (no docker): these checks keep what it names true — the
`tally` commands and options it runs, the settings it sets, the files it mounts."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer
import yaml

from app.cli import cli
from app.config import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
# ${NAME}, ${NAME:?error} and ${NAME:-default}: compose's interpolation of the environment.
VARIABLE = re.compile(r"\$\{(\w+)(?::?([-?])([^}]*))?\}")


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def tally_services() -> dict[str, dict[str, Any]]:
    """The services that run the image built from Tally's Dockerfile."""
    services = compose()["services"]
    found = {name: s for name, s in services.items() if s.get("image") == "tally:local"}
    assert {"migrate", "tally-1", "tally-2", "worker"} <= set(found)
    return found


def interpolated(value: object) -> str:
    """The value as compose would pass it: defaults filled in, required variables made up."""
    return VARIABLE.sub(lambda m: m[3] if m[2] == "-" else "secret", str(value))


def test_the_tally_services_run_commands_and_options_the_cli_has() -> None:
    commands = typer.main.get_command(cli).commands  # type: ignore[attr-defined]
    for name, service in tally_services().items():
        program, command, *args = service["command"]
        assert program == "tally", name
        assert command in commands, f"{name}: no `tally {command}`"
        commands[command].make_context(command, list(args))  # unknown options raise


def test_the_tally_services_set_only_settings_tally_knows_to_valid_values() -> None:
    for name, service in tally_services().items():
        environment = {k: interpolated(v) for k, v in service["environment"].items()}
        assert all(key.startswith("TALLY_") for key in environment), name
        values = {key.removeprefix("TALLY_").lower(): v for key, v in environment.items()}
        assert set(values) <= set(Settings.model_fields), f"{name}: {set(values)}"
        Settings(_env_file=None, **values)  # type: ignore[call-arg]  # invalid values raise


def test_servers_leave_the_background_work_to_the_worker_and_read_from_the_replica() -> None:
    services = tally_services()
    for name in ("tally-1", "tally-2"):
        environment = services[name]["environment"]
        assert environment["TALLY_RUN_WORKER"] == "false"
        assert "@replica:" in environment["TALLY_READ_DATABASE_URL"]
        assert "@primary:" in environment["TALLY_DATABASE_URL"]
    assert "@primary:" in services["worker"]["environment"]["TALLY_DATABASE_URL"]


def test_what_compose_builds_and_mounts_exists() -> None:
    services = compose()["services"]
    for service in tally_services().values():
        build = service["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    mounts = [v.split(":")[0] for s in services.values() for v in s.get("volumes", [])]
    for mount in (m for m in mounts if m.startswith("./")):
        assert (DEPLOY / mount).is_file(), mount
    upstreams = re.findall(r"server (\S+):8000", (DEPLOY / "nginx.conf").read_text())
    assert sorted(upstreams) == ["tally-1", "tally-2"]


def test_the_replica_is_bootstrapped_from_the_primary_with_pg_basebackup() -> None:
    services = compose()["services"]
    assert services["primary"]["image"] == services["replica"]["image"] == "postgres:15"
    script = services["replica"]["command"][-1]
    assert "pg_basebackup -h primary -U replicator" in script
    assert " -R " in script
    assert "hot_standby_feedback=on" in script  # README: replay cancels long reads without it
    assert "$PGDATA" not in script.replace("$$PGDATA", "")  # compose would interpolate it
    assert "ROLE replicator WITH REPLICATION" in (DEPLOY / "init-primary.sh").read_text()
