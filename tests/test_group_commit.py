"""Group commit: claims posted at once share a transaction, and each keeps its own outcome."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.domain.model import InvalidInput
from app.schemas import ClaimCreate
from app.services import claims
from app.services.group_commit import ClaimRecorder
from tests.conftest import claim_body, count_claims


def body(**fields: object) -> ClaimCreate:
    return ClaimCreate.model_validate(claim_body(**fields))


def held_first_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[threading.Event, threading.Event, list[int]]:
    """record_claims that holds its first batch until released; and every batch's size."""
    entered, release, sizes = threading.Event(), threading.Event(), []
    real = claims.record_claims

    def record_claims(session: Any, items: list[Any], tolerance: float) -> Any:
        sizes.append(len(items))
        if len(sizes) == 1:
            entered.set()
            assert release.wait(10)
        return real(session, items, tolerance)

    monkeypatch.setattr(claims, "record_claims", record_claims)
    return entered, release, sizes


def recorder_of(client: TestClient, timeout: float) -> ClaimRecorder:
    return ClaimRecorder(client.app.state.sessionmaker, 0.1, timeout)  # type: ignore[attr-defined]


def submit(pool: ThreadPoolExecutor, record: Callable[..., Any], claim: ClaimCreate) -> Future[Any]:
    return pool.submit(record, claim, "tester")


def test_claims_waiting_for_a_turn_are_recorded_together_each_with_its_outcome(
    ledger: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release, sizes = held_first_batch(monkeypatch)
    recorder = recorder_of(ledger, timeout=10)
    with ThreadPoolExecutor(6) as pool:
        first = submit(pool, recorder.record, body(claimant="First", figure="10"))
        assert entered.wait(10)
        waiting = [
            submit(pool, recorder.record, body(claimant=name, figure=figure))
            for name, figure in (("A", "20"), ("B", "30"), ("C", "40"), ("D", "50"))
        ]
        bad = submit(pool, recorder.record, body(claimant="Bad", metric="no_such_metric"))
        while len(recorder._waiting) < 5:  # every one has queued behind the held batch
            threading.Event().wait(0.01)
        release.set()
        recorded = [first.result(10), *(f.result(10) for f in waiting)]
        with pytest.raises(InvalidInput) as refused:
            bad.result(10)
    assert sizes == [1, 5]  # the five that waited shared one transaction
    assert refused.value.field == "metric"
    assert [r.claimant for r in recorded] == ["First", "A", "B", "C", "D"]
    assert len({r.id for r in recorded}) == 5
    assert count_claims(ledger) == 5
    # Each claim's conflicts were found although they were recorded together.
    conflicts = ledger.get("/v1/conflicts", params={"kind": "value_mismatch"}).json()["items"]
    pairs = {frozenset(c["claims"]) for c in conflicts}
    assert frozenset({recorded[0].id, recorded[1].id}) in pairs
    assert len(pairs) == 10  # every two of the five claims of one date disagree


def test_a_claim_that_waits_too_long_for_its_turn_is_refused_and_never_recorded(
    ledger: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    entered, release, sizes = held_first_batch(monkeypatch)
    recorder = recorder_of(ledger, timeout=0.2)
    with ThreadPoolExecutor(2) as pool:
        first = submit(pool, recorder.record, body(claimant="First"))
        assert entered.wait(10)
        with pytest.raises(PoolTimeout):
            recorder.record(body(claimant="Late"), "tester")
        release.set()
        first.result(10)
    assert sizes == [1]  # the refused claim never reached a batch
    assert count_claims(ledger) == 1
    assert recorder.record(body(claimant="Next"), "tester").claimant == "Next"
    assert count_claims(ledger) == 2


def test_a_failed_batch_fails_every_claim_in_it_and_records_none(
    ledger: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object, **__: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr("app.services.detection.reevaluate", fail)
    recorder = recorder_of(ledger, timeout=10)
    with pytest.raises(RuntimeError):
        recorder.record(body(), "tester")
    monkeypatch.undo()
    assert count_claims(ledger) == 0
    assert recorder.record(body(), "tester").version == 1


@pytest.mark.slow
def test_a_claim_that_crashes_its_check_fails_alone_among_concurrent_writers(
    ledger: TestClient, live_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One request's bad input never fails another's: 25 claims whose figure makes the check
    raise an unexpected error, among 75 valid ones posted at the same time."""
    import httpx

    from tests.conftest import ADMIN_KEY

    real = claims.parse_figure

    def parse_figure(text: str, **options: Any) -> Any:
        if text == "boom":
            raise RuntimeError("a grammar bug")
        return real(text, **options)

    monkeypatch.setattr(claims, "parse_figure", parse_figure)
    bodies = [
        claim_body(claimant=f"Office {n}", figure="boom" if n % 4 == 0 else str(10 + n))
        for n in range(100)
    ]
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with (
        # A connection per request: none is reused just as the server closes it.
        httpx.Client(
            base_url=live_url,
            headers=auth,
            timeout=60,
            limits=httpx.Limits(max_keepalive_connections=0),
        ) as http,
        ThreadPoolExecutor(32) as pool,
    ):
        answers = list(pool.map(lambda b: http.post("/v1/claims", json=b), bodies))
    statuses = [a.status_code for a in answers]
    assert statuses == [500 if n % 4 == 0 else 201 for n in range(100)]
    assert count_claims(ledger) == 75
