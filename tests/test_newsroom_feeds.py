"""Atom feeds read by a real feed client (feedparser), and conditional requests: a strong
ETag that changes when the answer does, and only then; 304 without building the answer."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_KEY, claim_body, seed

PUBLIC = "https://tally.example.org"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, admin_key=ADMIN_KEY, run_worker=False, public_url=PUBLIC
    )


def post(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/claims", json=claim_body(**fields))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def parsed(response: Any) -> Any:
    """The feed as a feed reader reads it, after checking it is well-formed Atom 1.0."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def conflict_history(client: TestClient) -> dict[str, str]:
    """A conflict opened, cleared by a correction, a dispute resolved, a claim retracted:
    one of each change the feeds tell. Returns the claims' ids."""
    ministry = post(client, claimant="Ministry", figure="at least 164", as_of="2022-01-09")
    police = post(client, claimant="Police", figure="100", as_of="2022-01-09")  # opens
    fix = {"figure": "170", "reason": "corrected"}  # at least 164 vs 170: cleared
    headers = {"If-Match": '"1"'}
    assert client.patch(f"/v1/claims/{police['id']}", json=fix, headers=headers).status_code == 200
    dispute = {"by": "NGO", "reason": "undercounted"}  # opens `disputed`
    assert client.post(f"/v1/claims/{ministry['id']}/disputes", json=dispute).status_code == 201
    [disputed] = client.get("/v1/conflicts", params={"kind": "disputed"}).json()["items"]
    resolve = client.post(f"/v1/conflicts/{disputed['id']}/resolve", json={"note": "checked"})
    assert resolve.status_code == 200
    retract = client.post(f"/v1/claims/{police['id']}/retract", json={"reason": "withdrawn"})
    assert retract.status_code == 200  # claim.retracted, and a retracted_figure conflict
    return {"ministry": ministry["id"], "police": police["id"]}


FEED_TYPES = {"conflict.opened", "conflict.cleared", "conflict.resolved", "claim.retracted"}


def test_the_conflicts_feed_is_valid_atom_newest_first_with_an_entry_per_change(
    client: TestClient,
) -> None:
    seed(client)
    ids = conflict_history(client)
    changes = client.get("/v1/changes", params={"limit": 1000}).json()["items"]
    told = [c for c in changes if c["type"] in FEED_TYPES]
    assert [c["type"] for c in told] == [
        "conflict.opened", "conflict.cleared", "conflict.opened", "conflict.resolved",
        "claim.retracted", "conflict.opened",
    ]  # fmt: skip
    feed = parsed(client.get("/v1/feeds/conflicts.atom"))
    assert feed.feed.title == "Tally: conflicts"
    assert feed.feed.id == f"{PUBLIC}/v1/feeds/conflicts.atom"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"self": feed.feed.id, "alternate": f"{PUBLIC}/conflicts"}
    entries = feed.entries
    assert len(entries) == len(told)
    assert [e.tags[0].term for e in entries] == [c["type"] for c in reversed(told)]
    moments = [e.updated_parsed for e in entries]
    assert moments == sorted(moments, reverse=True)  # newest first
    assert feed.feed.updated_parsed == moments[0]
    retracted = next(e for e in entries if e.tags[0].term == "claim.retracted")
    assert "Police: 170, as of 2022-01-09" in retracted.summary
    assert "withdrawn" in retracted.summary
    assert {link.rel: link.href for link in retracted.links} == {
        "alternate": f"{PUBLIC}/claims/{ids['police']}",
        "related": f"{PUBLIC}/v1/claims/{ids['police']}",
    }
    opened = entries[-1]
    assert opened.title == "Conflict opened: value mismatch — quake, deaths"
    assert "Ministry (at least 164, 2022-01-09) vs Police (100, 2022-01-09)" in opened.summary
    assert {link.type for link in opened.links} == {"text/html", "application/json"}
    again = parsed(client.get("/v1/feeds/conflicts.atom"))
    assert [e.id for e in again.entries] == [e.id for e in entries]  # stable ids
    assert len({e.id for e in entries}) == len(entries)
    assert all(e.id.startswith("tag:tally.example.org,2026:") for e in entries)


