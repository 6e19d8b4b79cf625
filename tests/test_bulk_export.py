"""Bulk import, streamed export and ClaimReview (SPEC §7)."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from app import models, repository
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from tests.conftest import ADMIN_KEY, TEMPLATE, claim_body, new_key, postgres_database, seed
from tests.ledger import add_claim

NDJSON = {"content-type": "application/x-ndjson"}
CSV = {"content-type": "text/csv"}


def ndjson(*rows: object) -> str:
    return "".join((row if isinstance(row, str) else json.dumps(row)) + "\n" for row in rows)


def post_bulk(
    client: TestClient, body: str | bytes, headers: dict[str, str] = NDJSON
) -> httpx.Response:
    return client.post("/v1/claims/bulk", content=body, headers=headers)


def results(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def stored_ids(client: TestClient) -> list[str]:
    page = client.get("/v1/claims", params={"limit": 1000}).json()
    return [claim["id"] for claim in page["items"]]


def faulty_fields(result: dict[str, Any]) -> set[str]:
    problem = result["problem"]
    assert problem["status"] == 422
    assert problem["title"]
    assert problem["type"].startswith("https://")
    assert problem["detail"]
    return {error["field"] for error in problem["errors"]}


# --- bulk import ---------------------------------------------------------------------------


def test_ndjson_records_exactly_the_good_rows(ledger: TestClient) -> None:
    missing_claimant = {k: v for k, v in claim_body().items() if k != "claimant"}
    body = ndjson(
        claim_body(figure="at least 10", quote="at least 10 died"),
        '{"event": "quake", ',
        claim_body(event="no-such-event"),
        claim_body(figure="a great many"),
        missing_claimant,
        "[1, 2]",
        "",
        claim_body(figure={"value": 12, "qualifier": "at_least"}, claimant="Red Crescent"),
    )
    rows = results(post_bulk(ledger, body))
    assert [(r["row"], r["status"]) for r in rows] == [
        (1, 201), (2, 422), (3, 422), (4, 422), (5, 422), (6, 422), (7, 201)
    ]  # fmt: skip
    assert [faulty_fields(r) for r in rows if r["status"] == 422] == [
        {"row"}, {"event"}, {"figure"}, {"claimant"}, {"row"}
    ]  # fmt: skip
    good = [r["id"] for r in rows if r["status"] == 201]
    assert stored_ids(ledger) == good
    first = ledger.get(f"/v1/claims/{good[0]}").json()
    assert (first["figure"]["low"], first["quote"]) == (10, "at least 10 died")
    [revision] = ledger.get(f"/v1/claims/{good[0]}/revisions").json()["items"]
    assert revision["version"] == 1
    assert revision["changes"]["figure"]["text"] == "at least 10"
    assert revision["claim"] == {**first, "superseded_by": None}


def test_csv_records_exactly_the_good_rows(ledger: TestClient) -> None:
    body = (
        "event,metric,population,figure,claimant,source,as_of,quote,location\r\n"
        'quake,deaths,,"1,200",Civil Defence,wire,2023-02-07,"He said: ""1,200"",\nthen left",\r\n'
        "quake,nope,,5,Civil Defence,wire,2023-02-07,,\r\n"
        "quake,deaths,,a great many,Civil Defence,wire,2023-02-07,,\r\n"
        "quake,deaths,,5,,wire,2023-02-07,,\r\n"
        "quake,deaths,,5,Civil Defence,wire,not-a-date,,\r\n"
        "quake,deaths,,5,Civil Defence,wire,2023-02-07,,,one cell too many\r\n"
        "\r\n"
        "quake,injuries,civilians,hundreds,Red Crescent,wire,2023-02-07,,Antakya\r\n"
    )
    rows = results(post_bulk(ledger, body, CSV))
    assert [r["status"] for r in rows] == [201, 422, 422, 422, 422, 422, 201]
    assert [r["row"] for r in rows] == list(range(1, 8))
    assert [faulty_fields(r) for r in rows if r["status"] == 422] == [
        {"metric"}, {"figure"}, {"claimant"}, {"as_of"}, {"row"}
    ]  # fmt: skip
    first, last = (ledger.get(f"/v1/claims/{rows[i]['id']}").json() for i in (0, 6))
    assert first["figure"]["low"] == 1200
    assert first["quote"] == 'He said: "1,200",\nthen left'
    assert (first["population"], first["location"]) == ("all", None)  # empty cells: omitted
    assert (last["population"], last["location"], last["metric"]) == (
        "civilians", "Antakya", "injuries"
    )  # fmt: skip
    assert stored_ids(ledger) == [rows[0]["id"], rows[6]["id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            "event,metric,figure,claimant,source,claimaint\r\nquake,deaths,5,A,wire,B\r\n",
            "claimaint",
        ),
        ("event,event,metric\r\nquake,quake,deaths\r\n", "body"),
        ("", "body"),
        ("event,metric,figure,claimant,source\r\n", "body"),
    ],
)
def test_a_bad_csv_file_is_refused_whole(ledger: TestClient, body: str, field: str) -> None:
    response = post_bulk(ledger, body, CSV)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {e["field"] for e in response.json()["errors"]}
    assert stored_ids(ledger) == []


def test_text_that_is_not_utf8_is_refused(ledger: TestClient) -> None:
    response = post_bulk(ledger, b'{"event": "\xff"}\n')
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def kazakhstan_rows(event: str) -> list[dict[str, object]]:
    """Rows that conflict among themselves: a downward revision, a mismatch, a part too big."""
    return [
        claim_body(
            event=event, claimant="Ministry of Health", figure="at least 164", as_of="2022-01-09"
        ),
        claim_body(event=event, claimant="ministry of  health", figure="100", as_of="2022-01-10"),
        claim_body(event=event, claimant="Red Crescent", figure="50", as_of="2022-01-09"),
        claim_body(
            event=event, claimant="UNICEF", figure="300", population="children", as_of="2022-01-09"
        ),
        claim_body(event=event, claimant="Police", figure="about 120", as_of="2022-01-09"),
        claim_body(event=event, figure="oops"),
    ]


def conflict_shapes(client: TestClient, event: str, ids: list[str | None]) -> set[tuple[Any, ...]]:
    """The event's conflicts, with claim ids replaced by their row numbers."""
    row_of = {claim_id: n for n, claim_id in enumerate(ids, start=1)}
    items = client.get("/v1/conflicts", params={"event": event, "limit": 1000}).json()["items"]
    return {
        (c["kind"], tuple(row_of[i] for i in c["claims"]), c["detail"], json.dumps(c["gap"]))
        for c in items
    }


