"""What desk routes receive: the signed-in user, the checked form of a POST, the form-once
guard. Built on app.api.deps, so that both front ends share the session and settings."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.datastructures import FormData

from app.api.deps import SessionFactoryDep, SettingsDep
from app.domain.records import StoredResponse
from app.services import desk
from app.services.desk import DeskUser
from app.services.idempotency import IdempotencyStore
from app.services.kept import Kept
from app.services.sessions import Session
from app.web.pages import SignInRequired

COOKIE = "tally_desk"  # the session id; the database holds only its hash
MAX_FIELDS = 5_000  # an extraction table of 200 candidates has about 1,800


def current_user(request: Request, factory: SessionFactoryDep, settings: SettingsDep) -> DeskUser:
    """The signed-in user; SignInRequired (to the sign-in page) when there is none."""
    session_id = request.cookies.get(COOKIE)
    user = desk.signed_in(factory, session_id, settings) if session_id else None
    if user is None:
        raise SignInRequired()
    request.state.desk_user = user
    return user


User = Annotated[DeskUser, Depends(current_user)]


async def get_page_cache(request: Request) -> Kept[bytes]:
    pages: Kept[bytes] = request.app.state.page_cache
    return pages


PageCacheDep = Annotated[Kept[bytes], Depends(get_page_cache)]


def current_editor(user: User) -> DeskUser:
    """The signed-in user when their key may write: 403 for a reader."""
    if not user.can_edit:
        detail = (
            f"You are signed in as {user.principal.name}, with a reader's key: you can read"
            " everything, but changing the ledger needs an editor's key."
        )
        raise HTTPException(403, detail)
    return user


Editor = Annotated[DeskUser, Depends(current_editor)]


async def checked_form(request: Request, user: User) -> FormData:
    """The POSTed form, once its CSRF token is the session's own; 403 otherwise."""
    form = await request.form(max_fields=MAX_FIELDS)
    sent = form.get("csrf")
    if not desk.same_token(user.csrf, sent if isinstance(sent, str) else None):
        detail = (
            "This form did not come from a page Tally showed you in this session (it may be"
            " from before you last signed in). Go back, reload the page and send it again."
        )
        raise HTTPException(403, detail)
    return form


Form = Annotated[FormData, Depends(checked_form)]


def text(form: FormData, name: str) -> str:
    """A form field as text ("" when absent or a file)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- sending a form once --------------------------------------------------------------------

ONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
Outcome = str  # where the browser goes next


class FormOnce:
    """Runs a form's action once however often the form is sent (a double click, a resent
    page): the form carries a random token, and the action's outcome is kept under it in
    the Idempotency-Key store, whose records and leases the API's retries use too."""

    def __init__(self, store: IdempotencyStore, wait_seconds: float) -> None:
        self.store, self.wait_seconds = store, wait_seconds

    def run(
        self,
        user: DeskUser,
        form: FormData,
        action: Callable[[], Outcome],
        session: Session | None = None,
    ) -> Outcome:
        """The action's outcome, or the first sending's when this form was sent before.

        A refused action (it raised) releases the token, so that the corrected form can be
        sent again; `session`, the one the action writes in, is rolled back first (it would
        hold the write lock that the release waits for). HTTPException 409 when the same
        form comes back with other values, or while its first sending is still at work.
        """
        token = text(form, "once")
        if not ONCE.fullmatch(token):
            raise HTTPException(400, "This form is incomplete. Reload the page and try again.")
        scope, owner = f"desk:{user.principal.name}"[:100], secrets.token_hex(16)
        found = self._reserve(scope, token, _fingerprint(form), owner)
        if found is not None:
            return found.headers["location"]
        try:
            outcome = action()
        except BaseException:
            if session is not None:
                session.rollback()
            self.store.store(scope, token, owner, None)
            raise
        self.store.store(scope, token, owner, StoredResponse(303, {"location": outcome}, ""))
        return outcome

    def _reserve(
        self, scope: str, token: str, fingerprint: str, owner: str
    ) -> StoredResponse | None:
        """None once this request holds the token, else the first sending's outcome."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            found = self.store.peek(scope, token, fingerprint)
            if found is None:
                found = self.store.claim(scope, token, fingerprint, owner)
            if found == "proceed":
                return None
            if isinstance(found, StoredResponse):
                return found
            if found == "mismatch":
                raise HTTPException(409, ALREADY_SENT)
            if time.monotonic() > deadline:  # pending: its first sending is still at work
                raise HTTPException(409, "This form is still being recorded; reload shortly.")
            time.sleep(0.05)


ALREADY_SENT = (
    "This form was already sent, with other values, and what it recorded then stays recorded."
    " Nothing was recorded this time. Open the page again to start afresh."
)


def _fingerprint(form: FormData) -> str:
    # Browsers send line breaks as CR LF, scripts and tests often as LF: the same form.
    items = sorted(
        (k, v.replace("\r\n", "\n"))
        for k, v in form.multi_items()
        if k != "csrf" and isinstance(v, str)
    )
    return hashlib.sha256(repr(items).encode()).hexdigest()


def form_once(factory: SessionFactoryDep, settings: SettingsDep) -> FormOnce:
    lease = timedelta(seconds=settings.idempotency_lease_seconds)
    store = IdempotencyStore(factory, timedelta(hours=settings.idempotency_ttl_hours), lease)
    return FormOnce(store, settings.db_timeout_seconds)


Once = Annotated[FormOnce, Depends(form_once)]
