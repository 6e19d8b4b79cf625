"""The seed article, as API calls, produces exactly the conflicts it must (data/kazakhstan.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

# A copy of SPEC's examples/kazakhstan.json.
EXAMPLE = Path(__file__).parent / "data" / "kazakhstan.json"


def load_example() -> dict[str, Any]:
    return dict(json.loads(EXAMPLE.read_text(encoding="utf-8")))


def substitute(value: Any, refs: dict[str, str]) -> Any:
    """Replace `{ref}` in strings (and nested structures) by the id of that created claim."""
    if isinstance(value, str):
        return re.sub(r"\{(\w+)\}", lambda m: refs[m.group(1)], value)
    if isinstance(value, dict):
        return {k: substitute(v, refs) for k, v in value.items()}
    return value


def run_steps(client: TestClient, example: dict[str, Any]) -> dict[str, str]:
    """Perform every step, checking statuses and figures; return ref -> claim id."""
    refs: dict[str, str] = {}
    for step in example["steps"]:
        response = client.request(
            step["method"], substitute(step["path"], refs), json=substitute(step["body"], refs)
        )
        assert response.status_code == step["status"], (step, response.text)
        if "ref" in step:
            refs[step["ref"]] = response.json()["id"]
        for key, value in step.get("expect_figure", {}).items():
            assert response.json()["figure"][key] == value, (step["ref"], key)
    return refs


def open_conflicts(client: TestClient) -> list[dict[str, Any]]:
    response = client.get("/v1/conflicts", params={"status": "open", "limit": 1000})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_kazakhstan_example_end_to_end(client: TestClient) -> None:
    example = load_example()
    refs = run_steps(client, example)
    found = sorted((c["kind"], tuple(sorted(c["claims"]))) for c in open_conflicts(client))
    expected = sorted(
        (c["kind"], tuple(sorted(refs[r] for r in c["claims"])))
        for c in example["expect_open_conflicts"]
    )
    assert found == expected
    for pair in example["expect_no_conflict_between"]:
        ids = {refs[r] for r in pair["claims"]}
        assert not [c for c in open_conflicts(client) if ids <= set(c["claims"])], pair["why"]
    for ref, successor in example["expect_superseded_by"].items():
        claim = client.get(f"/v1/claims/{refs[ref]}").json()
        assert claim["superseded_by"] == refs[successor]


def test_kazakhstan_report(client: TestClient) -> None:
    example = load_example()
    run_steps(client, example)
    expected = example["expect_report"]
    report = client.get(f"/v1/events/{expected['event']}/report").json()
    group = expected["group"]
    matching = [
        g
        for g in report["groups"]
        if (g["metric"], g["population"], g["location"])
        == (group["metric"], group["population"], group["location"])
    ]
    assert len(matching) == 1
    assert matching[0]["range"] == group["range"]
    assert matching[0]["consensus"] == group["consensus"]