def test_conflicts_across_the_rows_of_one_file_equal_posting_one_by_one(
    ledger: TestClient,
) -> None:
    for slug in ("bulk", "single"):
        assert ledger.post("/v1/events", json={"slug": slug, "title": slug}).status_code == 201
    bulk_ids = [r.get("id") for r in results(post_bulk(ledger, ndjson(*kazakhstan_rows("bulk"))))]
    single_ids = []
    for body in kazakhstan_rows("single"):
        response = ledger.post("/v1/claims", json=body)
        single_ids.append(response.json()["id"] if response.status_code == 201 else None)
    assert bulk_ids[-1] is None
    assert single_ids[-1] is None
    found = conflict_shapes(ledger, "bulk", bulk_ids)
    assert {(kind, rows) for kind, rows, *_ in found} == {
        ("downward_revision", (1, 2)),
        ("value_mismatch", (1, 3)),
        ("value_mismatch", (1, 5)),
        ("value_mismatch", (3, 5)),
        ("value_mismatch", (5, 2)),  # about 120 on the 9th, then 100 on the 10th
        ("part_exceeds_whole", (4, 2)),
        ("part_exceeds_whole", (4, 3)),
        ("part_exceeds_whole", (4, 5)),
    }
    assert found == conflict_shapes(ledger, "single", single_ids)
    superseded = [ledger.get(f"/v1/claims/{i}").json()["superseded_by"] for i in bulk_ids[:2]]
    assert superseded == [bulk_ids[1], None]


def test_conflicts_are_found_in_every_group_of_a_large_file(ledger: TestClient) -> None:
    groups = repository.claims.SCOPE_GROUPS + 8  # more groups than one detection query reads
    rows = [
        claim_body(location=f"District {n}", figure=figure, claimant=claimant)
        for n in range(groups)
        for figure, claimant in (("10", "Police"), ("20", "Medics"))
    ]
    assert {r["status"] for r in results(post_bulk(ledger, ndjson(*rows)))} == {201}
    conflicts = ledger.get("/v1/conflicts", params={"limit": 1000}).json()["items"]
    assert sorted((c["kind"], c["location"]) for c in conflicts) == sorted(
        ("value_mismatch", f"District {n}") for n in range(groups)
    )


