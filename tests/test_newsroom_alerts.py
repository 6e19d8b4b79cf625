"""Alerts where desks live (SPEC §12): Slack and Teams messages, narrowed subscriptions,
PATCH, and Retry-After honoured — each sent to a real receiver on 127.0.0.1.

The Slack-like receiver reads the body back into slack_sdk's Block Kit models; the Teams-like
receiver checks the Workflows message and its Adaptive Card as Teams reads them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient
from slack_sdk.models.blocks import Block

from app.config import Settings
from app.main import create_app
from app.services import alerts, delivery
from tests.conftest import ADMIN_KEY, claim_body, new_key, seed
from tests.test_webhooks import EVENTS, all_delivered, deliveries, wait_until

PUBLIC = "https://tally.example.org"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        admin_key=ADMIN_KEY,
        webhook_allow_private=True,
        webhook_poll_seconds=0.02,
        webhook_retry_base_seconds=0.05,
        webhook_timeout_seconds=2,
        public_url=PUBLIC,
    )


@dataclass
class Hit:
    at: float  # time.monotonic() when the receiver answered
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ChatReceiver:
    """An endpoint that records each POST and answers from a script of (status, headers)."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver, lock = self, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with lock:
                    status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                    receiver.hits.append(Hit(time.monotonic(), dict(self.headers.items()), body))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def chat() -> Iterator[ChatReceiver]:
    receiver = ChatReceiver()
    yield receiver
    receiver.close()


