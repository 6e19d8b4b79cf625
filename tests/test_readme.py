"""The README's walk-through, played as written against a live server.

The commands are read from README.md, not copied here: the ```sh blocks of the walk-through
and of the newsroom examples run, in order, in one bash with `set -euo pipefail` (curl fails on
an HTTP error: `--fail-with-body`), from a folder laid out like Tally's (tests/, scripts/,
.tally-admin-key). A ```python block whose first line is `# NAME.py: …` is saved as NAME.py.
Only two things change: the server's address (the test's own port, not 8000) and the port of
the webhook receiver (a free one, not 8080).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from app.config import Settings
from tests.conftest import ADMIN_KEY
from tests.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PLAYED = (
    "## A walk-through: Kazakhstan, January 2022",
    "### Webhooks",
    "### Bulk import and export",
    "### Proposing claims from an article",
)
SERVER, RECEIVER_PORT = "http://127.0.0.1:8000", "8080"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.M | re.S)


def section(text: str, heading: str) -> str:
    """The text under `heading`, up to the next heading of its level or above."""
    start = text.index(heading + "\n")
    level = heading.split(" ")[0]
    rest = text[start + len(heading) + 1 :]
    ends = [m.start() for m in re.finditer(rf"^#{{1,{len(level)}}} ", rest, re.M)]
    fenced = [m.span() for m in BLOCK.finditer(rest)]  # a comment in a block is no heading
    ends = [e for e in ends if not any(a <= e < b for a, b in fenced)]
    return rest[: ends[0]] if ends else rest


def walk_through(text: str) -> tuple[str, dict[str, str]]:
    """The played sections' shell commands, as one script, and the files they need."""
    commands, files = [], {}
    for heading in PLAYED:
        for language, code in BLOCK.findall(section(text, heading)):
            name = re.match(r"# ([\w.-]+\.py):", code)
            if language == "sh":
                commands.append(code)
            elif language == "python" and name:
                files[name.group(1)] = code
    return "\n".join(commands), files


def test_the_walk_through_is_found_in_the_readme() -> None:
    script, files = walk_through(README.read_text())
    assert SERVER in script  # the address the test replaces
    assert f"receiver.py {RECEIVER_PORT}" in script
    assert "receiver.py" in files
    assert "tally-api $TALLY/v1/claims" in script
    assert "recorded_at=" in script
    assert '"as_of": "2022-01-09"}' in script.split("claims.ndjson")[1]  # bulk rows say as_of


def needs(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the README's commands need {', '.join(missing)} (apt-get install ...)")


@pytest.mark.slow
def test_the_readme_walk_through_runs_as_written(
    live_url: str, settings: Settings, tmp_path: Path
) -> None:
    needs("bash", "curl", "jq", "python3")
    script, files = walk_through(README.read_text())
    port = str(free_port())
    script = script.replace(SERVER, live_url).replace(RECEIVER_PORT, port)
    folder = tmp_path / "tally"  # laid out like Tally's folder, where the README is followed
    folder.mkdir()
    for name in ("tests", "scripts"):
        (folder / name).symlink_to(ROOT / name)
    (folder / ".tally-admin-key").write_text(ADMIN_KEY + "\n")
    for name, code in files.items():
        (folder / name).write_text(code)
    (folder / "walk-through.sh").write_text("set -euo pipefail\n" + script + "\n")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
    env = clean | {"TALLY_DATABASE_URL": settings.database_url}  # what scripts/tally reads
    output = tmp_path / "output.txt"
    with output.open("w") as out:
        shell = subprocess.Popen(
            ["bash", "walk-through.sh"], cwd=folder, env=env, stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            code = shell.wait(timeout=240)
            assert code == 0, output.read_text()[-4000:]
            check_what_the_walk_through_did(live_url, output)
        finally:  # the receiver the README started in the background
            os.killpg(shell.pid, signal.SIGTERM)


def check_what_the_walk_through_did(url: str, output: Path) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        open_conflicts = http.get("/v1/conflicts", params={"status": "open", "limit": 100}).json()
        kinds = sorted(c["kind"] for c in open_conflicts["items"])
        # No spurious value conflict: the bulk rows give their as_of.
        assert kinds == ["cites_retracted", "disputed", "disputed", "retracted_figure"], kinds
        deadline = time.monotonic() + 30
        while "claim.disputed" not in output.read_text():  # receiver.py prints each delivery
            assert time.monotonic() < deadline, output.read_text()[-4000:]
            time.sleep(0.5)
        hooks = http.get("/v1/webhooks").json()["items"]
        deliveries = http.get(f"/v1/webhooks/{hooks[0]['id']}/deliveries").json()["items"]
        assert "delivered" in {d["status"] for d in deliveries}
    text = output.read_text()
    assert '{"version":2,"note":null}' in text  # ?recorded_at= read the claim before the PATCH
    assert 'Did you mean \\"deaths\\"?' in text  # the bulk row's errors, every one
    assert '"field":"figure"' in text
    assert "1 rows accepted, 0 rejected." in text  # scripts/tally import
    assert "# Unrest in Kazakhstan, January 2022" in text  # the Markdown report
    assert re.search(r"msg_[\w-]+ claim\.disputed \d+", text)