def limited_client(settings: Settings, **limits: int) -> TestClient:
    app = create_app(settings.model_copy(update=limits))
    return TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"})


def test_size_limit_is_a_clear_413(settings: Settings) -> None:
    with limited_client(settings, bulk_max_bytes=2048) as client:
        seed(client)
        rows = ndjson(*[claim_body(note="x" * 100) for _ in range(20)])
        assert len(rows) > 2048
        response = post_bulk(client, rows)
        assert response.status_code == 413
        assert response.headers["content-type"] == "application/problem+json"
        assert "2048 bytes" in response.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
            yield from (rows[i : i + 500].encode() for i in range(0, len(rows), 500))

        assert post_bulk(client, chunks()).status_code == 413  # type: ignore[arg-type]
        assert stored_ids(client) == []
        assert len(results(post_bulk(client, ndjson(*[claim_body() for _ in range(5)])))) == 5


def test_row_limit_is_a_413(settings: Settings) -> None:
    with limited_client(settings, bulk_max_rows=3) as client:
        seed(client)
        response = post_bulk(client, ndjson(*[claim_body() for _ in range(4)]))
        assert response.status_code == 413
        assert "at most 3" in response.json()["detail"]
        assert stored_ids(client) == []
        assert len(results(post_bulk(client, ndjson(*[claim_body() for _ in range(3)])))) == 3


def test_a_file_of_millions_of_tiny_rows_is_refused_without_reading_them_all(
    settings: Settings,
) -> None:
    """Rows are counted as they are read: 2 million `{}` lines (4 MB) are refused at row
    5,001 with a small, bounded memory, not after building two million rejections."""
    with limited_client(settings, bulk_max_rows=5_000) as client:
        seed(client)
        tracemalloc.start()
        response = post_bulk(client, b"{}\n" * 2_000_000)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert response.status_code == 413
    assert "more than 5000 rows" in response.json()["detail"]
    assert peak < 100 * 2**20  # the body and its text; two million rejections took gigabytes


