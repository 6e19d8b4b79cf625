"""The first hour with Tally (issue 19): docs that load offline, a CLI that finds its database,
errors and reports an editor can read. The README's walk-through itself: tests/test_readme.py."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import HOME, Settings
from tests.conftest import claim_body
from tests.pgcluster import free_port

ROOT = Path(__file__).resolve().parents[1]
EVENT = "kazakhstan-unrest-2022"

# --- /docs and /redoc, offline -----------------------------------------------------------------


class References(HTMLParser):
    """Every URL a page loads by itself: scripts, style sheets, icons, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src", "iframe": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_what_tally_serves(client: TestClient, page: str) -> None:
    response = client.get(page, headers={"Authorization": ""})
    assert response.status_code == 200
    parser = References()
    parser.feed(response.text)
    assert parser.urls, "the page loads its scripts"
    assert not re.search(r"https?://", response.text), "no external URL in the page"
    for url in parser.urls:
        assert urlsplit(url).netloc == "", url
        asset = client.get(urljoin(page, url), headers={"Authorization": ""})
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000, url
    assert client.get("/openapi.json", headers={"Authorization": ""}).status_code == 200


# --- /openapi.json -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from app.main import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'unused.db'}"  # never opened
    document: dict[str, Any] = create_app(Settings(database_url=url)).openapi()
    return document


