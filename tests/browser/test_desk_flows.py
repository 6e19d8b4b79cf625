"""The desk in a real browser (SPEC §11), on both databases: the flows an editor goes through.

Every page visited is checked with axe-core and saved as a screenshot (see conftest.py).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import (
    DOCS_SCREENSHOT,
    assert_secure,
    csrf_of,
    look,
    new_context,
    new_key,
    sign_in,
)
from tests.test_kazakhstan import load_example, run_steps

EVENT = "kazakhstan-unrest-2022"
ARTICLE = Path(__file__).resolve().parents[1] / "data" / "desk-article.txt"


def play_kazakhstan(api: httpx.Client) -> dict[str, str]:
    """The Kazakhstan example, played through the API: ref -> claim id."""
    return run_steps(api, load_example())  # type: ignore[arg-type]


def open_conflicts(api: httpx.Client) -> list[dict[str, Any]]:
    response = api.get("/v1/conflicts", params={"status": "open", "event": EVENT, "limit": 1000})
    return list(response.json()["items"])


def test_event_page_shows_groups_charts_and_exactly_the_open_conflicts(
    page: Page, live_url: str, api: httpx.Client, shots: Path
) -> None:
    refs = play_kazakhstan(api)
    editor = new_key(api, "Desk editor", "editor")
    page.goto(f"{live_url}/")
    expect(page).to_have_url(f"{live_url}/sign-in?next=/")
    look(page, shots, "sign-in")
    landed = sign_in(page, live_url, editor)
    assert_secure(landed)
    expect(page.get_by_role("heading", name="Events", exact=True)).to_be_visible()
    look(page, shots, "events")

    page.get_by_role("link", name="Unrest in Kazakhstan, January 2022").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unrest in Kazakhstan, January 2022")
    groups = page.locator("section.group")
    expect(groups).to_have_count(6)
    for heading in (
        "Deaths · everyone",
        "Deaths · security forces",
        "Deaths · civilians",
        "Arrests · everyone",
        "Troops deployed · everyone",
        "Injuries · everyone",
    ):
        group = page.locator("section.group", has=page.get_by_role("heading", name=heading))
        expect(group.locator("svg[role=img] > title")).to_have_count(1)
        expect(group.locator("table.claims tbody tr")).not_to_have_count(0)
    shown = {
        (item.get_attribute("data-kind"), item.get_attribute("data-conflict"))
        for item in page.locator("li.conflict[data-status=open]").all()
    }
    expected = {(c["kind"], c["id"]) for c in open_conflicts(api)}
    assert shown == expected
    assert len(shown) == len(load_example()["expect_open_conflicts"])
    deaths = page.locator(
        "section.group", has=page.get_by_role("heading", name="Deaths · everyone")
    )
    expect(deaths.locator("svg title").first).to_contain_text("Deaths · everyone")
    table = deaths.locator("table.claims")
    expect(table.get_by_role("link", name="225", exact=True)).to_have_attribute(
        "href", f"/claims/{refs['toll225']}"
    )
    look(page, shots, "event")
    # The README's picture: the top of the page, down to the first chart and its conflicts.
    page.screenshot(
        path=str(shots / "event-top.png"),
        full_page=True,
        clip={"x": 0, "y": 0, "width": 1280, "height": 1420},
    )
    if os.environ.get("TALLY_UPDATE_DOCS_SCREENSHOT") == "1":
        shutil.copy(shots / "event-top.png", DOCS_SCREENSHOT)
    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    look(page, shots, "event-phone")


def conflict_of(api: httpx.Client, kind: str) -> dict[str, Any]:
    return next(c for c in open_conflicts(api) if c["kind"] == kind)


def test_resolve_a_conflict_with_a_note(
    page: Page, live_url: str, api: httpx.Client, shots: Path
) -> None:
    play_kazakhstan(api)
    sign_in(page, live_url, new_key(api, "Desk editor", "editor"))
    disputed = conflict_of(api, "disputed")
    page.goto(f"{live_url}/events/{EVENT}")
    item = page.locator(f"#conflict-{disputed['id']}")
    item.get_by_text("Resolve with a note").click()
    item.get_by_label("Why the desk considers it settled").fill(
        "dpa confirmed it with the ministry."
    )
    item.get_by_role("button", name="Resolve").click()
    expect(page.get_by_role("status")).to_contain_text("resolved, with your note")
    expect(page.locator("li.conflict[data-status=open]")).to_have_count(8)
    resolved = page.locator(f"#conflict-{disputed['id']}")
    expect(resolved).to_have_attribute("data-status", "resolved")
    expect(resolved).to_contain_text("Resolved by Desk editor")
    expect(resolved).to_contain_text("dpa confirmed it with the ministry.")
    stored = api.get(f"/v1/conflicts/{disputed['id']}").json()
    assert (stored["status"], stored["resolved_by"]) == ("resolved", "Desk editor")
    look(page, shots, "event-after-resolving")
    page.goto(f"{live_url}/conflicts?status=resolved")
    expect(page.locator("li.conflict")).to_have_count(1)
    page.goto(f"{live_url}/conflicts?kind=part_exceeds_whole")
    expect(page.locator("li.conflict")).to_have_count(3)
    page.goto(f"{live_url}/conflicts")
    expect(page.locator("li.conflict[data-status=open]")).to_have_count(8)
    look(page, shots, "conflicts")


def test_a_stale_correction_shows_what_changed_meanwhile(
    browser: Browser,
    browser_context_args: dict[str, Any],
    page: Page,
    live_url: str,
    api: httpx.Client,
    shots: Path,
) -> None:
    refs = play_kazakhstan(api)
    claim = f"{live_url}/claims/{refs['toll225']}"
    sign_in(page, live_url, new_key(api, "Anna", "editor"))
    ben = new_context(browser, live_url, new_key(api, "Ben", "editor"), browser_context_args)
    other = ben.new_page()
    page.goto(claim)
    other.goto(claim)
    page.get_by_text("Correct this claim").click()
    page.get_by_label("Figure", exact=True).fill("227")
    page.get_by_label("Why the correction").fill("AFP updated its copy.")
    page.get_by_role("button", name="Record the correction").click()
    expect(page.get_by_role("status")).to_contain_text("new version")

    other.get_by_text("Correct this claim").click()
    other.get_by_label("Note for the newsroom").fill("Checked by phone.")
    other.get_by_label("Why the correction").fill("Our own check.")
    other.get_by_role("button", name="Record the correction").click()
    expect(other.get_by_role("heading", level=1)).to_have_text(
        "Someone changed this claim while you were editing it"
    )
    change = other.locator("li.revision[data-version='2']")
    expect(change).to_contain_text("by Anna")
    expect(change.locator("del")).to_have_text("225")
    expect(change.locator("ins")).to_have_text("227")
    expect(other.get_by_label("Figure", exact=True)).to_have_value("227")  # theirs kept
    expect(other.get_by_label("Note for the newsroom")).to_have_value("Checked by phone.")
    look(other, shots, "stale-correction")
    assert api.get(f"/v1/claims/{refs['toll225']}").json()["version"] == 2
    other.get_by_role("button", name="Record my correction on version 2").click()
    expect(other.get_by_role("status")).to_contain_text("new version")
    stored = api.get(f"/v1/claims/{refs['toll225']}").json()
    assert (stored["version"], stored["figure"]["text"], stored["note"]) == (
        3,
        "227",
        "Checked by phone.",
    )
    ben.close()


def test_retract_and_open_and_close_a_dispute(
    page: Page, live_url: str, api: httpx.Client, shots: Path
) -> None:
    refs = play_kazakhstan(api)
    claim_id = refs["toll225"]
    sign_in(page, live_url, new_key(api, "Desk editor", "editor"))
    page.goto(f"{live_url}/claims/{claim_id}")
    look(page, shots, "claim")
    page.get_by_text("Record a dispute").click()
    page.get_by_label("Disputed by").fill("Kazakhstan Human Rights Bureau")
    page.get_by_label("Their objection").fill("Its own count is 238 deaths.")
    page.get_by_role("button", name="Record the dispute").click()
    expect(page.get_by_role("status")).to_contain_text("dispute is recorded")
    expect(page.locator(".status-line .badge-disputed")).to_be_visible()
    assert api.get(f"/v1/claims/{claim_id}").json()["disputed"] is True

    dispute = page.locator("li.dispute-open")
    dispute.get_by_label("Close this dispute").fill("They counted a different period.")
    dispute.get_by_role("button", name="Close the dispute").click()
    expect(page.get_by_role("status")).to_contain_text("dispute is closed")
    expect(page.locator("li.dispute-closed")).to_contain_text("They counted a different period.")
    assert api.get(f"/v1/claims/{claim_id}").json()["disputed"] is False

    page.get_by_text("Retract", exact=True).click()
    page.get_by_label("Why it is retracted").fill("AFP withdrew the story.")
    page.get_by_role("button", name="Retract the claim").click()
    expect(page.get_by_role("status")).to_contain_text("marked retracted")
    expect(page.locator(".status-line .badge-retracted")).to_be_visible()
    expect(page.locator("li.revision")).to_have_count(4)
    assert api.get(f"/v1/claims/{claim_id}").json()["status"] == "retracted"
    look(page, shots, "claim-retracted")


def test_paste_an_article_and_record_the_ticked_figures_once(
    page: Page, live_url: str, api: httpx.Client, shots: Path
) -> None:
    event = {"slug": "lahn-floods-2024", "title": "Floods in the Lahn valley, June 2024"}
    assert api.post("/v1/events", json=event).status_code == 201
    source = {"slug": "lahn-post", "name": "Lahn Post", "kind": "newspaper"}
    assert api.post("/v1/sources", json=source).status_code == 201
    sign_in(page, live_url, new_key(api, "Desk editor", "editor"))
    page.get_by_role("link", name="Paste an article").click()
    page.get_by_label("Article text").fill(ARTICLE.read_text(encoding="utf-8"))
    page.get_by_label("Event the figures are about").select_option("lahn-floods-2024")
    page.get_by_label("Source that published it").select_option("lahn-post")
    page.get_by_label("Published on").fill("2024-06-05")
    look(page, shots, "extract")
    page.get_by_role("button", name="Find the figures").click()
    rows = page.locator("table.candidates tbody.candidate")
    expect(rows).to_have_count(4)
    look(page, shots, "extract-candidates")
    row = {
        text: rows.filter(has=page.locator(f"input[value='{text}']"))
        for text in ("At least 42", "about 300", "Some 120", "dozens")
    }
    row["dozens"].get_by_role("checkbox").uncheck()
    row["about 300"].locator("select[name$='.metric']").select_option("displaced")
    form = page.locator("form[action='/extract/record']")
    sent = dict(form.evaluate("f => Array.from(new FormData(f).entries())"))
    page.get_by_role("button", name="Record the ticked figures").click()
    expect(page).to_have_url(re.compile(r"/events/lahn-floods-2024\?done=recorded"))
    expect(page.get_by_role("status").first).to_contain_text("3 claims recorded")
    look(page, shots, "event-after-extraction")

    def recorded() -> set[tuple[str, str, str]]:
        found = api.get("/v1/claims", params={"event": "lahn-floods-2024"}).json()["items"]
        return {(c["figure"]["text"], c["metric"], c["claimant"]) for c in found}

    expected = {
        ("At least 42", "deaths", "the regional police"),
        ("about 300", "displaced", "The fire brigade"),
        ("Some 120", "missing", "the district administration"),
    }
    assert recorded() == expected
    again = page.request.post(f"{live_url}/extract/record", form=sent)  # the double submit
    assert again.ok
    assert again.url.startswith(f"{live_url}/events/lahn-floods-2024")
    assert recorded() == expected
    assert len(api.get("/v1/claims", params={"event": "lahn-floods-2024"}).json()["items"]) == 3


def test_an_unreadable_figure_is_shown_with_its_text_highlighted(
    page: Page, live_url: str, api: httpx.Client, shots: Path
) -> None:
    play_kazakhstan(api)
    sign_in(page, live_url, new_key(api, "Desk editor", "editor"))
    page.goto(f"{live_url}/events/{EVENT}")
    page.get_by_role("link", name="Add a claim").click()
    page.get_by_label("Figure", exact=True).fill("a great many")
    page.get_by_label("As of").fill("2022-01-11")
    page.get_by_label("What is counted").select_option("injuries")
    page.get_by_label("Claimant").fill("Almaty city hospital")
    page.get_by_label("Source").select_option("afp")
    page.get_by_role("button", name="Record the claim").click()
    expect(page.locator("#figure-error mark")).to_have_text("a great many")
    expect(page.get_by_label("Claimant")).to_have_value("Almaty city hospital")
    look(page, shots, "claim-new-unreadable-figure")
    before = len(api.get("/v1/claims", params={"limit": 1000}).json()["items"])
    page.get_by_label("Figure", exact=True).fill("more than 1,300")
    page.get_by_role("button", name="Record the claim").click()
    expect(page.get_by_role("status")).to_contain_text("The claim is recorded")
    expect(page.get_by_role("heading", level=1)).to_contain_text("more than 1,300")
    assert len(api.get("/v1/claims", params={"limit": 1000}).json()["items"]) == before + 1


def test_sign_out_and_back_shows_nothing_private(
    page: Page, live_url: str, api: httpx.Client, shots: Path
) -> None:
    play_kazakhstan(api)
    sign_in(page, live_url, new_key(api, "Desk editor", "editor"))
    page.goto(f"{live_url}/events/{EVENT}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Unrest in Kazakhstan, January 2022")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_url}/sign-in?signed_out=1")
    assert not [c for c in page.context.cookies() if c["name"] == "tally_desk"]
    page.go_back()
    expect(page).to_have_url(re.compile(r"/sign-in\?next="))
    expect(page.get_by_text("Unrest in Kazakhstan")).to_have_count(0)
    expect(page.get_by_label("API key")).to_be_visible()
    look(page, shots, "signed-out")


def test_a_reader_sees_no_forms_and_a_forged_post_is_refused(
    page: Page, live_url: str, api: httpx.Client, shots: Path
) -> None:
    refs = play_kazakhstan(api)
    sign_in(page, live_url, new_key(api, "Night reader", "reader"))
    claim = f"{live_url}/claims/{refs['toll225']}"
    for path in ("/", f"/events/{EVENT}", f"/claims/{refs['toll225']}", "/conflicts"):
        page.goto(f"{live_url}{path}")
        expect(page.locator("form[method=post]:not([action='/sign-out'])")).to_have_count(0)
        expect(page.get_by_role("button", name="Resolve")).to_have_count(0)
    page.goto(claim)
    look(page, shots, "claim-reader")
    token = csrf_of(page)
    forged = page.request.post(f"{claim}/retract", form={"csrf": token, "reason": "forged"})
    assert forged.status == 403
    assert "reader" in forged.text()
    assert_secure(forged)  # type: ignore[arg-type]
    assert api.get(f"/v1/claims/{refs['toll225']}").json()["status"] == "active"
    response = page.goto(f"{live_url}/claims/new?event={EVENT}")
    assert response is not None
    assert response.status == 403
    look(page, shots, "forbidden")


def test_a_post_without_the_csrf_token_is_refused_and_cookies_are_safe(
    page: Page, live_url: str, api: httpx.Client, shots: Path
) -> None:
    refs = play_kazakhstan(api)
    sign_in(page, live_url, new_key(api, "Desk editor", "editor"))
    [cookie] = [c for c in page.context.cookies() if c["name"] == "tally_desk"]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/"
    assert not cookie["secure"]  # plain http here; over https the cookie is Secure
    claim = f"{live_url}/claims/{refs['toll225']}"
    for form in ({"reason": "no token"}, {"reason": "wrong token", "csrf": "0" * 64}):
        refused = page.request.post(f"{claim}/retract", form=form)
        assert refused.status == 403, refused.text()
    assert api.get(f"/v1/claims/{refs['toll225']}").json()["status"] == "active"
    response = page.goto(f"{live_url}/claims/999999")
    assert response is not None
    assert response.status == 404
    assert_secure(response)
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    look(page, shots, "not-found")
    response = page.goto(f"{live_url}/no/such/page")
    assert response is not None
    assert response.status == 404
    assert_secure(response)
