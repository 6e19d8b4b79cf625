"""Share links (SPEC §12), used as Google Sheets' IMPORTDATA or Datawrapper would: a plain
HTTP client, no Authorization header, against real `tally serve` processes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app import models
from app.config import Settings
from app.db import make_engine, make_sessionmaker
from tests.conftest import ADMIN_KEY, claim_body, new_key, seed
from tests.pgcluster import free_port
from tests.test_durability import wait_ready

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
CSV_REPORT = "/v1/events/quake/report?format=csv"


@contextmanager
def tally_serve(database_url: str, log: Path, level: str = "debug") -> Iterator[str]:
    """`tally serve` in its own process, logging at `level` into `log`; yields its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "TALLY_DATABASE_URL": database_url,
        "TALLY_ADMIN_KEY": ADMIN_KEY,
        "TALLY_PUBLIC_URL": url,
        "TALLY_LOG_LEVEL": level,
        "TALLY_RUN_WORKER": "false",
    }
    command = [
        sys.executable,
        "-c",
        "from app.cli import main; main()",
        "serve",
        "--port",
        str(port),
    ]
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=out)
    try:
        wait_ready(url, process)
        yield url
    finally:
        process.terminate()
        process.wait(15)


def created_link(api: httpx.Client, path: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/share-links", json={"path": path} | fields)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/share-links/{response.json()['id']}"
    link: dict[str, Any] = response.json()
    return link


def private(response: httpx.Response) -> bool:
    return (
        response.headers.get("cache-control") == "private"
        and response.headers.get("x-robots-tag") == "noindex"
    )


@pytest.mark.slow
def test_a_share_link_opens_its_one_page_to_a_plain_client(
    database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "tally.log"
    with (
        tally_serve(database_url, log) as first,
        tally_serve(database_url, log) as second,
        httpx.Client(base_url=first, headers=AUTH, trust_env=False) as admin,
        httpx.Client(trust_env=False) as plain,  # no Authorization, as IMPORTDATA sends
        httpx.Client(base_url=first, trust_env=False) as editor,
    ):
        seed(admin)  # type: ignore[arg-type]
        for claimant, figure in (("Ministry", "at least 164"), ("Police", "100")):
            body = claim_body(claimant=claimant, figure=figure)
            assert admin.post("/v1/claims", json=body).status_code == 201
        editor.headers.update(new_key(admin, "editor"))  # type: ignore[arg-type]
        link = created_link(editor, CSV_REPORT, note="for the tracker")
        token, url = link["token"], link["url"]
        assert token.startswith("tsl_")
        assert url == f"{first}{CSV_REPORT}&share={token}"
        assert (link["path"], link["note"], link["revoked_at"]) == (
            CSV_REPORT,
            "for the tracker",
            None,
        )

        shared = plain.get(url)
        assert shared.status_code == 200, shared.text
        assert shared.headers["content-type"] == "text/csv; charset=utf-8"
        assert shared.text == admin.get(CSV_REPORT).text
        assert "Ministry" in shared.text
        assert private(shared)
        again = plain.get(url, headers={"If-None-Match": shared.headers["etag"]})
        assert again.status_code == 304
        assert private(again)
        on_second = url.replace(first, second)
        assert plain.get(on_second).status_code == 200  # any server process

        refusals = {
            "another path": (f"{first}/v1/claims?share={token}", 403),
            "another query": (url.replace("format=csv", "format=json"), 403),
            "a query less": (f"{first}/v1/events/quake/report?share={token}", 403),
            "a query more": (f"{url}&as_of=2020-01-01", 403),
            "a closed page": (f"{first}/v1/share-links?share={token}", 403),
            "two tokens": (f"{url}&share={token}", 401),
            "a wrong token": (url.replace(token, token[:-3] + "xyz"), 401),
            "no token": (url.replace(f"&share={token}", ""), 401),
        }
        for what, (address, status) in refusals.items():
            refused = plain.get(address)
            assert refused.status_code == status, (what, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            assert plain.request(method, url, json={}).status_code == 401, method

        listed = editor.get("/v1/share-links").json()["items"]
        assert [item["id"] for item in listed] == [link["id"]]
        assert token not in str(listed)

        revoked = editor.delete(f"/v1/share-links/{link['id']}")
        assert revoked.status_code == 204
        for address in (url, on_second):  # at once, in every process
            assert plain.get(address).status_code == 401
        after = admin.get("/v1/share-links").json()["items"][0]
        assert after["revoked_at"] is not None
    written = log.read_text()
    assert written.count('"event": "request"') >= 20  # the servers did log every request
    assert token not in written
    assert token[4:] not in written
    engine = make_engine(Settings(database_url=database_url))
    with make_sessionmaker(engine)() as session:
        [row] = session.scalars(select(models.ShareLink)).all()
    engine.dispose()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(vars(row))


# --- in process -----------------------------------------------------------------------------


def anonymous(client: TestClient) -> TestClient:
    """A client of the same app that sends no Authorization header."""
    return TestClient(client.app, raise_server_exceptions=False)


def test_a_link_expires(client: TestClient) -> None:
    seed(client)
    soon = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    link = client.post("/v1/share-links", json={"path": CSV_REPORT, "expires_at": soon}).json()
    plain = anonymous(client)
    assert plain.get(link["url"]).status_code == 200
    time.sleep(2)
    expired = plain.get(link["url"])
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]


def test_a_link_to_a_feed_leaves_its_token_out_of_the_feed(client: TestClient) -> None:
    seed(client)
    link = client.post("/v1/share-links", json={"path": "/v1/events/quake/feed.atom"}).json()
    feed = anonymous(client).get(link["url"])
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    assert link["token"] not in feed.text
    assert "/v1/events/quake/feed.atom</id>" in feed.text


def test_a_link_may_be_given_as_a_full_url_and_its_query_in_any_order(client: TestClient) -> None:
    seed(client)
    given = "https://tally.example.org/v1/claims/export?format=csv&event=quake#top"
    link = client.post("/v1/share-links", json={"path": given}).json()
    assert link["path"] == "/v1/claims/export?format=csv&event=quake"
    plain = anonymous(client)
    swapped = f"/v1/claims/export?event=quake&share={link['token']}&format=csv"
    assert plain.get(swapped).status_code == 200
    assert plain.get(swapped.replace("event=quake", "event=other")).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"path": "/healthz"}, "path"),
        ({"path": "v1/claims"}, "path"),
        ({"path": "/v1/keys"}, "path"),
        ({"path": "/v1/webhooks/1/deliveries"}, "path"),
        ({"path": "/v1/share-links"}, "path"),
        ({"path": "/v1/claims?share=x"}, "path"),
        ({"path": "/v1/claims with space"}, "path"),
        ({"path": "/v1/" + "x" * 2000}, "path"),
        ({"path": CSV_REPORT, "expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"path": CSV_REPORT, "token": "mine"}, "token"),
        ({}, "path"),
    ],
)
def test_bad_share_links_are_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/v1/share-links", json=body)
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert client.get("/v1/share-links").json()["items"] == []


def test_editors_manage_share_links_and_readers_cannot(client: TestClient) -> None:
    seed(client)
    reader, editor = new_key(client, "reader"), new_key(client, "editor")
    body = {"path": CSV_REPORT}
    assert client.post("/v1/share-links", json=body, headers=reader).status_code == 403
    assert client.get("/v1/share-links", headers=reader).status_code == 403
    link = client.post("/v1/share-links", json=body, headers=editor).json()
    assert link["created_by"] == "editor-key"
    assert client.delete(f"/v1/share-links/{link['id']}", headers=reader).status_code == 403
    assert client.delete(f"/v1/share-links/{link['id']}", headers=editor).status_code == 204
    assert client.delete(f"/v1/share-links/{link['id']}", headers=editor).status_code == 204
    assert client.delete("/v1/share-links/999", headers=editor).status_code == 404
    assert client.get("/v1/share-links", headers={"Authorization": ""}).status_code == 401
