"""What every noun's queries share: pages by id, ids from the path, refusals of unknown names."""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, select
from sqlalchemy.orm import Session

from app import models
from app.db import Base
from app.domain.model import InvalidInput, NotFound

M = TypeVar("M", bound=Base)
T = TypeVar("T")


def page(
    session: Session, model: type[M], after: int, limit: int, *where: ColumnElement[bool]
) -> list[M]:
    """Up to limit+1 rows with id > after, by id: the extra row tells that more follow."""
    id_column: Any = model.id  # type: ignore[attr-defined]
    query = select(model).where(id_column > after, *where).order_by(id_column).limit(limit + 1)
    return list(session.scalars(query))


def table_of(model: type[Base]) -> Table:
    """The model's Core table: statements on it skip the ORM's per-row work (bulk inserts)."""
    return Base.metadata.tables[model.__tablename__]


def is_postgres(session: Session) -> bool:
    """Whether the session's database is PostgreSQL (else the embedded SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def _found(
    found: T | None, noun: str, name: str, field: str | None, session: Session | None = None
) -> T:
    if found is not None:
        return found
    raise unknown(noun, name, field, session)


def unknown(
    noun: str, name: str, field: str | None, session: Session | None = None
) -> NotFound | InvalidInput:
    """Why no `noun` is named `name`: NotFound, or InvalidInput naming `field` (a reference).

    With a session, the sentence goes on with the nearest name ("Did you mean …?"), the names
    there are, and how to create one.
    """
    names = known_names(session, noun) if session is not None else None
    hint = "" if names is None else " " + _help(noun, name, names)
    if field is None:
        return NotFound(f'No {noun} named "{name}".{hint}')
    return InvalidInput(f'Unknown {noun} "{name}".{hint}', field=field)


# The names a client refers to each noun by.
NAME_COLUMNS: dict[str, Any] = {
    "event": models.Event.slug,
    "source": models.Source.slug,
    "metric": models.Metric.name,
    "population": models.Population.name,
}
# How a client adds one (a sentence), by noun.
CREATE = {
    "event": 'Create it with POST /v1/events {"slug", "title"}.',
    "source": 'Create it with POST /v1/sources {"slug", "name", "kind"}.',
    "metric": 'An admin adds one with POST /v1/metrics {"name", "kind"}.',
    "population": 'An admin adds one with POST /v1/populations {"name", "parent"}.',
}
LISTED = 20  # names listed at most; the nearest is suggested among all


def known_names(session: Session, noun: str) -> list[str] | None:
    """Every name of `noun` in order, or None for a noun not known by name (claims …)."""
    column = NAME_COLUMNS.get(noun)
    if column is None:
        return None
    return list(session.scalars(select(column).order_by(column)))


def _help(noun: str, name: str, names: list[str]) -> str:
    """Did you mean …? The names there are. How to create one."""
    create = CREATE[noun]
    if not names:
        return f"There are no {noun}s yet. {create}"
    nearest = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
    nearest = nearest or [n for n in names if n.startswith(name) or name.startswith(n)][:1]
    guess = f'Did you mean "{nearest[0]}"? ' if nearest else ""
    shown = ", ".join(names[:LISTED]) + (
        f" and {len(names) - LISTED} more" if len(names) > LISTED else ""
    )
    return f"{guess}Known {noun}s: {shown}. {create}"
