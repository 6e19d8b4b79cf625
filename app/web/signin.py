"""Signing in with an API key and out again (SPEC §11)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from starlette.datastructures import FormData

from app.api.deps import KeyCacheDep, SessionFactoryDep, SettingsDep
from app.services import desk
from app.web.deps import COOKIE, text
from app.web.pages import DeskRoute, local_path, redirect, render

router = APIRouter(route_class=DeskRoute, include_in_schema=False)

# Before a session exists, the sign-in form's CSRF token is a cookie that the form repeats.
SIGN_IN_COOKIE = "tally_sign_in"
MAX_KEY = 200


async def plain_form(request: Request) -> FormData:
    return await request.form(max_fields=20)


PlainForm = Annotated[FormData, Depends(plain_form)]
Next = Annotated[str, Query(max_length=2000)]


def _cookie(
    response: Response, request: Request, name: str, value: str, path: str, max_age: int
) -> None:
    """An HttpOnly, SameSite=Lax cookie, Secure whenever the desk is reached over https."""
    secure = request.url.scheme == "https"
    response.set_cookie(
        name, value, max_age, path=path, secure=secure, httponly=True, samesite="lax"
    )


def _form(
    request: Request, next_page: str, error: str | None = None, status: int = 200
) -> Response:
    token = secrets.token_urlsafe(32)
    context = {
        "csrf": token,
        "next": local_path(next_page),
        "error": error,
        "signed_out": request.query_params.get("signed_out") == "1",
    }
    response = render(request, "sign_in.html", context, status)
    _cookie(response, request, SIGN_IN_COOKIE, token, path="/sign-in", max_age=3600)
    return response


@router.get("/sign-in")
def sign_in_page(
    request: Request, factory: SessionFactoryDep, settings: SettingsDep, next: Next = "/"
) -> Response:
    session_id = request.cookies.get(COOKIE)
    if session_id and desk.signed_in(factory, session_id, settings):
        return redirect(local_path(next))
    return _form(request, next)


@router.post("/sign-in")
def sign_in(
    request: Request,
    form: PlainForm,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    cache: KeyCacheDep,
) -> Response:
    next_page = local_path(text(form, "next"))
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not desk.same_token(expected, text(form, "csrf")):
        error = "The sign-in page had expired. Please enter your key again."
        return _form(request, next_page, error, 403)
    key = text(form, "key").strip()
    found = desk.sign_in(factory, key, settings, cache) if len(key) <= MAX_KEY else None
    if found is None:
        error = "That key is not valid, or it was revoked. Check it and try again."
        return _form(request, next_page, error, 401)
    previous = request.cookies.get(COOKIE)
    if previous:  # a session this browser held before ends: one browser, one session
        desk.sign_out(factory, previous)
    session_id, _ = found
    response = redirect(next_page)
    _cookie(
        response, request, COOKIE, session_id, path="/", max_age=int(desk.LIFETIME.total_seconds())
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
def sign_out(
    request: Request, form: PlainForm, factory: SessionFactoryDep, settings: SettingsDep
) -> Response:
    session_id = request.cookies.get(COOKIE)
    user = desk.signed_in(factory, session_id, settings) if session_id else None
    if user is not None and session_id:
        if not desk.same_token(user.csrf, text(form, "csrf")):
            raise HTTPException(403, "This sign-out form did not come from your session.")
        desk.sign_out(factory, session_id)
    response = redirect("/sign-in?signed_out=1")
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=request.url.scheme == "https"
    )
    return response
