"""The desk's routes without a browser (SPEC §11): sign-in sessions, roles, CSRF, pages as
errors, forms that change nothing when refused, and no input that gives a 5xx."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from app.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_KEY, claim_body
from tests.test_kazakhstan import load_example, run_steps

EVENT = "kazakhstan-unrest-2022"
PAGES = ("/", f"/events/{EVENT}", "/conflicts", "/extract", f"/claims/new?event={EVENT}")


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    """A client of a fresh app with no credentials: a browser, as far as the desk can tell."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def refs(app_client: TestClient) -> dict[str, str]:
    """The Kazakhstan example, played through the API."""
    app_client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    found = run_steps(app_client, load_example())
    del app_client.headers["Authorization"]
    return found


def api(client: TestClient, method: str, path: str, **kwargs: Any) -> Any:
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    return client.request(method, path, headers=headers, **kwargs)


def key_for(client: TestClient, role: str) -> str:
    response = api(client, "POST", "/v1/keys", json={"name": f"Desk {role}", "role": role})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def token_in(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:2000]
    return match.group(1)


def sign_in(client: TestClient, key: str) -> str:
    """Sign in through the form; the CSRF token of the session."""
    form = client.get("/sign-in")
    body = {"key": key, "csrf": token_in(form.text), "next": "/"}
    response = client.post("/sign-in", data=body, follow_redirects=False)
    assert response.status_code == 303, response.text
    return token_in(client.get("/").text)


def ledger_state(client: TestClient) -> list[tuple[str, int, str]]:
    """Every claim's id, version and status, and the conflicts: what a refused form keeps."""
    claims = api(client, "GET", "/v1/claims", params={"limit": 1000}).json()["items"]
    conflicts = api(client, "GET", "/v1/conflicts", params={"limit": 1000}).json()["items"]
    return [(c["id"], c["version"], c["status"]) for c in claims] + [
        (c["id"], 0, c["status"]) for c in conflicts
    ]


def claim_count(client: TestClient) -> int:
    return len(api(client, "GET", "/v1/claims", params={"limit": 1000}).json()["items"])


def stored_sessions(settings: Settings) -> list[Any]:
    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM desk_session")).mappings().all()
    engine.dispose()
    return list(rows)


# --- signing in ----------------------------------------------------------------------------


def test_unsigned_visitors_are_sent_to_sign_in(
    app_client: TestClient, refs: dict[str, str]
) -> None:
    for path in (*PAGES, f"/claims/{refs['toll225']}"):
        response = app_client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/sign-in?next=/"), path
    retract = app_client.post(
        f"/claims/{refs['toll225']}/retract", data={"reason": "x"}, follow_redirects=False
    )
    assert retract.status_code == 303
    assert api(app_client, "GET", f"/v1/claims/{refs['toll225']}").json()["status"] == "active"


