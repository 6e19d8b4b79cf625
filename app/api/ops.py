"""Health, readiness and Prometheus metrics; these need no key."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import SessionDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.services import ops

router = APIRouter(tags=["operations"], responses=ERROR_RESPONSES)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up: answered on the event loop, ahead of queued work (see RequestContext)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(session: SessionDep, settings: SettingsDep, response: Response) -> dict[str, str]:
    """The database answers, is migrated to the code's schema and could take a write now."""
    problem = ops.readiness_problem(session, settings.sqlite_min_free_bytes)
    if problem:
        response.status_code = 503
        return {"status": "unavailable", "detail": problem}
    return {"status": "ready"}


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
