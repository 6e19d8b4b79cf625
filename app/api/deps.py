"""Request dependencies: who is calling, and what they may do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.services import keys
from app.services.keys import Principal, Role

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`")


def require(role: Role) -> Callable[..., Principal]:
    """A dependency that admits callers whose key has at least `role`."""

    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            raise HTTPException(401, "An API key is required.", {"WWW-Authenticate": "Bearer"})
        state = request.app.state

        def look_up() -> Principal | None:
            # A connection of its own (a Session costs twice as much for one query), returned
            # before the route runs: a request holds at most one pooled connection at a time.
            with state.engine.connect() as connection:
                return keys.authenticate(connection, credentials.credentials, state.settings)

        principal: Principal | None = state.key_cache.principal(credentials.credentials, look_up)
        if principal is None:
            raise HTTPException(401, "The API key is not valid.", {"WWW-Authenticate": "Bearer"})
        if not principal.role.admits(role):
            raise HTTPException(403, f"This action needs the {role.value} role.")
        return principal

    dependency.required_role = role  # type: ignore[attr-defined]  # read by the auth-matrix test
    return dependency


Reader = Annotated[Principal, Depends(require(Role.READER))]
Editor = Annotated[Principal, Depends(require(Role.EDITOR))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