def subscribe(client: TestClient, url: str, **fields: Any) -> dict[str, Any]:
    body = {"url": url, "events": EVENTS} | fields
    response = client.post("/v1/webhooks", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def post(client: TestClient, **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/claims", json=claim_body(**fields))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def conflicting_claims(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    first = post(client, claimant="Ministry of Health", figure="at least 164", as_of="2022-01-09")
    second = post(client, claimant="Police", figure="100", as_of="2022-01-09")
    return first, second


# --- Slack ---------------------------------------------------------------------------------


def slack_blocks(message: dict[str, Any]) -> list[Block]:
    """The message's blocks as slack_sdk reads them, each checked against Slack's rules."""
    blocks = [Block.parse(b) for b in message["blocks"]]
    assert all(b is not None for b in blocks)
    assert [b.to_dict() for b in blocks if b] == message["blocks"]  # to_dict() validates
    return [b for b in blocks if b]


def test_a_slack_webhook_gets_block_kit_naming_figures_claimants_and_dates(
    client: TestClient, chat: ChatReceiver
) -> None:
    seed(client)
    hook = subscribe(client, chat.url, format="slack", events=["conflict.opened"])
    assert hook["format"] == "slack"
    first, second = conflicting_claims(client)
    wait_until(lambda: chat.hits, what="the Slack message")
    [hit] = chat.hits
    message = hit.json()
    assert set(message) == {"text", "blocks"}
    blocks = slack_blocks(message)
    assert [b.type for b in blocks] == ["header", "section", "context"]
    line = message["text"]
    for words in ("Conflict opened", "value mismatch", "quake", "deaths", "Ministry of Health",
                  "at least 164", "Police", "100", "2022-01-09"):  # fmt: skip
        assert words in line, words
    section = message["blocks"][1]["text"]["text"]
    assert f"<{PUBLIC}/conflicts?event=quake|" in section
    assert hit.headers["Content-Type"] == "application/json"
    assert hit.headers["webhook-id"].startswith("msg_")  # signed and logged like any delivery
    wait_until(lambda: all_delivered(client, hook, 1), what="the delivery recorded")
    [row] = deliveries(client, hook)
    assert (row["status"], row["event_type"], row["response_status"]) == (
        "delivered",
        "conflict.opened",
        200,
    )
    facts = [element["text"] for element in message["blocks"][2]["elements"]]
    assert f"*Claims:* {first['id']}, {second['id']}" in facts


def test_a_slack_message_about_a_claim_links_to_its_desk_page(
    client: TestClient, chat: ChatReceiver
) -> None:
    seed(client)
    subscribe(client, chat.url, format="slack", events=["claim.retracted"])
    claim = post(client, claimant="Civil Defence", figure="at least 10", as_of="2023-02-07")
    retract = client.post(f"/v1/claims/{claim['id']}/retract", json={"reason": "a typo"})
    assert retract.status_code == 200
    wait_until(lambda: chat.hits, what="the Slack message")
    message = chat.hits[0].json()
    slack_blocks(message)
    assert "Claim retracted" in message["text"]
    assert "Civil Defence: at least 10, as of 2023-02-07" in message["text"]
    assert "a typo" in message["text"]
    assert f"<{PUBLIC}/claims/{claim['id']}|" in message["blocks"][1]["text"]["text"]


def test_slack_messages_stay_within_block_kit_limits_and_escape_markup() -> None:
    payload = {
        "type": "conflict.opened",
        "timestamp": "2026-01-01T00:00:00Z",
        "data": {
            "id": "7", "kind": "disputed", "claims": ["3"], "event": "quake",
            "metric": "deaths", "population": "all", "location": "<b>&",
            "dispute": "1", "detail": "x" * 5000 + " <!channel> & <https://evil.example|y>",
            "gap": None, "status": "open", "opened_at": "2026-01-01T00:00:00Z",
            "closed_at": None, "resolution_note": None, "resolved_by": None,
        },
    }  # fmt: skip
    message = alerts.slack_message(alerts.alert_of(payload, PUBLIC))
    slack_blocks(message)  # would raise past Slack's limits
    section = message["blocks"][1]["text"]["text"]
    assert len(section) <= 3000
    assert section.endswith(f"<{PUBLIC}/conflicts?event=quake|Open the conflicts on the desk>")
    assert "<!channel>" not in json.dumps(message)
    assert "&lt;b&gt;&amp;" in json.dumps(message)


# --- Teams ---------------------------------------------------------------------------------


def test_a_teams_webhook_gets_an_adaptive_card(client: TestClient, chat: ChatReceiver) -> None:
    seed(client)
    subscribe(client, chat.url, format="teams", events=["conflict.opened"])
    conflicting_claims(client)
    wait_until(lambda: chat.hits, what="the Teams message")
    message = chat.hits[0].json()
    assert message["type"] == "message"
    [attachment] = message["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert tuple(map(int, card["version"].split("."))) >= (1, 4)
    texts = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    assert all(isinstance(t, str) and t for t in texts)
    assert all(b.get("wrap") for b in card["body"] if b["type"] == "TextBlock")
    assert any("Ministry of Health (at least 164, 2022-01-09)" in t for t in texts)
    [facts] = [b["facts"] for b in card["body"] if b["type"] == "FactSet"]
    assert all(set(f) == {"title", "value"} and isinstance(f["value"], str) for f in facts)
    [action] = card["actions"]
    assert action == {
        "type": "Action.OpenUrl",
        "title": "Open the conflicts on the desk",
        "url": f"{PUBLIC}/conflicts?event=quake",
    }


# --- narrowing and changing subscriptions --------------------------------------------------


def test_subscriptions_narrowed_by_event_metric_and_conflict_kinds(
    client: TestClient, chat: ChatReceiver
) -> None:
    seed(client)
    assert client.post("/v1/events", json={"slug": "floods", "title": "Floods"}).status_code == 201
    hook = subscribe(client, chat.url, event="quake", metric="deaths", kinds=["value_mismatch"])
    assert (hook["event"], hook["metric"], hook["kinds"]) == ("quake", "deaths", ["value_mismatch"])
    first, _ = conflicting_claims(client)  # 2 claims and a value mismatch: sent
    post(client, event="floods")  # another event
    post(client, metric="injuries")  # another metric
    dispute = {"by": "NGO", "reason": "too low"}  # claim.disputed is sent, `disputed` is not
    assert client.post(f"/v1/claims/{first['id']}/disputes", json=dispute).status_code == 201
    wait_until(lambda: len(chat.hits) >= 4, what="the four deliveries")
    time.sleep(0.3)  # nothing else arrives
    sent = [hit.json() for hit in chat.hits]  # sent 4 at a time: in any order
    expected = ["claim.created", "claim.created", "conflict.opened", "claim.disputed"]
    assert sorted(p["type"] for p in sent) == sorted(expected)
    assert all(p["data"]["event"] == "quake" and p["data"]["metric"] == "deaths" for p in sent)
    assert [d["event_type"] for d in deliveries(client, hook)] == expected  # queued in order


def test_patch_changes_format_events_and_filters(client: TestClient, chat: ChatReceiver) -> None:
    seed(client)
    hook = subscribe(client, chat.url, events=["claim.created"], event="quake")
    path = f"/v1/webhooks/{hook['id']}"
    changed = client.patch(path, json={"format": "teams", "events": ["conflict.opened"]})
    assert changed.status_code == 200, changed.text
    read = changed.json()
    assert (read["format"], read["events"], read["event"]) == (
        "teams",
        ["conflict.opened"],
        "quake",
    )
    assert read["updated_at"] > hook["updated_at"]
    assert "secret" not in read
    cleared = client.patch(path, json={"event": None, "kinds": ["disputed"], "metric": "deaths"})
    assert (cleared.json()["event"], cleared.json()["kinds"]) == (None, ["disputed"])
    assert client.get(path).json() == cleared.json()
    for body, name in [
        ({"event": "nowhere"}, "event"),
        ({"metric": "nothing"}, "metric"),
        ({"format": "email"}, "format"),
        ({"format": None}, "format"),
        ({"url": None}, "url"),
        ({"events": []}, "events"),
        ({"kinds": ["loud"]}, "kinds.0"),
        ({"secret": "mine"}, "secret"),
    ]:
        refused = client.patch(path, json=body)
        assert refused.status_code == 422, body
        assert name in [e["field"] for e in refused.json()["errors"]], (body, refused.json())
    assert client.get(path).json() == cleared.json()
    assert client.patch("/v1/webhooks/999", json={"format": "slack"}).status_code == 404
    for role in ("reader", "editor"):
        headers = new_key(client, role)
        assert client.patch(path, json={"format": "slack"}, headers=headers).status_code == 403


def test_patch_checks_a_new_url_like_a_new_webhook(settings: Settings) -> None:
    strict = settings.model_copy(update={"webhook_allow_private": False, "run_worker": False})
    with TestClient(create_app(strict), headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        body = {"url": "http://93.184.215.14/hook", "events": ["claim.created"]}  # public
        hook = client.post("/v1/webhooks", json=body).json()
        refused = client.patch(f"/v1/webhooks/{hook['id']}", json={"url": "http://10.0.0.1/"})
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "url"
        assert client.get(f"/v1/webhooks/{hook['id']}").json()["url"] == body["url"]


def test_unknown_filters_are_refused_on_creation(client: TestClient) -> None:
    seed(client)
    body = {"url": "https://hooks.example.org/x", "events": ["claim.created"]}
    for extra, name in [
        ({"event": "nowhere"}, "event"),
        ({"metric": "nothing"}, "metric"),
        ({"format": "irc"}, "format"),
        ({"kinds": []}, "kinds"),
    ]:
        refused = client.post("/v1/webhooks", json=body | extra)
        assert refused.status_code == 422, extra
        assert name in [e["field"] for e in refused.json()["errors"]]
    plain = client.post("/v1/webhooks", json=body).json()
    assert (plain["format"], plain["event"], plain["metric"], plain["kinds"]) == (
        "standard",
        None,
        None,
        None,
    )


# --- rate limits ---------------------------------------------------------------------------


def test_a_429_with_retry_after_is_retried_no_sooner(
    client: TestClient, chat: ChatReceiver
) -> None:
    seed(client)
    hook = subscribe(client, chat.url, format="slack", events=["claim.created"])
    chat.script = [(429, {"Retry-After": "2"})]
    post(client)
    wait_until(lambda: len(chat.hits) >= 2, timeout=20, what="the retry")
    first, second = chat.hits[:2]
    assert second.at - first.at >= 2.0
    assert first.body == second.body
    wait_until(lambda: all_delivered(client, hook, 1), what="the delivery recorded")
    [row] = deliveries(client, hook)
    assert (row["status"], row["attempts"], row["response_status"]) == ("delivered", 2, 200)


def test_a_429_is_recorded_with_the_wait_it_asked_for(
    client: TestClient, chat: ChatReceiver
) -> None:
    seed(client)
    hook = subscribe(client, chat.url, format="teams", events=["claim.created"])
    chat.script = [(429, {"Retry-After": "30"})]
    post(client)

    def failed_once() -> dict[str, Any] | None:
        [row] = deliveries(client, hook)
        return row if row["attempts"] == 1 and row["last_error"] else None

    row = wait_until(failed_once, what="the refused attempt")
    assert (row["status"], row["response_status"]) == ("pending", 429)
    assert "429" in row["last_error"]
    assert "30 s" in row["last_error"]
    next_at = datetime.fromisoformat(row["next_attempt_at"].replace("Z", "+00:00"))
    assert next_at - datetime.now(UTC) > timedelta(seconds=25)
    assert len(chat.hits) == 1


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)
    assert delivery.retry_after_seconds("2", now) == 2
    assert delivery.retry_after_seconds(later, now) == 90
    assert delivery.retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now) == 0
    assert delivery.retry_after_seconds("soon", now) is None
    assert delivery.retry_after_seconds(None, now) is None
    assert delivery.retry_after_seconds("99999999", now) == delivery.MAX_BACKOFF_SECONDS
