"""newsroom integrations: share links, the change feed, alert formats (SPEC §12)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL: each change row remembers the transaction that wrote it (xid8, epoch included),
# the key of the feed's commit order (app.repository.changes). SQLite admits one writer at a
# time, so its row ids already follow commits.
TXID = {
    "postgresql": sa.text("(pg_current_xact_id()::text::bigint)"),
    "sqlite": sa.text("0"),
}


def upgrade() -> None:
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("format", sa.String(length=20), nullable=False, server_default="standard")
        )
        batch_op.add_column(sa.Column("event", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("metric", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("kinds", sa.JSON(), nullable=True))

    op.create_table(
        "change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "txid", sa.BigInteger(), nullable=False, server_default=TXID[op.get_bind().dialect.name]
        ),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(length=20), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=True),
        sa.Column("metric", sa.String(length=100), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change")),
    )
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.create_index("ix_change_position", ["txid", "id"], unique=False)
        batch_op.create_index("ix_change_event_position", ["event", "txid", "id"], unique=False)

    op.create_table(
        "share_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_share_link_token_hash")),
    )


def downgrade() -> None:
    op.drop_table("share_link")
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_index("ix_change_event_position")
        batch_op.drop_index("ix_change_position")
    op.drop_table("change")
    with op.batch_alter_table("webhook", schema=None) as batch_op:
        batch_op.drop_column("kinds")
        batch_op.drop_column("metric")
        batch_op.drop_column("event")
        batch_op.drop_column("format")
