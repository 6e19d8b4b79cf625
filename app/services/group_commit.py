"""Group commit: new claims from concurrent requests share one transaction and one commit."""

from __future__ import annotations

import threading
from concurrent.futures import Future

from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from app.domain.model import Claim
from app.schemas import ClaimCreate
from app.services import claims

Waiting = tuple[ClaimCreate, str, "Future[Claim]"]


class ClaimRecorder:
    """Records the new claims of many request threads together.

    A thread hands its claim in and waits for its turn; the thread whose turn it is takes
    every claim waiting and records them with claims.record_claims (which checks each on its
    own, so a bad claim fails alone) in one transaction. Under load n concurrent writes
    then cost one BEGIN, one pass of the conflict engine over their groups and one COMMIT
    (one fsync) instead of n each (bench/changes.md). A claim alone is a batch of one and
    waits for nobody. A batch holds at most as many claims as requests are handled at once.
    """

    def __init__(self, factory: sessionmaker[Session], tolerance: float, timeout: float) -> None:
        self._factory, self._tolerance, self._timeout = factory, tolerance, timeout
        self._waiting: list[Waiting] = []
        self._waiting_lock = threading.Lock()
        self._turn = threading.Lock()

    def record(self, body: ClaimCreate, actor: str) -> Claim:
        """The recorded claim, once committed; InvalidInput names the field at fault."""
        done: Future[Claim] = Future()
        mine = (body, actor, done)
        with self._waiting_lock:
            self._waiting.append(mine)
        while not done.done():
            if self._turn.acquire(timeout=self._timeout):
                try:
                    if not done.done():
                        self._run()
                finally:
                    self._turn.release()
            elif self._withdraw(mine):  # a refused request must change nothing
                raise PoolTimeout(f"No turn to write within {self._timeout:g} s.")
        return done.result()

    def _withdraw(self, mine: Waiting) -> bool:
        with self._waiting_lock:
            if mine in self._waiting:
                self._waiting.remove(mine)
                return True
            return False  # taken into a batch: its outcome is coming

    def _run(self) -> None:
        with self._waiting_lock:
            batch, self._waiting = self._waiting, []
        try:
            with self._factory() as session:
                items = [(body, actor) for body, actor, _ in batch]
                outcomes = claims.record_claims(session, items, self._tolerance)
        except Exception as error:  # nothing of the batch was committed
            for *_, done in batch:
                done.set_exception(error)
            return
        for (*_, done), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, Exception):
                done.set_exception(outcome)
            else:
                done.set_result(outcome)
