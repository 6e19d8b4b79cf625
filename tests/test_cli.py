"""The `tally` command: configuration errors, migrate, keys."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


def tally(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from app.cli import main; main()", *args]
    return subprocess.run(command, env=os.environ | env, capture_output=True, text=True, timeout=60)


def test_invalid_configuration_is_one_clear_line(tmp_path: Path) -> None:
    result = tally("migrate", env={"TALLY_DATABASE_URL": "mysql://x", "TALLY_PORT": "80"})
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TALLY_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_then_keys_create_prints_a_working_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert tally("migrate", env={"TALLY_DATABASE_URL": url}).returncode == 0
    created = tally(
        "keys", "create", "--name", "desk", "--role", "editor", env={"TALLY_DATABASE_URL": url}
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    with TestClient(create_app(Settings(database_url=url))) as client:
        headers = {"Authorization": f"Bearer {key}"}
        assert client.get("/v1/events", headers=headers).status_code == 200
        assert (
            client.post(
                "/v1/keys", json={"name": "x", "role": "admin"}, headers=headers
            ).status_code
            == 403
        )


def test_keys_create_refuses_unknown_role(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = tally(
        "keys", "create", "--name", "x", "--role", "root", env={"TALLY_DATABASE_URL": url}
    )
    assert result.returncode == 2
    assert "reader, editor or admin" in result.stderr
