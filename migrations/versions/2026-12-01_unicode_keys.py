"""unicode keys: claimants and locations compared after NFKC, without format characters

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:40:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

claim = sa.table(
    "claim",
    sa.column("id", sa.Integer),
    sa.column("claimant", sa.String),
    sa.column("claimant_key", sa.String),
    sa.column("location", sa.String),
    sa.column("location_key", sa.String),
)


def key(text: str | None) -> str:
    """app.domain.model.normalise as of this revision (a migration keeps its own copy)."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(c for c in text if unicodedata.category(c) != "Cf").casefold()
    text = unicodedata.normalize("NFKC", text).replace("i\u0307", "i")
    return " ".join(text.split())


def upgrade() -> None:
    connection = op.get_bind()
    after = 0
    while True:  # in pages of ids: a large ledger is never held in memory at once
        rows = connection.execute(
            sa.select(claim).where(claim.c.id > after).order_by(claim.c.id).limit(PAGE)
        ).all()
        if not rows:
            return
        for row in rows:
            keys = {"claimant_key": key(row.claimant), "location_key": key(row.location)}
            if keys != {"claimant_key": row.claimant_key, "location_key": row.location_key}:
                connection.execute(claim.update().where(claim.c.id == row.id).values(**keys))
        after = rows[-1].id


PAGE = 10_000


def downgrade() -> None:
    pass  # the earlier keys were a coarser form of these: nothing to undo
