"""The change feed (SPEC §12): every change in commit order, for tools that sync."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from app.api.deps import Reader, SessionFactoryDep, SettingsDep
from app.api.errors import ERROR_RESPONSES
from app.domain.model import InvalidInput
from app.domain.newsroom import START, Position
from app.schemas import ChangePage, ChangeRead
from app.services import changes

router = APIRouter(prefix="/v1/changes", tags=["changes"], responses=ERROR_RESPONSES)

After = Annotated[
    str | None,
    Query(
        pattern=r"^[A-Za-z0-9_-]{1,60}$",
        description="`next_cursor` of the previous answer, or any change's `seq`",
    ),
]
ChangeLimit = Annotated[int, Query(ge=1, le=1000, description="Changes per answer (at most 1,000)")]
Wait = Annotated[
    float,
    Query(ge=0, le=30, description="Seconds to wait for a change when there is none yet (≤ 30)"),
]


@router.get("")
async def read_changes(
    request: Request,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    _: Reader,
    after: After = None,
    limit: ChangeLimit = 100,
    wait: Wait = 0,
) -> ChangePage:
    """The changes after the cursor, oldest first; with `wait`, held open until one arrives.

    While it waits the request holds no database connection and no thread: it polls with a
    short read in the thread pool, sleeping on the event loop in between.
    """
    position = _position(after)
    deadline = anyio.current_time() + wait
    pause = settings.change_poll_seconds / 4
    while True:
        found = await run_in_threadpool(changes.read_changes, factory, position, limit)
        left = deadline - anyio.current_time()
        if found or left <= 0 or await request.is_disconnected():
            break
        await anyio.sleep(min(pause, left))
        pause = min(pause * 2, settings.change_poll_seconds)
    last = found[-1].position if found else position
    return ChangePage(items=[ChangeRead.of(c) for c in found], next_cursor=last.cursor)


def _position(after: str | None) -> Position:
    if after is None:
        return START
    position = Position.of_cursor(after)
    if position is None:
        raise InvalidInput("The cursor is not one Tally gave out.", field="after")
    return position
