"""the claims current at their own date, marked and indexed (SPEC §5, issue 14)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SERIES = ["event_id", "metric_id", "location_key", "population_id", "claimant_key"]

# What repository.claims.mark_last_of_day keeps: active, and no later active claim of its
# series on its date.
MARK = """
UPDATE claim SET last_of_day = (status <> 'retracted' AND NOT EXISTS (
    SELECT 1 FROM claim AS later
    WHERE later.event_id = claim.event_id AND later.metric_id = claim.metric_id
      AND later.location_key = claim.location_key
      AND later.population_id = claim.population_id
      AND later.claimant_key = claim.claimant_key
      AND later.as_of = claim.as_of AND later.status <> 'retracted'
      AND (later.created_at, later.id) > (claim.created_at, claim.id)))
"""


def upgrade() -> None:
    with op.batch_alter_table("claim") as batch:
        batch.add_column(
            sa.Column("last_of_day", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_index("ix_claim_series", [*SERIES, "as_of", "created_at", "id"])
        batch.drop_index("ix_claim_group")
    op.execute(MARK)
    op.create_index(
        "ix_claim_last_of_day",
        "claim",
        ["event_id", "metric_id", "location_key"],
        sqlite_where=sa.text("last_of_day = 1"),
        postgresql_where=sa.text("last_of_day"),
    )


def downgrade() -> None:
    op.drop_index("ix_claim_last_of_day", table_name="claim")
    with op.batch_alter_table("claim") as batch:
        batch.create_index("ix_claim_group", ["event_id", "metric_id", "location_key"])
        batch.drop_index("ix_claim_series")
        batch.drop_column("last_of_day")
