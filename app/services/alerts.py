"""Alerts for chat (SPEC §12): an event of SPEC §7 as one readable line, a Slack message and
a Microsoft Teams message, with a link to the desk page.

The outbox keeps every event as its Standard Webhooks payload; a webhook whose `format` is
slack or teams is sent the message rendered from it when it is sent (app.services.delivery),
with links through TALLY_PUBLIC_URL. The line names what happened, the figures with their
claimants and dates (a conflict's `detail` says them), and where.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from app.domain.newsroom import AlertFormat

HAPPENED = {
    "claim.created": "New claim",
    "claim.updated": "Claim updated",
    "claim.retracted": "Claim retracted",
    "claim.disputed": "Claim disputed",
    "conflict.opened": "Conflict opened",
    "conflict.cleared": "Conflict cleared",
    "conflict.resolved": "Conflict resolved",
}
# Slack's limits (Block Kit): a header's text, a section's text, a context's elements.
HEADER_CHARS, SECTION_CHARS, CONTEXT_ELEMENTS = 150, 3000, 10
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"


@dataclass(frozen=True)
class Alert:
    """What any chat message of one event says."""

    title: str  # "Conflict opened: value mismatch"
    line: str  # the one readable line: what happened, figures, claimants, dates, where
    link: str  # the desk page
    link_text: str
    facts: tuple[tuple[str, str], ...]  # (label, value), for a card's fact list


def alert_of(payload: dict[str, Any], base_url: str) -> Alert:
    """The alert for a Standard Webhooks payload ({"type", "timestamp", "data"})."""
    kind, data = payload["type"], payload["data"]
    happened = HAPPENED[kind]
    where = _where(data)
    facts = [("Event", data["event"]), ("Metric", data["metric"])]
    facts += [("Population", data["population"])]
    facts += [("Location", data["location"])] if data.get("location") else []
    if kind.startswith("conflict."):
        name = data["kind"].replace("_", " ")
        line = f"{happened} ({name}) in {where}: {data['detail']}"
        if kind == "conflict.resolved" and data.get("resolution_note"):
            line += f" Resolved by {data['resolved_by']}: {data['resolution_note']}"
        facts += [("Claims", ", ".join(data["claims"])), ("Status", data["status"])]
        query = urlencode({"event": data["event"]})
        return Alert(f"{happened}: {name}", line, f"{base_url}/conflicts?{query}",
                     "Open the conflicts on the desk", tuple(facts))  # fmt: skip
    line = f"{happened} in {where}: {_stated(data)}"
    retraction = data.get("retraction")
    if kind == "claim.retracted" and retraction:
        line += f" Retracted: {retraction['reason']}"
    facts += [("Claimant", data["claimant"]), ("Source", data["source"])]
    link = f"{base_url}/claims/{quote(data['id'], safe='')}"
    return Alert(happened, line, link, "Open the claim on the desk", tuple(facts))


def _where(data: dict[str, Any]) -> str:
    """`quake, deaths (civilians) in Aleppo`: the event and the group."""
    population = f" ({data['population']})" if data["population"] != "all" else ""
    location = f" in {data['location']}" if data.get("location") else ""
    return f"{data['event']}, {data['metric']}{population}{location}"


def _stated(claim: dict[str, Any]) -> str:
    """`Civil Defence: at least 10, as of 2023-02-07 (source wire, claim 12).`"""
    figure = claim["figure"]["text"]
    return (
        f"{claim['claimant']}: {figure}, as of {claim['as_of']} "
        f"(source {claim['source']}, claim {claim['id']})."
    )


# --- Slack ---------------------------------------------------------------------------------


def slack_message(alert: Alert) -> dict[str, Any]:
    """An incoming-webhook message: `text` (the notification and fallback) and Block Kit
    `blocks`, built and checked against Slack's limits by slack_sdk's models."""
    link = f"<{alert.link}|{_slack(alert.link_text).replace('|', '/')}>"
    section = _cut(f"{_slack(alert.line)}\n{link}", SECTION_CHARS, keep=len(link) + 1)
    facts = [MarkdownTextObject(text=_slack(f"*{k}:* {v}")) for k, v in alert.facts]
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=_cut(alert.title, HEADER_CHARS))),
        SectionBlock(text=MarkdownTextObject(text=section)),
        ContextBlock(elements=facts[:CONTEXT_ELEMENTS]),
    ]
    return {
        "text": _cut(_slack(alert.line), SECTION_CHARS),
        "blocks": [block.to_dict() for block in blocks],  # to_dict() validates each block
    }


def _slack(text: str) -> str:
    """Text as Slack shows it literally: &, < and > escaped (Slack reads the rest as text)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int, keep: int = 0) -> str:
    """The text within `limit` characters, cut before its last `keep` (a link) if need be."""
    if len(text) <= limit:
        return text
    head, tail = text[: len(text) - keep], text[len(text) - keep :]
    return head[: limit - keep - 1] + "…" + tail


# --- Microsoft Teams --------------------------------------------------------------------------


def teams_message(alert: Alert) -> dict[str, Any]:
    """A Teams Workflows message: one Adaptive Card (schema 1.4) as its attachment."""
    card = {
        "$schema": CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": [
            {"type": "TextBlock", "text": alert.title, "weight": "Bolder", "size": "Medium",
             "wrap": True},
            {"type": "TextBlock", "text": alert.line, "wrap": True},
            {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in alert.facts]},
        ],
        "actions": [{"type": "Action.OpenUrl", "title": alert.link_text, "url": alert.link}],
    }  # fmt: skip
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


# --- the body sent ---------------------------------------------------------------------------


def render(format: str, payload: str, base_url: str) -> str:
    """The body a webhook of `format` is sent for the stored payload: the payload itself
    (standard), or the Slack or Teams message made from it."""
    if format == AlertFormat.STANDARD:
        return payload
    alert = alert_of(json.loads(payload), base_url)
    message = slack_message(alert) if format == AlertFormat.SLACK else teams_message(alert)
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))
