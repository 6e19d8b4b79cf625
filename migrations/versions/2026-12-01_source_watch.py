"""source watch: checks of the pages claims link to (SPEC §13)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watch_host",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("busy_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_request_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_host")),
        sa.UniqueConstraint("name", name=op.f("uq_watch_host_name")),
    )
    op.create_table(
        "claim_watch",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("next_check_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("unavailable", sa.Boolean(), nullable=False),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("figure_seen", sa.Boolean(), nullable=False),
        sa.Column("figure_found", sa.Boolean(), nullable=True),
        sa.Column("etag", sa.String(length=500), nullable=True),
        sa.Column("last_modified", sa.String(length=100), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("figure_key", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_claim_watch_claim_id_claim")
        ),
        sa.ForeignKeyConstraint(
            ["host_id"], ["watch_host.id"], name=op.f("fk_claim_watch_host_id_watch_host")
        ),
        sa.PrimaryKeyConstraint("claim_id", name=op.f("pk_claim_watch")),
    )
    with op.batch_alter_table("claim_watch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_claim_watch_host_id"), ["host_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_claim_watch_next_check_at"), ["next_check_at"], unique=False
        )

    op.create_table(
        "source_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("figure_found", sa.Boolean(), nullable=True),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("changed", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim.id"], name=op.f("fk_source_check_claim_id_claim")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_check")),
    )
    with op.batch_alter_table("source_check", schema=None) as batch_op:
        batch_op.create_index("ix_source_check_claim", ["claim_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("source_check", schema=None) as batch_op:
        batch_op.drop_index("ix_source_check_claim")
    op.drop_table("source_check")
    with op.batch_alter_table("claim_watch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_claim_watch_next_check_at"))
        batch_op.drop_index(batch_op.f("ix_claim_watch_host_id"))
    op.drop_table("claim_watch")
    op.drop_table("watch_host")
