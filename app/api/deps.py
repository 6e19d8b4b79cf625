"""Request dependencies: the session, the settings and shared services, who is calling, and
what they may do. Routes receive these by type; nothing else reads `request.app.state`.

A caller is a bearer key, or — for a GET without Authorization that carries `?share=<token>`
— a share link, which reads its one page as a reader would and nothing else (SPEC §12)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from app.api.middleware import PRINCIPAL
from app.api.sharing import share_token
from app.config import Settings
from app.domain.records import Principal, Role
from app.services import keys, share_links
from app.services.group_commit import ClaimRecorder
from app.services.keys import KeyCache
from app.services.reports import ReportCache
from app.services.sessions import ReadSessions, Session, SessionFactory


def get_session(request: Request) -> Iterator[Session]:
    """A session per request; services commit, this only closes (rolling back leftovers)."""
    with request.app.state.sessionmaker() as session:
        yield session


def get_read_session(request: Request) -> Iterator[Session]:
    """A session for a read that may trail the latest writes by up to TALLY_READ_MAX_LAG_SECONDS
    (a list, a report, an export, a feed): on the replica when one is set and close enough,
    else on the primary. Reads its own writes on the primary: a page shown right after a
    write (the desk's redirects carry `done=`), and a request sent with
    `Cache-Control: no-cache`."""
    with _read_factory(request)() as session:
        yield session


def _read_factory(request: Request) -> Callable[[], Session]:
    fresh = "done" in request.query_params or "no-cache" in request.headers.get("cache-control", "")
    state = request.app.state
    factory: Callable[[], Session] = state.sessionmaker if fresh else state.read_sessions
    return factory


async def get_read_factory(request: Request) -> Callable[[], Session]:
    """What get_read_session opens, for a route that opens it in its own thread."""
    return _read_factory(request)


# The getters below are async only so that FastAPI calls them on the event loop: a plain
# function would cost every request a trip through the thread pool for each of them.


async def get_session_factory(request: Request) -> SessionFactory:
    factory: SessionFactory = request.app.state.sessionmaker
    return factory


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_read_sessions(request: Request) -> ReadSessions:
    sessions: ReadSessions = request.app.state.read_sessions
    return sessions


async def get_recorder(request: Request) -> ClaimRecorder:
    recorder: ClaimRecorder = request.app.state.claim_recorder
    return recorder


async def get_key_cache(request: Request) -> KeyCache:
    cache: KeyCache = request.app.state.key_cache
    return cache


async def get_report_cache(request: Request) -> ReportCache:
    cache: ReportCache = request.app.state.report_cache
    return cache


SessionDep = Annotated[Session, Depends(get_session)]
ReadSessionDep = Annotated[Session, Depends(get_read_session)]
ReadSessionsDep = Annotated[ReadSessions, Depends(get_read_sessions)]
ReadFactoryDep = Annotated[Callable[[], Session], Depends(get_read_factory)]
SessionFactoryDep = Annotated[SessionFactory, Depends(get_session_factory)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
RecorderDep = Annotated[ClaimRecorder, Depends(get_recorder)]
KeyCacheDep = Annotated[KeyCache, Depends(get_key_cache)]
ReportCacheDep = Annotated[ReportCache, Depends(get_report_cache)]

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits callers whose key has at least `role`.

    Async, so that a key the middleware already admitted (RequestContext) costs no trip
    through the thread pool; a share link, or a key it did not see, is looked up in one.
    """

    async def dependency(
        request: Request,
        credentials: Credentials,
        factory: SessionFactoryDep,
        settings: SettingsDep,
        cache: KeyCacheDep,
    ) -> Principal:
        if credentials is None:
            token = share_token(request.scope)
            if token is None:
                raise HTTPException(401, "An API key is required.", {"WWW-Authenticate": "Bearer"})
            return await run_in_threadpool(_shared, request, token, factory, role)
        principal: Principal | None = request.scope.get(PRINCIPAL)
        if principal is None:
            key = credentials.credentials
            principal = await run_in_threadpool(keys.authenticate, factory, key, settings, cache)
        if principal is None:
            raise HTTPException(401, "The API key is not valid.", {"WWW-Authenticate": "Bearer"})
        if not principal.role.admits(role):
            raise HTTPException(403, f"This action needs the {role.value} role.")
        return principal

    dependency.required_role = role  # type: ignore[attr-defined]  # read by the auth-matrix test
    return dependency


def _shared(request: Request, token: str, factory: SessionFactory, role: Role) -> Principal:
    """The reader a share link stands for on this request; 401 for a link that is not (or no
    longer) valid, 403 for another page, another method or a route readers may not use."""
    try:
        query = request.scope.get("query_string", b"").decode("latin-1")
        principal = share_links.admit(factory, token, request.method, request.scope["path"], query)
    except share_links.Refused as refusal:
        if refusal.forbidden:
            raise HTTPException(403, refusal.detail) from None
        raise HTTPException(401, refusal.detail, {"WWW-Authenticate": "Bearer"}) from None
    if not principal.role.admits(role):
        raise HTTPException(403, f"This action needs the {role.value} role.")
    return principal


Reader = Annotated[Principal, Depends(require(Role.READER))]
Editor = Annotated[Principal, Depends(require(Role.EDITOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
