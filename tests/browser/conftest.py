"""Browser tests of the desk: Playwright driving Debian's chromium, never a downloaded browser.

Chromium comes from apt-get (scripts/test installs it when it is missing and runs as root).
Without it these tests skip with the reason, unless TALLY_REQUIRE_BROWSER=1 (CI), which
makes them fail. Every page a test looks at is checked with axe-core and saved as a
screenshot under $TALLY_ARTIFACTS/desk (default: pytest's temporary directory).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response

from tests.conftest import ADMIN_KEY

# Headless, and nothing that would reach the network on its own.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "desk-event.png"


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = find_chromium()
    if found is None:
        reason = (
            "chromium is not installed (scripts/test installs it with apt-get when run as root;"
            " set TALLY_REQUIRE_BROWSER=1 to fail instead)"
        )
        if os.environ.get("TALLY_REQUIRE_BROWSER") == "1":
            pytest.fail("TALLY_REQUIRE_BROWSER=1 but " + reason)
        pytest.skip(reason)
    return found


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict[str, Any], chromium_path: str
) -> dict[str, Any]:
    """pytest-playwright's launch arguments: Debian's chromium, headless, offline."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path,
        "headless": True,
        "args": FLAGS,
    }


@pytest.fixture(scope="session")
def base_url() -> str | None:
    """No base URL: each test has its own live server. (Defined here, this replaces
    pytest-playwright's fallback fixture, an instance method that pytest 9 warns about.)"""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_context_args,
        "viewport": {"width": 1280, "height": 900},
        "locale": "en-GB",
        "timezone_id": "UTC",
    }


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go."""
    base = os.environ.get("TALLY_ARTIFACTS")
    folder = Path(base) / "desk" if base else tmp_path_factory.mktemp("desk-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- the ledger behind the pages -------------------------------------------------------------


@pytest.fixture
def api(live_url: str) -> Iterator[httpx.Client]:
    """An admin client of the live server's API."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=live_url, headers=headers, timeout=30) as client:
        yield client


def new_key(api: httpx.Client, name: str, role: str) -> str:
    response = api.post("/v1/keys", json={"name": name, "role": role})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


# --- looking at pages ---------------------------------------------------------------------------

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_secure(response: Response | None) -> None:
    """The desk's security headers (SPEC §11): a CSP without inline scripts, no framing."""
    assert response is not None
    headers = response.headers
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, csp
    assert "unsafe-inline" not in csp, csp
    assert "unsafe-eval" not in csp, csp
    assert "default-src 'none'" in csp, csp
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, (name, headers.get(name))


def assert_accessible(page: Page) -> None:
    """axe-core finds no serious or critical violation on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"axe on {page.url}:\n" + "\n".join(bad)


def look(page: Page, shots: Path, name: str) -> None:
    """Check the page with axe-core and save its screenshot (whole page)."""
    assert_accessible(page)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, key: str) -> Response | None:
    """Sign in through the form; the response of the page it lands on."""
    page.goto(f"{base}/sign-in")
    page.get_by_label("API key").fill(key)
    with page.expect_navigation() as landed:
        page.get_by_role("button", name="Sign in").click()
    return landed.value


def new_context(browser: Browser, base: str, key: str, args: dict[str, Any]) -> BrowserContext:
    """A second browser (its own cookies), signed in with `key`."""
    context = browser.new_context(**args)
    sign_in(context.new_page(), base, key)
    return context


def csrf_of(page: Page) -> str:
    """The CSRF token in the page's forms."""
    match = re.search(r'name="csrf" value="([^"]+)"', page.content())
    assert match, "no CSRF token on the page"
    return match.group(1)