def test_signing_in_opens_a_session_stored_only_as_hashes(
    app_client: TestClient, settings: Settings
) -> None:
    key = key_for(app_client, "editor")
    form = app_client.get("/sign-in")
    response = app_client.post(
        "/sign-in",
        data={"key": key, "csrf": token_in(form.text), "next": "/conflicts"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/conflicts"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("tally_desk="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # plain http; see the https test
    session_id = cookie.split(";")[0].split("=", 1)[1]
    [row] = stored_sessions(settings)
    assert row["token_hash"] == hashlib.sha256(session_id.encode()).hexdigest()
    assert row["key_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert session_id not in str(dict(row))
    assert key not in str(dict(row))
    assert app_client.get("/").status_code == 200


def test_the_cookie_is_secure_over_https(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app, base_url="https://desk.example", raise_server_exceptions=False) as c:
        form = c.get("/sign-in")
        assert "Secure" in form.headers["set-cookie"]
        body = {"key": ADMIN_KEY, "csrf": token_in(form.text)}
        response = c.post("/sign-in", data=body, follow_redirects=False)
        assert "Secure" in response.headers["set-cookie"]
        assert c.get("/").status_code == 200


def test_a_wrong_key_or_a_sign_in_form_from_elsewhere_is_refused(
    app_client: TestClient, settings: Settings
) -> None:
    form = app_client.get("/sign-in")
    wrong = app_client.post("/sign-in", data={"key": "tly_nope", "csrf": token_in(form.text)})
    assert wrong.status_code == 401
    assert "not valid" in wrong.text
    app_client.cookies.clear()  # a page of another site has no sign-in cookie to match
    forged = app_client.post("/sign-in", data={"key": ADMIN_KEY, "csrf": "made-up"})
    assert forged.status_code == 403
    assert "tally_desk" not in app_client.cookies
    assert stored_sessions(settings) == []


def test_after_sign_in_the_browser_goes_only_to_pages_of_this_site(
    app_client: TestClient,
) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"):
        app_client.cookies.clear()
        form = app_client.get("/sign-in", params={"next": target})
        response = app_client.post(
            "/sign-in",
            data={"key": ADMIN_KEY, "csrf": token_in(form.text), "next": target},
            follow_redirects=False,
        )
        assert response.headers["location"] == "/", target


def test_a_session_ends_after_inactivity_and_when_its_key_is_revoked(
    app_client: TestClient, settings: Settings
) -> None:
    sign_in(app_client, key_for(app_client, "editor"))
    engine = create_engine(settings.database_url)
    with engine.begin() as connection:
        idle = datetime.now(UTC) - timedelta(hours=9)
        stamp = idle.replace(tzinfo=None) if settings.is_sqlite else idle
        connection.execute(text("UPDATE desk_session SET last_seen_at = :t"), {"t": stamp})
    engine.dispose()
    assert app_client.get("/", follow_redirects=False).status_code == 303
    assert stored_sessions(settings) == []

    key = key_for(app_client, "editor")
    sign_in(app_client, key)
    assert app_client.get("/").status_code == 200
    keys = api(app_client, "GET", "/v1/keys").json()["items"]
    key_id = next(k["id"] for k in keys if key.startswith(k["prefix"]) and not k["revoked_at"])
    assert api(app_client, "DELETE", f"/v1/keys/{key_id}").status_code == 200
    assert app_client.get("/", follow_redirects=False).status_code == 303


def test_signing_out_ends_the_session(app_client: TestClient, settings: Settings) -> None:
    token = sign_in(app_client, ADMIN_KEY)
    assert app_client.post("/sign-out", data={}, follow_redirects=False).status_code == 403
    response = app_client.post("/sign-out", data={"csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/sign-in?signed_out=1"
    assert stored_sessions(settings) == []
    assert app_client.get("/", follow_redirects=False).status_code == 303


# --- roles and CSRF --------------------------------------------------------------------------


def edit_forms(refs: dict[str, str], token: str | None) -> list[tuple[str, dict[str, str]]]:
    """A POST to each editor action, with valid fields (and `token` as CSRF, if any)."""
    claim = refs["toll225"]
    conflict_form = {"note": "settled", "back": f"/events/{EVENT}"}
    forms = [
        (f"/claims/{claim}/retract", {"reason": "withdrawn"}),
        (f"/claims/{claim}/disputes", {"by": "Someone", "reason": "disagrees"}),
        (f"/claims/{refs['dpa164']}/disputes/1/close", {"note": "done"}),
        (f"/claims/{claim}/correct", {"version": "1", "figure": "226", "reason": "typo"}),
        ("/claims/new", claim_body(event=EVENT, source="afp", once="x" * 24)),
        ("/conflicts/1/resolve", conflict_form),
        (
            "/extract/record",
            {
                "event": EVENT,
                "source": "afp",
                "rows": "1",
                "c0.record": "on",
                "c0.figure": "12",
                "c0.metric": "deaths",
                "c0.population": "all",
                "c0.claimant": "X",
                "once": "y" * 24,
            },
        ),
    ]
    if token is not None:
        forms = [
            (path, {**{k: str(v) for k, v in data.items()}, "csrf": token}) for path, data in forms
        ]
    return [(p, {k: str(v) for k, v in d.items()}) for p, d in forms]


def test_a_reader_sees_no_edit_forms_and_its_forged_posts_are_refused(
    app_client: TestClient, refs: dict[str, str]
) -> None:
    token = sign_in(app_client, key_for(app_client, "reader"))
    for path in (*PAGES[:3], f"/claims/{refs['toll225']}"):
        page = app_client.get(path).text
        actions = set(re.findall(r'<form method="post" action="([^"]+)"', page))
        assert actions <= {"/sign-out"}, (path, actions)
    article = {"csrf": token, "text": "At least 12 people died, the police said."}
    proposed = app_client.post("/extract", data=article)  # reading an article stores nothing
    assert proposed.status_code == 200
    assert "At least 12" in proposed.text
    assert 'action="/extract/record"' not in proposed.text
    before = ledger_state(app_client)
    for path, form in edit_forms(refs, token):
        response = app_client.post(path, data=form)
        assert response.status_code == 403, (path, response.text[:300])
        assert "reader" in response.text
    assert app_client.get(f"/claims/new?event={EVENT}").status_code == 403
    assert ledger_state(app_client) == before


def test_every_post_needs_the_sessions_csrf_token(
    app_client: TestClient, refs: dict[str, str]
) -> None:
    sign_in(app_client, key_for(app_client, "editor"))
    before = ledger_state(app_client)
    for token in (None, "0" * 64):
        for path, form in edit_forms(refs, token):
            response = app_client.post(path, data=form)
            assert response.status_code == 403, (path, response.text[:300])
            assert "text/html" in response.headers["content-type"]
    # Another session's token is no token of this one.
    other = TestClient(app_client.app, raise_server_exceptions=False)
    stolen = sign_in(other, ADMIN_KEY)
    for path, form in edit_forms(refs, stolen):
        assert app_client.post(path, data=form).status_code == 403, path
    assert ledger_state(app_client) == before


# --- pages and their headers ---------------------------------------------------------------


def test_pages_carry_the_security_headers_and_are_not_cached(
    app_client: TestClient, refs: dict[str, str]
) -> None:
    sign_in(app_client, ADMIN_KEY)
    paths = (*PAGES, f"/claims/{refs['toll225']}", "/claims/123456", "/sign-in", "/nowhere")
    for path in paths:
        response = app_client.get(path, headers={"Accept": "text/html"})
        assert response.status_code < 500, path
        assert "text/html" in response.headers["content-type"], path
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "default-src 'none'" in csp
        assert "script-src" not in csp  # no script at all, so none allowed
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["cache-control"] == "no-store"
    css = app_client.get("/static/desk.css")
    assert css.status_code == 200
    assert css.headers["x-content-type-options"] == "nosniff"
    assert "max-age" in css.headers["cache-control"]


def test_errors_are_pages_at_desk_addresses_and_problems_at_the_api(
    app_client: TestClient, refs: dict[str, str]
) -> None:
    sign_in(app_client, ADMIN_KEY)
    missing = app_client.get("/claims/999999", headers={"Accept": "text/html"})
    assert missing.status_code == 404
    assert "<h1>Not found</h1>" in missing.text
    unknown_page = app_client.get("/no/such/page", headers={"Accept": "text/html"})
    assert unknown_page.status_code == 404
    assert "There is no page at this address" in unknown_page.text
    wrong_method = app_client.get("/sign-out", headers={"Accept": "text/html"})
    assert wrong_method.status_code == 405
    assert "text/html" in wrong_method.headers["content-type"]
    api_missing = app_client.get("/v1/nope", headers={"Accept": "text/html"})
    assert api_missing.headers["content-type"] == "application/problem+json"
    plain = app_client.get("/no/such/page", headers={"Accept": "application/json"})
    assert plain.headers["content-type"] == "application/problem+json"


def test_the_event_page_and_its_reports(app_client: TestClient, refs: dict[str, str]) -> None:
    sign_in(app_client, ADMIN_KEY)
    page = app_client.get(f"/events/{EVENT}").text
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 6
    assert page.count('data-status="open"') == len(load_example()["expect_open_conflicts"])
    assert app_client.get(f"/events/{EVENT}?scale=log").status_code == 200
    report = app_client.get(f"/events/{EVENT}/report.json")
    assert report.json()["event"] == EVENT
    csv = app_client.get(f"/events/{EVENT}/report.csv")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    markdown = app_client.get(f"/events/{EVENT}/report.md")
    assert markdown.headers["content-type"].startswith("text/plain")
    assert markdown.text.startswith("# ")
    assert "Open conflicts" in markdown.text


def test_the_event_page_is_made_again_once_its_event_changes(
    app_client: TestClient, refs: dict[str, str], settings: Settings
) -> None:
    sign_in(app_client, ADMIN_KEY)
    first = app_client.get(f"/events/{EVENT}").text
    assert app_client.get(f"/events/{EVENT}").text == first  # kept: the same version
    source = api(app_client, "GET", "/v1/sources").json()["items"][0]["slug"]
    claim = {"claimant": "Almaty city hall", "figure": "4321", "event": EVENT, "source": source}
    assert api(app_client, "POST", "/v1/claims", json=claim_body(**claim)).status_code == 201
    assert "Almaty city hall: 4321" not in first
    assert "Almaty city hall: 4321" in app_client.get(f"/events/{EVENT}").text
    renamed = {"title": "Kazakhstan, January 2022 (renamed)"}
    assert api(app_client, "PATCH", f"/v1/events/{EVENT}", json=renamed).status_code == 200
    assert "(renamed)" in app_client.get(f"/events/{EVENT}").text
    assert "(renamed)" in api(app_client, "GET", f"/v1/events/{EVENT}/report").json()["title"]
    # Another desk session gets a page of its own (its name, its CSRF token), never this one's.
    with TestClient(create_app(settings), raise_server_exceptions=False) as other:
        sign_in(other, key_for(other, "reader"))
        theirs = other.get(f"/events/{EVENT}").text
    assert token_in(theirs) != token_in(app_client.get(f"/events/{EVENT}").text)
    assert "Desk reader" in theirs


def test_events_are_listed_by_latest_activity(app_client: TestClient, refs: dict[str, str]) -> None:
    assert api(
        app_client, "POST", "/v1/events", json={"slug": "later", "title": "Later"}
    ).is_success
    sign_in(app_client, ADMIN_KEY)
    titles = re.findall(r'<h2><a href="/events/([^"]+)"', app_client.get("/").text)
    assert titles == ["later", EVENT]
    body = {"reason": "withdrawn"}
    assert api(app_client, "POST", f"/v1/claims/{refs['toll225']}/retract", json=body).is_success
    titles = re.findall(r'<h2><a href="/events/([^"]+)"', app_client.get("/").text)
    assert titles == [EVENT, "later"]


# --- forms that change the ledger -------------------------------------------------------------


def test_a_stale_correction_changes_nothing_and_says_what_changed(
    app_client: TestClient, refs: dict[str, str]
) -> None:
    token = sign_in(app_client, key_for(app_client, "editor"))
    claim = refs["toll225"]
    patch = app_client.patch(
        f"/v1/claims/{claim}",
        headers={"If-Match": '"1"', "Authorization": f"Bearer {ADMIN_KEY}"},
        json={"note": "n", "reason": "first"},
    )
    assert patch.status_code == 200
    form = {"csrf": token, "version": "1", "figure": "230", "reason": "second"}
    response = app_client.post(f"/claims/{claim}/correct", data=form)
    assert response.status_code == 409
    assert "Someone changed this claim while you were editing it" in response.text
    assert "first" in response.text
    stored = api(app_client, "GET", f"/v1/claims/{claim}").json()
    assert (stored["version"], stored["figure"]["text"]) == (2, "225")
    form["version"] = "2"
    assert app_client.post(f"/claims/{claim}/correct", data=form).status_code == 200
    stored = api(app_client, "GET", f"/v1/claims/{claim}").json()
    assert (stored["version"], stored["figure"]["text"], stored["note"]) == (3, "230", "n")


def test_an_unreadable_figure_is_refused_with_its_text_highlighted(
    app_client: TestClient, refs: dict[str, str]
) -> None:
    token = sign_in(app_client, key_for(app_client, "editor"))
    before = ledger_state(app_client)
    form = {k: str(v) for k, v in claim_body(event=EVENT, source="afp").items()}
    form |= {"figure": "a great <many>", "csrf": token, "once": "z" * 24}
    response = app_client.post("/claims/new", data=form)
    assert response.status_code == 422
    assert "<mark>a great &lt;many&gt;</mark>" in response.text
    correction = {"csrf": token, "version": "1", "figure": "lots", "reason": "why not"}
    response = app_client.post(f"/claims/{refs['toll225']}/correct", data=correction)
    assert response.status_code == 422
    assert "<mark>lots</mark>" in response.text
    assert ledger_state(app_client) == before


def test_a_form_sent_twice_records_once(app_client: TestClient, refs: dict[str, str]) -> None:
    token = sign_in(app_client, key_for(app_client, "editor"))
    form = {k: str(v) for k, v in claim_body(event=EVENT, source="afp").items()}
    form |= {"csrf": token, "once": "a" * 24}
    count = claim_count(app_client)
    first = app_client.post("/claims/new", data=form, follow_redirects=False)
    second = app_client.post("/claims/new", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert claim_count(app_client) == count + 1
    changed = app_client.post("/claims/new", data=form | {"figure": "99"})
    assert changed.status_code == 409
    assert claim_count(app_client) == count + 1


def test_the_extraction_table_records_all_ticked_rows_or_none(
    app_client: TestClient, refs: dict[str, str]
) -> None:
    token = sign_in(app_client, key_for(app_client, "editor"))
    article = {
        "csrf": token,
        "text": "At least 12 people died, the police said on Monday.",
        "event": EVENT,
        "source": "afp",
        "published_on": "2022-01-11",
    }
    table = app_client.post("/extract", data=article)
    assert table.status_code == 200
    once = re.search(r'name="once" value="([^"]+)"', table.text).group(1)  # type: ignore[union-attr]
    rows = {
        "rows": "2",
        "once": once,
        "c0.record": "on",
        "c0.figure": "At least 12",
        "c0.metric": "deaths",
        "c0.population": "all",
        "c0.claimant": "the police",
        "c0.as_of": "2022-01-10",
        "c1.record": "on",
        "c1.figure": "umpteen",
        "c1.metric": "injuries",
        "c1.population": "all",
        "c1.claimant": "the police",
    }
    before, count = ledger_state(app_client), claim_count(app_client)
    refused = app_client.post("/extract/record", data=article | rows)
    assert refused.status_code == 422
    assert "<mark>umpteen</mark>" in refused.text
    assert ledger_state(app_client) == before
    rows |= {"c1.figure": "dozens"}  # corrected: the same table may be sent again
    recorded = app_client.post("/extract/record", data=article | rows, follow_redirects=False)
    assert recorded.status_code == 303
    assert "recorded=2" in recorded.headers["location"]
    again = app_client.post("/extract/record", data=article | rows, follow_redirects=False)
    assert again.headers["location"] == recorded.headers["location"]
    assert claim_count(app_client) == count + 2


HOSTILE = [
    "",
    " ",
    "\x00",
    "A" * 20_000,
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "1e999",
    "-1",
    "99999999999999999999",
    "\u202e\u200b",
    "%00",
    "' OR 1=1 --",
]


def test_hostile_input_gives_no_server_error_and_changes_nothing(
    app_client: TestClient, refs: dict[str, str]
) -> None:
    token = sign_in(app_client, key_for(app_client, "editor"))
    before = ledger_state(app_client)
    claim = refs["toll225"]
    for value in HOSTILE:
        part = quote(value, safe="")
        paths = [
            f"/claims/{part}",
            f"/events/{part}",
            f"/conflicts?event={part}",
            f"/conflicts?kind={part}&cursor={part}",
            f"/?page={part}",
            f"/events/{EVENT}?scale={part}",
            f"/sign-in?next={part}",
        ]
        for path in paths:
            assert app_client.get(path).status_code < 500, (path, value)
        forms = [
            (f"/claims/{claim}/correct", {"version": value, "figure": value, "reason": value}),
            (
                f"/claims/{claim}/correct",
                {"version": "1", "as_of": value, "reason": "r", "url": value, "cites": value},
            ),
            (f"/claims/{claim}/disputes", {"by": value, "reason": value, "url": value}),
            (f"/claims/{claim}/disputes/{part}/close", {"note": value}),
            (f"/conflicts/{part}/resolve", {"note": value, "back": value}),
            ("/claims/new", {"event": value, "figure": value, "once": value}),
            ("/extract", {"text": value, "event": value, "published_on": value}),
            ("/extract/record", {"rows": value, "once": value, "c0.record": "on"}),
        ]
        for path, form in forms:
            response = app_client.post(path, data=form | {"csrf": token})
            assert response.status_code < 500, (path, value, response.text[:500])
    assert app_client.post(f"/claims/{claim}/retract", data={"csrf": token}).status_code == 422
    assert ledger_state(app_client) == before
