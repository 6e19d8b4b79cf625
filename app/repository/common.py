"""What every noun's queries share: pages by id, ids from the path, refusals of unknown names."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

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


def _found(found: T | None, noun: str, name: str, field: str | None) -> T:
    if found is not None:
        return found
    raise unknown(noun, name, field)


def unknown(noun: str, name: str, field: str | None) -> NotFound | InvalidInput:
    """Why no `noun` is named `name`: NotFound, or InvalidInput naming `field` (a reference)."""
    if field is None:
        return NotFound(f'No {noun} named "{name}".')
    return InvalidInput(f'Unknown {noun} "{name}".', field=field)