def test_a_large_file_is_recorded_in_transactions_of_bounded_size(
    ledger: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import bulk, claims

    sizes: list[int] = []
    real = claims.record_claims

    def record_claims(session: Session, items: list[Any], tolerance: float) -> Any:
        sizes.append(len(items))
        return real(session, items, tolerance)

    monkeypatch.setattr(claims, "record_claims", record_claims)
    monkeypatch.setattr(bulk, "BATCH_ROWS", 40)
    rows = [claim_body(claimant=f"Office {n}", figure=str(n + 1)) for n in range(100)]
    outcomes = results(post_bulk(ledger, ndjson(*rows)))
    assert sizes == [40, 40, 20]
    assert [o["row"] for o in outcomes] == list(range(1, 101))
    assert all(o["status"] == 201 for o in outcomes)


def test_a_bulk_import_that_doubles_the_claims_takes_their_statistics(
    postgres_base: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL plans claims' statements by the table's statistics; a new database has none
    until autovacuum comes by, so an import that more than doubles the table takes them, and
    one that adds little to a large table leaves that to autovacuum."""
    if postgres_base is None:
        pytest.skip("PostgreSQL server binaries not found (set TALLY_REQUIRE_POSTGRES=1 to fail)")
    from app.services import bulk

    monkeypatch.setattr(bulk, "BATCH_ROWS", 20)
    with postgres_database(postgres_base, TEMPLATE) as url:
        settings = Settings(database_url=url, admin_key=ADMIN_KEY, run_worker=False)
        engine = make_engine(settings)
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}

        def known_claims() -> float:
            with engine.connect() as conn:
                query = text("SELECT reltuples FROM pg_class WHERE oid = 'claim'::regclass")
                return float(conn.execute(query).scalar_one())

        with TestClient(create_app(settings), headers=headers) as client:
            seed(client)
            assert known_claims() <= 0  # never analyzed (-1), or empty
            rows = [claim_body(claimant=f"Office {n}", figure=str(n + 1)) for n in range(60)]
            assert all(r["status"] == 201 for r in results(post_bulk(client, ndjson(*rows))))
            assert known_claims() == 60
            more = [claim_body(claimant=f"Bureau {n}", figure=str(n + 1)) for n in range(10)]
            assert all(r["status"] == 201 for r in results(post_bulk(client, ndjson(*more))))
            assert known_claims() == 60  # 10 more to 60: autovacuum's business
        engine.dispose()


@pytest.mark.parametrize("media_type", ["application/json", "text/plain", "multipart/form-data"])
def test_other_media_types_are_415(ledger: TestClient, media_type: str) -> None:
    response = post_bulk(ledger, ndjson(claim_body()), {"content-type": media_type})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert stored_ids(ledger) == []


def test_editors_import_readers_cannot(ledger: TestClient) -> None:
    body = ndjson(claim_body())
    assert post_bulk(ledger, body, {**NDJSON, **new_key(ledger, "reader")}).status_code == 403
    assert post_bulk(ledger, body, {**NDJSON, "Authorization": ""}).status_code == 401
    [row] = results(post_bulk(ledger, body, {**NDJSON, **new_key(ledger, "editor")}))
    [revision] = ledger.get(f"/v1/claims/{row['id']}/revisions").json()["items"]
    assert revision["actor"] == "editor-key"


def test_a_retried_import_is_recorded_once(ledger: TestClient) -> None:
    headers = {**NDJSON, "Idempotency-Key": "import-1"}
    first = post_bulk(ledger, ndjson(claim_body(), claim_body(figure="x")), headers)
    again = post_bulk(ledger, ndjson(claim_body(), claim_body(figure="x")), headers)
    assert again.json() == first.json()
    assert len(stored_ids(ledger)) == 1


def test_tally_import_command(
    ledger: TestClient, settings: Settings, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from app import cli
    from app.services import bulk

    file = tmp_path / "claims.ndjson"
    file.write_text(ndjson(*kazakhstan_rows("quake")))
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(bulk, "BATCH_ROWS", 4)  # two batches
    outcome = CliRunner().invoke(cli.cli, ["import", str(file)])
    assert outcome.exit_code == 1, outcome.output
    assert "5 rows accepted, 1 rejected." in outcome.output
    assert "row 6: figure: " in outcome.output
    assert len(stored_ids(ledger)) == 5
    kinds = [c["kind"] for c in ledger.get("/v1/conflicts").json()["items"]]
    assert sorted(kinds).count("part_exceeds_whole") == 3


# --- export --------------------------------------------------------------------------------


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_ndjson_export_equals_the_claims_list(ledger: TestClient) -> None:
    results(post_bulk(ledger, ndjson(*kazakhstan_rows("quake"))))
    listed = ledger.get("/v1/claims", params={"limit": 1000}).json()["items"]
    response = ledger.get("/v1/claims/export", params={"format": "ndjson"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert [json.loads(line) for line in response.text.splitlines()] == listed


def test_csv_export_columns_and_filters(ledger: TestClient) -> None:
    rows = results(post_bulk(ledger, ndjson(*kazakhstan_rows("quake"))))
    ledger.post(f"/v1/claims/{rows[2]['id']}/retract", json={"reason": "deleted"})
    response = ledger.get("/v1/claims/export", params={"format": "csv"})
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    exported = read_csv(response.text)
    assert [r["id"] for r in exported] == [r["id"] for r in rows[:5]]
    first = exported[0]
    assert (first["figure"], first["low"], first["high"], first["qualifier"]) == (
        "at least 164", "164", "", "at_least"
    )  # fmt: skip
    assert first["superseded_by"] == rows[1]["id"]
    assert exported[2]["retraction_reason"] == "deleted"

    def ids(**filters: str) -> list[str]:
        got = ledger.get("/v1/claims/export", params={"format": "csv", **filters})
        assert got.status_code == 200, got.text
        return [r["id"] for r in read_csv(got.text)]

    assert ids(claimant="MINISTRY OF HEALTH") == [rows[0]["id"], rows[1]["id"]]
    assert ids(status="retracted") == [rows[2]["id"]]
    assert ids(population="children", metric="deaths", source="wire") == [rows[3]["id"]]
    assert ids(event="quake", status="active") == [rows[i]["id"] for i in (0, 1, 3, 4)]
    unknown = ledger.get("/v1/claims/export", params={"event": "nope"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "event"
    assert ledger.get("/v1/claims/export", params={"format": "xlsx"}).status_code == 422


def test_csv_export_neutralises_formulas(ledger: TestClient) -> None:
    formula = '=HYPERLINK("https://evil.example","click")'
    body = claim_body(claimant=formula, note="+1 from the desk", quote="@SUM(A1)")
    results(post_bulk(ledger, ndjson(body)))
    [row] = read_csv(ledger.get("/v1/claims/export", params={"format": "csv"}).text)
    assert row["claimant"] == "'" + formula
    assert (row["note"], row["quote"]) == ("'+1 from the desk", "'@SUM(A1)")
    line = ledger.get("/v1/claims/export", params={"format": "ndjson"}).text
    assert json.loads(line)["claimant"] == formula  # JSON needs no such protection


def test_export_needs_a_reader_key(ledger: TestClient) -> None:
    assert ledger.get("/v1/claims/export", headers={"Authorization": ""}).status_code == 401
    assert ledger.get("/v1/claims/export", headers=new_key(ledger, "reader")).status_code == 200


def insert_claims(database_url: str, count: int) -> None:
    """Many claims straight into the tables (conflict detection is not what is measured)."""
    engine = make_engine(Settings(database_url=database_url))
    now = datetime.now(UTC)
    with Session(engine) as session:
        ids = {
            table: session.scalar(select(table.id))
            for table in (models.Event, models.Metric, models.Population, models.Source)
        }
        rows = [
            {
                "event_id": ids[models.Event],
                "metric_id": ids[models.Metric],
                "population_id": ids[models.Population],
                "source_id": ids[models.Source],
                "location_key": "",
                "figure_text": str(n),
                "low": n,
                "high": n,
                "point": n,
                "qualifier": "exact",
                "as_of": date(2023, 2, 7),
                "claimant": f"Office {n // 10}",
                "claimant_key": f"office {n // 10}",
                "quote": f"{n} " + "q" * 2000,
                "status": "active",
                "disputed": False,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(count)
        ]
        session.execute(insert(models.Claim), rows)
        session.commit()
    engine.dispose()


def test_export_streams_in_bounded_memory(
    ledger: TestClient, live_url: str, database_url: str
) -> None:
    count = 12_000
    insert_claims(database_url, count)
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=live_url, headers=auth, timeout=120) as http:
        http.get("/v1/claims/export", params={"format": "csv", "claimant": "office 1"})  # warm up
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            size, lines, last_id = 0, 0, -1
            with http.stream("GET", "/v1/claims/export", params={"format": "ndjson"}) as response:
                assert response.status_code == 200
                for line in response.iter_lines():
                    size += len(line) + 1
                    lines += 1
                    claim_id = int(json.loads(line)["id"])
                    assert claim_id > last_id
                    last_id = claim_id
            peak = tracemalloc.get_traced_memory()[1] - baseline
        finally:
            tracemalloc.stop()
    assert lines == count
    assert size > 20_000_000
    assert peak < size / 5, f"peak {peak:,} bytes while streaming {size:,}"


# --- ClaimReview ---------------------------------------------------------------------------


def assert_fact_check_markup(doc: dict[str, Any]) -> None:
    """The properties Google's Fact Check Tools require or recommend, with their types."""
    assert doc["@context"] == "https://schema.org"
    assert doc["@type"] == "ClaimReview"
    assert isinstance(doc["claimReviewed"], str)
    assert doc["claimReviewed"]
    assert doc["url"].startswith("http")
    assert doc["author"]["@type"] == "Organization"
    assert doc["author"]["name"]
    datetime.fromisoformat(doc["datePublished"])
    rating = doc["reviewRating"]
    assert rating["@type"] == "Rating"
    assert rating["alternateName"]
    assert rating["worstRating"] <= rating["ratingValue"] <= rating["bestRating"]
    item = doc["itemReviewed"]
    assert item["@type"] == "Claim"
    assert item["author"]["@type"] in {"Organization", "Person"}
    assert item["author"]["name"]
    date.fromisoformat(item["datePublished"][:10])


def review(client: TestClient, claim_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/claims/{claim_id}/claimreview")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/ld+json"
    doc = response.json()
    assert_fact_check_markup(doc)
    return dict(doc)


def add(client: TestClient, **fields: object) -> str:
    return str(add_claim(client, **fields)["id"])


def test_claimreview_of_an_active_claim(ledger: TestClient) -> None:
    claim_id = add(
        ledger,
        claimant="Kazakhstan Ministry of Health",
        figure="at least 164",
        quote="At least 164 people were killed",
        url="https://khabar.example/news/1",
        published_at="2022-01-09T10:00:00Z",
    )
    doc = review(ledger, claim_id)
    assert doc["claimReviewed"] == "At least 164 people were killed"
    assert doc["url"].endswith(f"/v1/claims/{claim_id}")
    assert doc["author"]["name"] == "Tally"
    assert doc["reviewRating"]["alternateName"] == "No conflict found"
    assert doc["itemReviewed"] == {
        "@type": "Claim",
        "author": {"@type": "Organization", "name": "Kazakhstan Ministry of Health"},
        "datePublished": "2022-01-09T10:00:00+00:00",
        "appearance": {
            "@type": "CreativeWork",
            "url": "https://khabar.example/news/1",
            "publisher": {"@type": "Organization", "name": "Wire"},
        },
    }
    person = review(ledger, add(ledger, claimant="Kassym-Jomart Tokayev", figure="16"))
    assert person["itemReviewed"]["author"] == {"@type": "Person", "name": "Kassym-Jomart Tokayev"}
    assert person["claimReviewed"] == "16 deaths, as of 2023-02-07"  # no quote: the figure
    assert "appearance" not in person["itemReviewed"]


def test_claimreview_of_retracted_and_disputed_claims(ledger: TestClient) -> None:
    retracted, disputed = add(ledger), add(ledger, claimant="Red Crescent", metric="injuries")
    ledger.post(f"/v1/claims/{retracted}/retract", json={"reason": "post deleted"})
    body = {"by": "Doctors' union", "reason": "hospital lists show more"}
    dispute = ledger.post(f"/v1/claims/{disputed}/disputes", json=body).json()
    rating = review(ledger, retracted)["reviewRating"]
    assert rating["alternateName"] == "Retracted by the source"
    assert "post deleted" in rating["ratingExplanation"]
    rating = review(ledger, disputed)["reviewRating"]
    assert rating["alternateName"] == "Disputed"
    assert "hospital lists show more" in rating["ratingExplanation"]
    ledger.post(f"/v1/claims/{disputed}/disputes/{dispute['id']}/close", json={})
    assert review(ledger, disputed)["reviewRating"]["alternateName"] == "No conflict found"


def test_claimreview_counts_the_other_figures_in_open_value_conflicts(ledger: TestClient) -> None:
    high = add(ledger, claimant="Ministry", figure="at least 500")
    low = add(ledger, claimant="Police", figure="100")
    lower = add(ledger, claimant="Governor", figure="fewer than 50")
    add(ledger, claimant="Hospital", figure="between 400 and 600")  # no conflict with `high`
    rating = review(ledger, high)["reviewRating"]
    assert rating["alternateName"] == "Conflicts with 2 other figures"
    assert "Police" in rating["ratingExplanation"]
    assert "Governor" in rating["ratingExplanation"]
    conflict = next(
        c for c in ledger.get("/v1/conflicts").json()["items"] if set(c["claims"]) == {high, lower}
    )
    ledger.post(f"/v1/conflicts/{conflict['id']}/resolve", json={"note": "checked"})
    assert review(ledger, high)["reviewRating"]["alternateName"] == "Conflicts with 1 other figure"
    before = review(ledger, high)["datePublished"]
    ledger.post(f"/v1/claims/{low}/retract", json={"reason": "withdrawn"})
    after = review(ledger, high)
    assert after["reviewRating"]["alternateName"] == "No conflict found"
    assert datetime.fromisoformat(after["datePublished"]) > datetime.fromisoformat(before)


def test_claimreview_of_an_unknown_claim_and_without_a_key(ledger: TestClient) -> None:
    assert ledger.get("/v1/claims/999999/claimreview").status_code == 404
    claim_id = add(ledger)
    assert (
        ledger.get(f"/v1/claims/{claim_id}/claimreview", headers={"Authorization": ""}).status_code
        == 401
    )
    assert (
        ledger.get(
            f"/v1/claims/{claim_id}/claimreview", headers=new_key(ledger, "reader")
        ).status_code
        == 200
    )