def test_feed_filters_and_the_event_feed(client: TestClient) -> None:
    seed(client)
    assert client.post("/v1/events", json={"slug": "floods", "title": "Floods"}).status_code == 201
    conflict_history(client)
    post(client, event="floods", claimant="A", figure="10")
    post(client, event="floods", claimant="B", figure="20")  # a value mismatch in floods
    quake = parsed(client.get("/v1/events/quake/feed.atom"))
    assert len(quake.entries) == 6
    assert quake.feed.id == f"{PUBLIC}/v1/events/quake/feed.atom"
    assert {link.rel: link.href for link in quake.feed.links}[
        "alternate"
    ] == f"{PUBLIC}/events/quake"
    floods = parsed(client.get("/v1/feeds/conflicts.atom", params={"event": "floods"}))
    assert [e.title for e in floods.entries] == ["Conflict opened: value mismatch — floods, deaths"]
    assert floods.feed.id == f"{PUBLIC}/v1/feeds/conflicts.atom?event=floods"
    disputes = parsed(client.get("/v1/feeds/conflicts.atom", params={"kind": "disputed"}))
    assert [e.tags[0].term for e in disputes.entries] == ["conflict.resolved", "conflict.opened"]
    injuries = parsed(client.get("/v1/feeds/conflicts.atom", params={"metric": "injuries"}))
    assert injuries.entries == []
    assert len(parsed(client.get("/v1/feeds/conflicts.atom")).entries) == 7
    assert client.get("/v1/events/nowhere/feed.atom").status_code == 404
    for params, name in [({"event": "nowhere"}, "event"), ({"metric": "nothing"}, "metric"),
                         ({"kind": "loud"}, "kind")]:  # fmt: skip
        refused = client.get("/v1/feeds/conflicts.atom", params=params)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == name


