"""Health, readiness and Prometheus metrics; these need no key."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import ReadSessionsDep, SessionDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.services import ops

router = APIRouter(tags=["operations"], responses=ERROR_RESPONSES)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up: answered on the event loop, ahead of queued work (see RequestContext)."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(
    session: SessionDep, reads: ReadSessionsDep, settings: SettingsDep, response: Response
) -> dict[str, str]:
    """The database answers, is migrated to the code's schema and could take a write now.
    With a read replica, also how the replica is; one down or lagging is no reason to be
    unready (reads go to the primary meanwhile)."""
    problem = ops.readiness_problem(session, settings.sqlite_min_free_bytes)
    answer = {"status": "unavailable", "detail": problem} if problem else {"status": "ready"}
    if problem:
        response.status_code = 503
    replica = reads.replica_status()
    if replica is not None:
        answer |= {"primary": answer["status"], "replica": replica[0], "replica_detail": replica[1]}
    return answer


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
