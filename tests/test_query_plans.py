"""Writes and reads by index: no statement of a write, of a read of one event or one claim,
or of the desk's pages scans the claim table, whose size is the ledger's (SQLite's query
plans, which assume large tables when they have no statistics)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from app.config import Settings
from app.domain.model import utcnow
from app.main import create_app
from app.repository.checks import park_unwatched
from tests.conftest import ADMIN_KEY, claim_body, seed
from tests.test_desk import sign_in

FULL_SCAN = re.compile(r"^SCAN claim\b(?!_)")  # the table or one of its indexes, whole


def test_no_statement_of_a_write_or_a_read_scans_the_claim_table(
    tmp_path: Path, sqlite_template: Path
) -> None:
    shutil.copy(sqlite_template, tmp_path / "tally.db")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'tally.db'}", admin_key=ADMIN_KEY)
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    statements: list[tuple[str, Any]] = []
    with TestClient(app, headers=headers) as client:
        seed(client)
        engine = app.state.sessionmaker.kw["bind"]

        @event.listens_for(engine, "before_cursor_execute")
        def keep(_c: Any, _cur: Any, statement: str, params: Any, _x: Any, many: bool) -> None:
            if not many:
                statements.append((statement, params))

        first = client.post("/v1/claims", json=claim_body(url="https://example.org/a"))
        assert first.status_code == 201, first.text
        lines = [
            claim_body(figure=str(10 + n), claimant=f"Office {n % 3}", as_of=f"2023-02-{n + 1:02d}")
            for n in range(20)
        ]
        lines.append(claim_body(figure="12", claimant="Daily", cites=first.json()["id"]))
        bulk = client.post(
            "/v1/claims/bulk",
            content="".join(json.dumps(line) + "\n" for line in lines),
            headers={"Content-Type": "application/x-ndjson"},
        )
        assert bulk.status_code == 200, bulk.text
        claim = f"/v1/claims/{first.json()['id']}"
        patched = client.patch(
            claim,
            json={"figure": "at least 11", "reason": "Corrected"},
            headers={"If-Match": first.headers["ETag"]},
        )
        assert patched.status_code == 200, patched.text
        assert (
            client.post(
                f"{claim}/disputes", json={"by": "A wire", "reason": "No count"}
            ).status_code
            == 201
        )
        assert client.post(f"{claim}/retract", json={"reason": "Withdrawn"}).status_code == 200
        with app.state.sessionmaker() as session:
            park_unwatched(session, utcnow() + timedelta(days=3650))
            session.commit()
        reads = [
            "/v1/claims?limit=5",  # a page of claims loads their chains of succession
            "/v1/claims?event=quake",
            "/v1/claims/export?event=quake",
            "/v1/events/quake/report",
            "/v1/events/quake/report?format=csv",
            "/v1/conflicts?event=quake",
            claim,
            f"{claim}/revisions",
            "/v1/changes",
        ]
        for path in reads:
            assert client.get(path).status_code == 200, path
        sign_in(client, ADMIN_KEY)  # the desk's pages: the events list by latest activity
        for path in ("/", "/events/quake", "/conflicts", f"/claims/{first.json()['id']}"):
            assert client.get(path).status_code == 200, path

        scans = []
        with engine.connect() as conn:
            for statement, params in statements:
                if (
                    not statement.lstrip()
                    .upper()
                    .startswith(("SELECT", "WITH", "UPDATE", "INSERT"))
                ):
                    continue
                plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
                scans += [(row[3], statement) for row in plan if FULL_SCAN.match(row[3])]
    assert len(statements) > 50  # the writes above were seen
    assert scans == []