def test_feeds_are_bounded_to_the_newest_entries(settings: Settings) -> None:
    short = settings.model_copy(update={"feed_entries": 2})
    with TestClient(create_app(short), headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        seed(client)
        conflict_history(client)
        entries = parsed(client.get("/v1/feeds/conflicts.atom")).entries
    assert [e.tags[0].term for e in entries] == ["conflict.opened", "claim.retracted"]


def test_feed_text_that_xml_cannot_carry_is_replaced(client: TestClient) -> None:
    seed(client)
    claim = post(client, claimant="Police\x0b\x1f")
    assert client.post(f"/v1/claims/{claim['id']}/retract", json={"reason": "x"}).status_code == 200
    [entry, _] = parsed(client.get("/v1/feeds/conflicts.atom")).entries
    assert "Police\ufffd\ufffd" in entry.summary


# --- conditional requests --------------------------------------------------------------------


def etag_of(client: TestClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.text
    tag: str = response.headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', tag)  # strong: no W/
    return tag


def unchanged(client: TestClient, url: str, tag: str) -> bool:
    """Whether If-None-Match with `tag` is answered 304 (with no body, the same tag)."""
    response = client.get(url, headers={"If-None-Match": tag})
    if response.status_code == 304:
        assert response.content == b""
        assert response.headers["etag"] == tag
        return True
    assert response.status_code == 200
    assert response.headers["etag"] != tag
    return False


ANSWERS = [
    "/v1/events/quake/report",
    "/v1/events/quake/report?format=csv",
    "/v1/events/quake/report?format=markdown",
    "/v1/claims",
    "/v1/claims?event=quake",
    "/v1/claims/export?format=csv",
    "/v1/claims/export?event=quake",
    "/v1/conflicts",
    "/v1/conflicts?event=quake",
    "/v1/reports/discrepancies",
    "/v1/feeds/conflicts.atom",
    "/v1/feeds/conflicts.atom?event=quake",
    "/v1/events/quake/feed.atom",
]
QUAKE = {url for url in ANSWERS if "quake" in url}
CLAIMS = {url for url in ANSWERS if url.startswith("/v1/claims")}


def tags(client: TestClient) -> dict[str, str]:
    return {url: etag_of(client, url) for url in ANSWERS}


def still(client: TestClient, before: dict[str, str]) -> set[str]:
    """The answers whose tag still holds (304)."""
    return {url for url, tag in before.items() if unchanged(client, url, tag)}


def test_if_none_match_is_304_until_a_change_alters_the_answer_and_only_then(
    client: TestClient,
) -> None:
    seed(client)
    assert client.post("/v1/events", json={"slug": "floods", "title": "Floods"}).status_code == 201
    first = post(client, claimant="Ministry", figure="at least 164")
    before = tags(client)
    assert still(client, before) == set(ANSWERS)  # nothing changed: every answer is a 304

    post(client, event="floods")  # another event, no conflict: the unfiltered lists change
    assert still(client, before) == QUAKE | {"/v1/feeds/conflicts.atom"}
    before = tags(client)

    post(client, claimant="Police", figure="100")  # a claim and a conflict in quake
    assert still(client, before) == set()
    before = tags(client)

    [conflict] = client.get("/v1/conflicts").json()["items"]
    resolve = client.post(f"/v1/conflicts/{conflict['id']}/resolve", json={"note": "checked"})
    assert resolve.status_code == 200  # the claims did not change: their lists hold
    assert still(client, before) == CLAIMS
    before = tags(client)

    moved = {"event": "floods", "reason": "wrong event"}  # leaves quake: no change row there
    patch = client.patch(f"/v1/claims/{first['id']}", json=moved, headers={"If-Match": '"1"'})
    assert patch.status_code == 200
    left = still(client, before)
    assert "/v1/events/quake/report" not in left
    assert "/v1/claims?event=quake" not in left
    assert "/v1/claims/export?event=quake" not in left
    assert still(client, tags(client)) == set(ANSWERS)


def test_reports_change_their_tag_with_a_metric_unit_or_a_source_name(client: TestClient) -> None:
    seed(client)
    post(client)
    url = "/v1/events/quake/report"
    tag = etag_of(client, url)
    assert client.patch("/v1/metrics/deaths", json={"unit": "lives"}).status_code == 200
    assert not unchanged(client, url, tag)
    tag = etag_of(client, url)
    assert client.patch("/v1/sources/wire", json={"name": "The Wire"}).status_code == 200
    assert not unchanged(client, url, tag)


def test_reports_and_feeds_say_when_they_last_changed(client: TestClient) -> None:
    seed(client)
    post(client, claimant="Ministry", figure="at least 164")
    post(client, claimant="Police", figure="100")
    [opened] = client.get("/v1/conflicts").json()["items"]
    for url in (
        "/v1/events/quake/report",
        "/v1/feeds/conflicts.atom",
        "/v1/events/quake/feed.atom",
    ):
        modified = parsedate_to_datetime(client.get(url).headers["last-modified"])
        # The change is written just after the conflict opens (seconds apart on a busy machine),
        # and an HTTP date has no fraction of a second.
        at = datetime.fromisoformat(opened["opened_at"]).replace(microsecond=0)
        assert at <= modified <= at + timedelta(seconds=5)


def test_a_304_is_answered_without_building_the_answer(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(client)
    post(client)
    report, feed = "/v1/events/quake/report", "/v1/feeds/conflicts.atom"
    tags_now = {url: etag_of(client, url) for url in (report, feed, "/v1/claims")}

    def never(*_: object, **__: object) -> None:
        raise AssertionError("the answer was built")

    monkeypatch.setattr("app.services.reports.event_report", never)
    monkeypatch.setattr("app.services.feeds.atom", never)
    monkeypatch.setattr("app.services.claims.list_claims", never)
    for url, tag in tags_now.items():
        assert unchanged(client, url, tag), url
        assert client.get(url, headers={"If-None-Match": f'W/{tag}, "other"'}).status_code == 304
        assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304


def test_tags_differ_between_formats_and_queries(client: TestClient) -> None:
    seed(client)
    post(client)
    url = "/v1/events/quake/report"
    found = {etag_of(client, f"{url}?format={f}") for f in ("json", "csv", "markdown")}
    assert len(found) == 3
    assert etag_of(client, "/v1/claims?limit=1") != etag_of(client, "/v1/claims?limit=2")
    assert client.get("/v1/events/nowhere/report").status_code == 404
