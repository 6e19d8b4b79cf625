"""The API docs render in Debian's chromium with no network but Tally's own (issue 19)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Route


@pytest.mark.parametrize(
    ("page", "rendered"),
    [
        ("/docs", ".swagger-ui .opblock-summary-path"),  # one operation per row
        ("/redoc", "[role=menuitem], li[data-item-id]"),  # the side menu of operations
    ],
)
def test_docs_render_in_chromium_without_network(
    browser: Browser, live_url: str, page: str, rendered: str, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("the page does not depend on the database")
    outside: list[str] = []

    def only_tally(route: Route) -> None:
        if route.request.url.startswith(live_url):
            route.continue_()
        else:  # no network but Tally's own: anything else is refused and remembered
            outside.append(route.request.url)
            route.abort()

    context = browser.new_context()
    try:
        context.route("**/*", only_tally)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(live_url + page)
        tab.wait_for_selector(rendered, timeout=30_000)
        text = tab.inner_text("body")
    finally:
        context.close()
    assert "Tally" in text
    assert "claims" in text.lower()
    assert outside == []
    assert errors == []
