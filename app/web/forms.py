"""Forms of the desk: their fields read into the API's own input models, errors by field."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from app.domain.model import DomainError

M = TypeVar("M", bound=BaseModel)
Errors = dict[str, str]  # field -> what is wrong with it, in words

# The claim fields an editor fills in, in the order of SPEC §3.
CLAIM_FIELDS = (
    "event",
    "metric",
    "population",
    "location",
    "figure",
    "as_of",
    "claimant",
    "source",
    "url",
    "quote",
    "published_at",
    "cites",
    "note",
)
MESSAGES = {
    "missing": "is required",
    "string_too_short": "is required",
    "string_too_long": "is too long",
    "url_parsing": "must be a web address starting with http:// or https://",
    "url_scheme": "must be a web address starting with http:// or https://",
    "date_from_datetime_parsing": "must be a date (year-month-day)",
    "date_parsing": "must be a date (year-month-day)",
    "date_from_datetime_inexact": "must be a date (year-month-day)",
    "greater_than_equal": "is too early",
    "less_than_equal": "is too late",
    "string_pattern_mismatch": "is not one Tally knows",
}


def filled(form: FormData, names: Iterable[str]) -> dict[str, str]:
    """The named fields that hold text, stripped (an empty field is left out)."""
    values = {name: form.get(name) for name in names}
    return {k: v.strip() for k, v in values.items() if isinstance(v, str) and v.strip()}


def read(model: type[M], values: Mapping[str, Any]) -> M | Errors:
    """The model of the values, or what is wrong with them, by field."""
    try:
        return model.model_validate(dict(values))
    except ValidationError as error:
        return errors_of(error)


def errors_of(error: ValidationError) -> Errors:
    found: Errors = {}
    for problem in error.errors():
        loc = [str(part) for part in problem.get("loc", ()) if isinstance(part, str)]
        field = loc[0] if loc else "form"
        message = MESSAGES.get(problem["type"], str(problem["msg"]).removeprefix("Value error, "))
        found.setdefault(field, message)
    return found


def domain_errors(error: DomainError) -> Errors:
    """A refusal that names its field, as form errors (else under "form")."""
    return {error.field or "form": error.detail}


def label(name: str) -> str:
    """A field's name as a form shows it."""
    return LABELS.get(name, name.replace("_", " ").capitalize())


LABELS = {
    "as_of": "As of",
    "url": "Link",
    "published_at": "Published at",
    "cites": "Relays claim",
    "key": "API key",
}