def operations(openapi: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in openapi["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_parameter_is_described(openapi: dict[str, Any]) -> None:
    bare = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, method, operation in operations(openapi)
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]
    assert bare == []


def test_every_request_body_has_an_example_and_described_fields(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    missing = []
    for path, method, operation in operations(openapi):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body is None:
            continue
        name = body["schema"]["$ref"].rsplit("/", 1)[1]
        schema = schemas[name]
        if not schema.get("examples"):
            missing.append(f"{method.upper()} {path}: no example ({name})")
        missing += [
            f"{name}.{field}"
            for field, spec in schema["properties"].items()
            if not spec.get("description")
        ]
    assert missing == []


WALK_THROUGH_ANSWERS = [
    "ClaimRead", "FigureOut", "ConflictRead", "EventReport", "ReportGroup", "LatestClaim",
    "RevisionRead", "DisputeRead", "EventRead", "SourceRead", "KeyRead", "KeyCreated",
    "WebhookCreated", "DeliveryRead", "Problem", "FieldProblem",
]  # fmt: skip


def test_the_answers_of_the_walk_through_describe_every_field(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    bare = [
        f"{name}.{field}"
        for name in WALK_THROUGH_ANSWERS
        for field, spec in schemas[name]["properties"].items()
        if not spec.get("description")
    ]
    assert bare == []


def test_the_examples_come_from_the_kazakhstan_walk_through(openapi: dict[str, Any]) -> None:
    claim = openapi["components"]["schemas"]["ClaimCreate"]["examples"][0]
    assert claim["event"] == EVENT
    assert claim["figure"] == "at least 164"
    assert openapi["components"]["schemas"]["EventCreate"]["examples"][0]["slug"] == EVENT


def test_openapi_says_which_time_is_which(openapi: dict[str, Any]) -> None:
    read = openapi["paths"]["/v1/claims/{claim_id}"]["get"]
    parameters = {p["name"]: p for p in read["parameters"]}
    assert "recorded" in parameters["recorded_at"]["description"]
    assert "not the date" in parameters["recorded_at"]["description"]
    assert parameters["as_of"]["deprecated"] is True
    assert "first name of `recorded_at`" in parameters["as_of"]["description"]
    claim_as_of = openapi["components"]["schemas"]["ClaimCreate"]["properties"]["as_of"]
    assert "date" in claim_as_of["description"]
    assert "Not the time the ledger recorded" in claim_as_of["description"]
    report = openapi["paths"]["/v1/events/{slug}/report"]["get"]
    assert {"recorded_at", "as_of"} <= {p["name"] for p in report["parameters"]}


# --- JSON answers end with a newline ----------------------------------------------------------


def test_json_answers_end_with_a_newline(ledger: TestClient) -> None:
    answers = [
        ledger.get("/healthz"),
        ledger.get("/v1/events"),
        ledger.post("/v1/claims", json=claim_body()),
        ledger.get("/v1/claims/999"),  # problem+json
        ledger.get("/v1/events", headers={"Authorization": "Bearer nope"}),
    ]
    for answer in answers:
        assert answer.content.endswith(b"}\n"), answer.content[-20:]
        assert int(answer.headers["content-length"]) == len(answer.content)
    assert ledger.get("/v1/events/quake/report", params={"format": "csv"}).text.endswith("\r\n")


# --- errors that say what would work ------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "named"),
    [
        ({}, "no Content-Type"),
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            "application/x-www-form-urlencoded",
        ),
        ({"Content-Type": "text/plain"}, "text/plain"),
    ],
)
def test_a_body_that_is_not_said_to_be_json_is_named(
    ledger: TestClient, headers: dict[str, str], named: str
) -> None:
    body = b'{"slug": "kazakhstan-unrest-2022", "title": "Unrest"}'
    response = ledger.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 415
    problem = response.json()
    assert named in problem["detail"]
    assert "Content-Type: application/json" in problem["detail"]
    assert response.headers["content-type"] == "application/problem+json"


def test_an_empty_json_body_is_named(ledger: TestClient) -> None:
    response = ledger.post("/v1/events", content=b"", headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "no body" in response.json()["detail"]


def test_every_error_of_a_request_is_listed(ledger: TestClient) -> None:
    body = claim_body(figure="a great many", as_of="yesterday", claimant="")
    response = ledger.post("/v1/claims", json=body | {"figure": [1]})
    assert response.status_code == 422
    problem = response.json()
    fields = {error["field"] for error in problem["errors"]}
    assert {"figure", "as_of", "claimant"} <= fields
    for field in ("figure", "as_of", "claimant"):
        assert f"{field}:" in problem["detail"]


def test_an_unknown_name_lists_the_known_ones_and_suggests_the_nearest(ledger: TestClient) -> None:
    problem = ledger.post("/v1/claims", json=claim_body(metric="death")).json()
    assert problem["errors"][0]["field"] == "metric"
    assert 'Unknown metric "death". Did you mean "deaths"?' in problem["detail"]
    assert "arrests, deaths, displaced" in problem["detail"]
    problem = ledger.post("/v1/claims", json=claim_body(source="dpa")).json()
    assert 'Unknown source "dpa".' in problem["detail"]
    assert "Known sources: wire." in problem["detail"]
    assert "POST /v1/sources" in problem["detail"]  # how to create one
    problem = ledger.get("/v1/events/quak").json()
    assert 'No event named "quak". Did you mean "quake"?' in problem["detail"]
    problem = ledger.get("/v1/claims", params={"population": "civilian"}).json()
    assert 'Did you mean "civilians"?' in problem["detail"]


def test_a_bulk_row_lists_every_error(ledger: TestClient) -> None:
    rows = [
        claim_body(metric="death", figure="a great many", source="dpa"),
        claim_body(metric="death", as_of="yesterday"),
        claim_body(cites="999999"),
    ]
    body = "\n".join(__import__("json").dumps(row) for row in rows)
    response = ledger.post(
        "/v1/claims/bulk", content=body, headers={"Content-Type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    first, second, third = (r["problem"] for r in results)
    assert {e["field"] for e in first["errors"]} == {"metric", "figure", "source"}
    assert 'Did you mean "deaths"?' in first["detail"]
    assert {e["field"] for e in second["errors"]} == {"as_of", "metric"}
    assert [e["field"] for e in third["errors"]] == ["cites"]


# --- the ledger's time, by its clear name -------------------------------------------------------


def test_recorded_at_reads_the_ledger_as_it_stood(ledger: TestClient) -> None:
    claim = ledger.post("/v1/claims", json=claim_body()).json()
    path = f"/v1/claims/{claim['id']}"
    first = claim["updated_at"]
    headers = {"If-Match": '"1"'}
    assert ledger.patch(path, json={"note": "n", "reason": "r"}, headers=headers).status_code == 200
    for name in ("recorded_at", "as_of"):  # the clear name, and the first one
        assert ledger.get(path, params={name: first}).json()["version"] == 1
    both = ledger.get(path, params={"recorded_at": first, "as_of": "2020-01-01T00:00:00Z"})
    assert both.status_code == 422
    assert both.json()["errors"][0]["field"] == "recorded_at"
    before = ledger.get(path, params={"recorded_at": "2022-01-10"})
    assert before.status_code == 404  # not recorded yet then
    report = ledger.get("/v1/events/quake/report", params={"recorded_at": first}).json()
    assert report["as_of"] == first
    assert report["groups"][0]["claims"][0]["version"] == 1


# --- reports an editor can paste ----------------------------------------------------------------


def kazakhstan(client: TestClient) -> dict[str, str]:
    """The walk-through's claims (the README's), their ids by name."""
    client.post(
        "/v1/events",
        json={
            "slug": EVENT,
            "title": "Unrest in Kazakhstan, January 2022",
            "location": "Kazakhstan",
        },
    )
    for slug, name in (
        ("dpa", "Deutsche Presse-Agentur"),
        ("khabar24", "Khabar 24"),
        ("afp", "AFP"),
    ):
        client.post("/v1/sources", json={"slug": slug, "name": name})

    def claim(**fields: Any) -> str:
        base = {"event": EVENT, "metric": "deaths", "claimant": "Kazakhstan Ministry of Health"}
        response = client.post("/v1/claims", json=base | fields)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    quote = "According to the authorities, almost 8,000 people were arrested."
    ids = {"arrests": claim(metric="arrests", figure="almost 8,000", claimant="Kazakh authorities",
                            source="dpa", as_of="2022-01-10", url="https://dpa.example/kz (1)",
                            quote=quote)}  # fmt: skip
    ids["tv"] = claim(figure="at least 164", source="khabar24", as_of="2022-01-09")
    ids["dpa"] = claim(figure="at least 164", source="dpa", as_of="2022-01-09", cites=ids["tv"])
    ids["troops"] = claim(metric="troops_deployed", figure="2,500", claimant="CSTO", source="dpa",
                          as_of="2022-01-10", population="all")  # fmt: skip
    ids["guards"] = claim(population="security_forces", figure="16", source="dpa",
                          claimant="Kassym-Jomart Tokayev", as_of="2022-01-10")  # fmt: skip
    client.post(f"/v1/claims/{ids['tv']}/retract", json={"reason": "deleted"})
    ids["official"] = claim(figure="225", claimant="Prosecutor General", source="afp",
                            as_of="2022-01-15")  # fmt: skip
    return ids


def test_the_markdown_report_reads_like_an_editors_note(client: TestClient) -> None:
    ids = kazakhstan(client)
    text = client.get(f"/v1/events/{EVENT}/report", params={"format": "markdown"}).text
    lines = text.splitlines()
    assert lines[0] == "# Unrest in Kazakhstan, January 2022"
    assert re.fullmatch(r"As the ledger stood on \d{1,2} \w+ \d{4} at \d\d:\d\d UTC\.", lines[2])
    assert not re.search(r"\d\d:\d\d:\d\d|\.\d{6}|\d{4}-\d\d-\d\dT", text)  # no raw timestamps
    assert "## Deaths" in lines
    assert "## Deaths (security forces)" in lines
    assert "## Troops deployed" in lines
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", text.replace("\\_", "_")), "no snake_case"
    assert "- Range of the latest figures: at least 164" in lines
    assert "- Consensus: 225" in lines
    assert "- Range of the latest figures: between 7,200 and 8,000" in lines
    assert "to open" not in text
    assert "225 to 225" not in text
    assert (
        "| Kazakhstan Ministry of Health | at least 164 | 9 January 2022 | khabar24 | retracted |"
        in lines
    )
    assert "superseded" not in text  # a relay replaces nothing
    assert "replaced" not in text
    assert "[dpa](https://dpa.example/kz%20%281%29)" in text  # linked to the publication
    assert "“According to the authorities, almost 8,000 people were arrested.”" in text
    assert "Open conflicts: cites a retracted figure (1), retracted figure (1)." in lines
    assert any(line.startswith("- **Retracted figure** (open): ") for line in lines)
    assert ids


def test_a_claims_own_newer_figure_is_named_in_words(ledger: TestClient) -> None:
    ledger.post("/v1/claims", json=claim_body(figure="10", as_of="2023-02-06"))
    ledger.post("/v1/claims", json=claim_body(figure="about 30", as_of="2023-02-08"))
    text = ledger.get("/v1/events/quake/report", params={"format": "markdown"}).text
    assert "| active, replaced by about 30 of 8 February 2023 |" in text


def test_the_csv_report_adds_words_and_keeps_its_machine_columns(client: TestClient) -> None:
    ids = kazakhstan(client)
    text = client.get(f"/v1/events/{EVENT}/report", params={"format": "csv"}).text
    rows = {row["claim"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    tv, dpa = rows[ids["tv"]], rows[ids["dpa"]]
    assert tv["superseded_by"] == ids["dpa"]  # the machine field, as in JSON
    assert tv["status_text"] == "retracted"
    assert tv["event_title"] == "Unrest in Kazakhstan, January 2022"
    assert (tv["range_text"], tv["consensus_text"]) == ("at least 164", "225")
    assert rows[ids["arrests"]]["range_text"] == "between 7,200 and 8,000"
    assert "Cites a retracted figure (open): " in dpa["conflicts_text"]
    assert tv["as_of"] == "2022-01-09"


# --- the command line ---------------------------------------------------------------------------


def tally(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`tally ARGS` as scripts/tally runs it, from `cwd`, with no TALLY_* but `env`."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
    command = [str(ROOT / "scripts" / "tally"), *args]
    return subprocess.run(
        command, cwd=cwd, env=clean | (env or {}), capture_output=True, text=True, timeout=120
    )


def test_the_cli_and_the_server_read_the_same_settings_from_anywhere(tmp_path: Path) -> None:
    default = Settings.model_fields["database_url"].default
    assert default == f"sqlite:///{HOME / 'tally.db'}"  # not ./tally.db of the current folder
    assert HOME == ROOT
    assert Settings.model_config["env_file"] == (HOME / ".env", ".env")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / ".env").write_text(f"TALLY_DATABASE_URL=sqlite:///{tmp_path / 'from-env.db'}\n")
    result = tally("migrate", cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    assert f"{tmp_path / 'from-env.db'} (SQLite)" in result.stderr
    assert (tmp_path / "from-env.db").exists()


def test_the_cli_never_creates_an_empty_database_for_data(tmp_path: Path) -> None:
    env = {"TALLY_DATABASE_URL": f"sqlite:///{tmp_path / 'none.db'}"}
    for args in (["keys", "list"], ["keys", "create", "--name", "x", "--role", "reader"],
                 ["keys", "revoke", "1"]):  # fmt: skip
        result = tally(*args, cwd=tmp_path, env=env)
        assert result.returncode == 1, (args, result.stderr)
        assert f"there is no database at {tmp_path / 'none.db'}" in result.stderr
        assert "tally migrate" in result.stderr
    (tmp_path / "data.csv").write_text("event,metric\n")
    assert tally("import", "data.csv", cwd=tmp_path, env=env).returncode == 1
    assert not (tmp_path / "none.db").exists()
    (tmp_path / "empty.db").touch()
    env = {"TALLY_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = tally("keys", "list", cwd=tmp_path, env=env)
    assert result.returncode == 1
    assert "is empty: run `tally migrate` first" in result.stderr


def test_keys_are_created_listed_and_revoked_from_the_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    env = {"TALLY_DATABASE_URL": url}
    assert tally("migrate", cwd=tmp_path, env=env).returncode == 0
    created = tally("keys", "create", "--name", "desk", "--role", "editor", cwd=tmp_path, env=env)
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert re.fullmatch(r"tly_[\w-]{43}", key)  # stdout is the key alone
    assert f"database {tmp_path / 'keys.db'} (SQLite)" in created.stderr
    assert "Store it now: it is shown this once" in created.stderr
    listed = tally("keys", "list", cwd=tmp_path, env=env)
    assert listed.returncode == 0
    header, row = listed.stdout.splitlines()
    assert header.split() == ["id", "name", "role", "prefix", "created", "revoked"]
    assert row.split()[:4] == ["1", "desk", "editor", key[:10] + "…"]
    assert key not in listed.stdout
    revoked = tally("keys", "revoke", "1", cwd=tmp_path, env=env)
    assert revoked.returncode == 0
    assert "key 1 (desk, editor) is revoked" in revoked.stderr
    assert "UTC" in tally("keys", "list", cwd=tmp_path, env=env).stdout.splitlines()[1][-4:]
    missing = tally("keys", "revoke", "9", cwd=tmp_path, env=env)
    assert missing.returncode == 1
    assert "No API key with id 9." in missing.stderr
    from app.main import create_app

    with TestClient(create_app(Settings(database_url=url))) as client:
        answer = client.get("/v1/events", headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code == 401


def test_an_unreachable_postgresql_is_one_line_naming_it(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://tally:s3cret-pw@127.0.0.1:{free_port()}/tally"
    result = tally("migrate", cwd=tmp_path, env={"TALLY_DATABASE_URL": url})
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    line = result.stderr.strip()
    assert line.startswith("tally: cannot migrate postgresql+psycopg://tally:***@127.0.0.1:")
    assert "s3cret-pw" not in line
    assert "refused" in line.lower() or "failed" in line.lower()


@pytest.mark.slow
def test_serve_names_its_database_and_keeps_migrations_out_of_the_logs(tmp_path: Path) -> None:
    port = free_port()
    env = {"TALLY_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "TALLY_PORT": str(port)}
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "tally"), "serve"] if (ROOT / ".venv").exists()
            else [sys.executable, "-c", "from app.cli import main; main()", "serve"],
            cwd=tmp_path, env=clean | env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            for _ in range(3):
                assert httpx.get(url + "/readyz", timeout=10).status_code == 200
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
    output = log.read_text()
    assert f"tally: database {tmp_path / 'serve.db'} (SQLite)" in output
    assert "Context impl" not in output
    assert "Will assume" not in output


# --- scripts/serve: the admin key ---------------------------------------------------------------


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of scripts/serve in a folder whose `tally` only says it was started."""
    home = tmp_path / "tally"
    (home / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "serve", home / "scripts" / "serve")
    (home / "pyproject.toml").write_text("")
    (home / ".venv" / "bin").mkdir(parents=True)
    (home / ".venv" / "bin" / "python").symlink_to(sys.executable)
    fake = home / ".venv" / "bin" / "tally"
    fake.write_text('#!/bin/sh\necho started tally "$@"\n')
    fake.chmod(0o755)
    later = time.time() + 5
    os.utime(fake, (later, later))  # newer than pyproject.toml: nothing to install
    return home


def serve(home: Path) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TALLY_")}
    result = subprocess.run(
        [str(home / "scripts" / "serve")], env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_admin_key_is_printed_once_and_kept_for_its_owner_only(checkout: Path) -> None:
    first = serve(checkout)
    key_file = checkout / ".tally-admin-key"
    key = key_file.read_text().strip()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"Admin key: {key}" in first
    assert "Store it now: it is shown this once" in first
    assert "started tally serve" in first
    second = serve(checkout)
    assert key not in second
    assert f"Admin key: in {checkout}/.tally-admin-key" in second
    key_file.chmod(0o644)  # a key file left readable by an earlier version
    serve(checkout)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
