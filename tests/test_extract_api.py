"""POST /v1/extract and `tally extract`: candidates from an article, and nothing stored."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.domain.figures import parse_figure
from app.extraction import Candidate
from app.schemas import MAX_ARTICLE_CHARS, ExtractBody
from app.services.extraction import propose
from tests.conftest import claim_body, new_key, seed

# SPEC's seed article retold in our own words, with the same figures and attributions.
ARTICLE = Path(__file__).parent / "data" / "article.txt"
PARAGRAPH = "At least 12 people were killed on Sunday, police said. Another 40 were hurt."


def extract(client: TestClient, **body: Any) -> list[dict[str, Any]]:
    response = client.post("/v1/extract", json=body)
    assert response.status_code == 200, response.text
    return list(response.json()["candidates"])


def assert_problem(response: Any, status: int, field: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert field in {error["field"] for error in response.json()["errors"]}


def test_the_kazakhstan_article_end_to_end(client: TestClient) -> None:
    article = ARTICLE.read_text(encoding="utf-8")
    found = extract(client, text=article, published_at="2022-01-10T18:00:00+06:00")
    summary = [
        (c["figure"]["text"], c["metric"], c["population"], c["claimant"], c["as_of"])
        for c in found
    ]
    assert summary == [
        ("2,500", "troops_deployed", "all", None, "2022-01-10"),
        ("almost 8,000", "arrests", "all", "the authorities", "2022-01-10"),
        ("at least 164", "deaths", "all", "the Ministry of Health", "2022-01-09"),
        ("Hundreds", "injuries", "all", "the Ministry of Health", "2022-01-10"),
        ("16", "deaths", "security_forces", "Tokayev", "2022-01-10"),
    ]
    assert found[1]["figure"] == {
        "text": "almost 8,000", "low": 7200, "high": 8000, "point": 8000, "qualifier": "almost"
    }  # fmt: skip
    assert (found[3]["figure"]["low"], found[3]["figure"]["high"]) == (200, 999)  # hundreds
    for candidate in found:
        start, end = candidate["span"]
        assert article[start:end] == candidate["quote"]
        assert 0 < candidate["confidence"] <= 1
        assert candidate["why"]


def test_no_dates_ages_years_percentages_money_or_phone_numbers(client: TestClient) -> None:
    text = (
        "On January 9, 2022, at 10:30, prices were up 5% and 7 per cent. The 35-year-old man, "
        "aged 35, paid $5 million and 3,000 euros. Call +7 727 123 4567. In 1999, 2021 and 2022 "
        "nothing happened on the 22nd."
    )
    assert extract(client, text=text) == []


def test_event_source_and_publication_are_echoed(client: TestClient) -> None:
    seed(client)
    found = extract(
        client, text=PARAGRAPH, event="quake", source="wire", published_at="2023-02-07T09:00:00Z"
    )
    assert [c["figure"]["text"] for c in found] == ["At least 12", "40"]
    for candidate in found:
        assert (candidate["event"], candidate["source"]) == ("quake", "wire")
        assert candidate["published_at"] == "2023-02-07T09:00:00Z"
    assert [c["as_of"] for c in found] == ["2023-02-05", "2023-02-07"]  # Sunday; published


def test_a_checked_candidate_posts_as_a_claim(client: TestClient) -> None:
    seed(client)
    candidate = extract(client, text=PARAGRAPH, event="quake", source="wire")[0]
    fields = ("event", "source", "metric", "population", "claimant", "as_of", "quote")
    body = {name: candidate[name] for name in fields} | {"figure": candidate["figure"]["text"]}
    response = client.post("/v1/claims", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["figure"] == candidate["figure"]


@pytest.mark.parametrize("field", ["event", "source"])
def test_an_unknown_event_or_source_is_named(client: TestClient, field: str) -> None:
    seed(client)
    response = client.post("/v1/extract", json={"text": PARAGRAPH, field: "nowhere"})
    assert_problem(response, 422, field)
    assert "nowhere" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"text": ""},
        {"text": "  \n\t "},
        {"text": 164},
        {"text": ["At least 12 people died."]},
        {"text": None},
        {},
        {"text": PARAGRAPH, "published_at": "last week"},
        {"text": PARAGRAPH, "event": "Not A Slug"},
    ],
)
def test_invalid_input_is_a_422_naming_the_field(client: TestClient, body: dict[str, Any]) -> None:
    field = next((name for name in body if name != "text"), "text")
    assert_problem(client.post("/v1/extract", json=body), 422, field)


def test_unknown_fields_are_refused(client: TestClient) -> None:
    response = client.post("/v1/extract", json={"text": PARAGRAPH, "language": "en"})
    assert_problem(response, 422, "language")


def test_a_text_over_the_limit_is_refused(client: TestClient) -> None:
    too_long = "x" * (MAX_ARTICLE_CHARS + 1)
    assert_problem(client.post("/v1/extract", json={"text": too_long}), 422, "text")
    at_limit = (PARAGRAPH + " ") * (MAX_ARTICLE_CHARS // (len(PARAGRAPH) + 1))
    assert len(extract(client, text=at_limit)) > 100


def test_a_body_over_the_request_limit_is_a_413(client: TestClient) -> None:
    huge = "x" * (client.app.state.settings.max_body_bytes + 1)  # type: ignore[attr-defined]
    assert_problem(client.post("/v1/extract", json={"text": huge}), 413, None)


def test_a_key_is_required_and_a_reader_is_enough(client: TestClient) -> None:
    reader = new_key(client, "reader")
    anonymous = client.post("/v1/extract", json={"text": PARAGRAPH}, headers={"Authorization": ""})
    assert_problem(anonymous, 401, None)
    response = client.post("/v1/extract", json={"text": PARAGRAPH}, headers=reader)
    assert response.status_code == 200, response.text


def test_extraction_stores_nothing(client: TestClient) -> None:
    seed(client)
    assert client.post("/v1/claims", json=claim_body()).status_code == 201
    before = client.get("/v1/claims", params={"limit": 1000}).json()["items"]
    article = ARTICLE.read_text(encoding="utf-8")
    assert extract(client, text=article, event="quake", source="wire")
    assert client.get("/v1/claims", params={"limit": 1000}).json()["items"] == before
    assert client.get("/v1/conflicts").json()["items"] == []


def test_another_extractor_can_replace_the_rules() -> None:
    def by_hand(
        text: str, published: date | None = None, tolerance: float = 0.1
    ) -> list[Candidate]:
        figure = parse_figure("about 40", tolerance)
        span = (0, len(text))
        return [Candidate(figure, "deaths", "all", "a reader", published, text, span, 0.5, "read")]

    body = ExtractBody(text="Anything at all.", published_at="2022-01-10T00:00:00Z")
    found = propose(body, 0.1, by_hand).candidates
    assert [(c.figure.text, c.claimant, c.as_of) for c in found] == [
        ("about 40", "a reader", date(2022, 1, 10))
    ]


# ---------------------------------------------------------------- the CLI


def test_cli_prints_the_candidates_as_json(tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["extract", str(article), "--json", "--published-at", "2022-01-10"]
    )
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)["candidates"]
    assert [(c["figure"]["text"], c["metric"]) for c in found] == [
        ("2,500", "troops_deployed"),
        ("almost 8,000", "arrests"),
        ("at least 164", "deaths"),
        ("Hundreds", "injuries"),
        ("16", "deaths"),
    ]
    assert found[2]["as_of"] == "2022-01-09"


def test_cli_prints_a_table_by_default(tmp_path: Path) -> None:
    article = tmp_path / "article.txt"
    article.write_text(PARAGRAPH, encoding="utf-8")
    result = CliRunner().invoke(cli, ["extract", str(article)])
    assert result.exit_code == 0, result.output
    assert "2 candidate claims" in result.stdout
    assert "police" in result.stdout
    assert "deaths" in result.stdout
    assert "injuries" in result.stdout
    assert PARAGRAPH.split(". ")[0] in result.stdout.replace("\n", " ")


def test_cli_reads_stdin_and_says_when_there_is_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["extract", "-"], input="Prices rose 5% in 2022.")
    assert result.exit_code == 0, result.output
    assert "No candidate claims found." in result.stdout


@pytest.mark.parametrize(("name", "content"), [("missing.txt", None), ("empty.txt", " \n")])
def test_cli_refuses_a_missing_or_empty_file(
    tmp_path: Path, name: str, content: str | None
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["extract", str(path)])
    assert result.exit_code == 2
    assert f"tally: {path}" in result.stderr
