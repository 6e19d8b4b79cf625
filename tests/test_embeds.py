"""Embeds (SPEC §12): a published event's figure box for an iframe, and oEmbed."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import new_key
from tests.ledger import add_claim

EMBED = "/embed/events/quake"


def publish(client: TestClient, published: bool = True) -> None:
    answer = client.patch("/v1/events/quake", json={"published": published})
    assert answer.status_code == 200, answer.text
    assert answer.json()["published"] is published


def test_an_unpublished_event_is_a_404_that_tells_nothing(ledger: TestClient) -> None:
    add_claim(ledger)
    anonymous = {"Authorization": ""}
    unknown = ledger.get("/embed/events/no-such-event", headers=anonymous)
    unpublished = ledger.get(EMBED, headers=anonymous)
    assert unknown.status_code == unpublished.status_code == 404
    assert unknown.json()["detail"] == unpublished.json()["detail"]
    oembed = ledger.get("/oembed", params={"url": f"http://127.0.0.1:8000{EMBED}"})
    assert oembed.status_code == 404
    assert ledger.get("/v1/events/quake").json()["published"] is False


def test_a_published_event_embeds_without_a_key_or_a_cookie(ledger: TestClient) -> None:
    add_claim(ledger, claimant="Civil Defence", figure="at least 10", as_of="2023-02-06")
    add_claim(ledger, claimant="Ministry", figure="4", as_of="2023-02-07")
    add_claim(ledger, metric="injuries", figure="hundreds")
    publish(ledger)
    page = ledger.get(EMBED, headers={"Authorization": ""})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors *" in page.headers["content-security-policy"]
    assert "script-src" not in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "public, max-age=60"
    assert "set-cookie" not in page.headers
    assert page.text.count("<svg") == 2
    assert "at least 10" in page.text
    assert "1 open conflict among these figures" in page.text
    only = ledger.get(EMBED, params={"metric": "injuries"}, headers={"Authorization": ""})
    assert only.text.count("<svg") == 1
    assert "hundreds" in only.text
    assert "at least 10" not in only.text


def test_oembed_answers_rich_json_for_an_embed_or_event_address(ledger: TestClient) -> None:
    add_claim(ledger)
    publish(ledger)
    base = "http://127.0.0.1:8000"  # the test settings' public address
    for url in (f"{base}{EMBED}?metric=deaths", f"{base}/events/quake"):
        answer = ledger.get("/oembed", params={"url": url, "format": "json", "maxwidth": 400})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["version"] == "1.0"
        assert body["type"] == "rich"
        assert body["provider_name"] == "Tally"
        assert body["title"] == "Earthquake"
        assert body["width"] == 400
        assert body["height"] > 0
        assert f'src="{base}{EMBED}' in body["html"]
    assert (
        'metric=deaths"'
        in ledger.get("/oembed", params={"url": f"{base}{EMBED}?metric=deaths"}).json()["html"]
    )
    assert (
        ledger.get("/oembed", params={"url": f"{base}{EMBED}", "format": "xml"}).status_code == 501
    )
    for elsewhere in ("https://evil.example/embed/events/quake", f"{base}/v1/claims/1", "x"):
        assert ledger.get("/oembed", params={"url": elsewhere}).status_code == 404


def test_unpublishing_takes_the_embed_down_and_readers_cannot_publish(
    ledger: TestClient,
) -> None:
    add_claim(ledger)
    publish(ledger)
    assert ledger.get(EMBED).status_code == 200
    reader = new_key(ledger, "reader")
    refused = ledger.patch("/v1/events/quake", json={"published": False}, headers=reader)
    assert refused.status_code == 403
    publish(ledger, False)
    assert ledger.get(EMBED).status_code == 404
    assert ledger.patch("/v1/events/quake", json={"published": None}).status_code == 422
