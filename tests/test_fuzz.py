"""Property-based fuzzing of the whole API from its OpenAPI document (schemathesis, in-process):
no input gives a server error, and every response conforms to the documented schema."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis import Case
from schemathesis.openapi import from_asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from app.config import Settings
from app.main import create_app
from tests.conftest import ADMIN_KEY

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
FUZZ = hypothesis_settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@pytest.mark.slow  # schemathesis over every operation: seconds per database
def test_api_conforms_and_never_fails(settings: Settings) -> None:
    schema = from_asgi("/openapi.json", create_app(settings))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 25
    for operation in operations:

        @FUZZ
        @given(case=operation.as_strategy())
        def fuzz(case: Case) -> None:
            # Schema-valid bodies may still name an unknown event or source: SPEC §3 makes
            # that a 422, which schemathesis would count as "valid data rejected".
            case.call_and_validate(headers=AUTH, excluded_checks=DEVIATIONS)

        fuzz()


# Deliberate deviations from what schemathesis expects of a schema-valid request:
# - positive_data_acceptance: a name that fits the schema may still name no event, source,
#   metric or claim (SPEC §3: 422 naming it), and a cursor that fits its pattern may not be
#   one Tally gave out (422 naming `cursor`). Every other check runs, server errors included.
DEVIATIONS = [positive_data_acceptance]


@pytest.mark.slow  # sequences of calls linked by the ids the answers carry
def test_api_sequences_never_fail(sqlite_template: Path, tmp_path: Path) -> None:
    """The stateful phase: calls chained by the links schemathesis infers (a claim created,
    then read, corrected, retracted, disputed …), with no server error anywhere.

    Each sequence runs on a fresh database (SQLite): hypothesis draws each step from what the
    earlier ones created, and would find its draws inconsistent if a sequence met the rows of
    the ones before it. The stateless fuzz above runs on both databases.
    """
    copies = itertools.count()

    def fresh_app() -> Any:
        path = tmp_path / f"sequence-{next(copies)}.db"
        shutil.copy(sqlite_template, path)
        url = f"sqlite:///{path}"
        return create_app(Settings(database_url=url, admin_key=ADMIN_KEY, run_worker=False))

    schema = from_asgi("/openapi.json", fresh_app())

    class Sequences(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.app = fresh_app()

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": AUTH, "app": self.app}

        def validate_response(self, response: Any, case: Case, **kwargs: Any) -> None:
            case.validate_response(response, excluded_checks=DEVIATIONS)

    Sequences.run(
        settings=hypothesis_settings(
            max_examples=25,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
    )
