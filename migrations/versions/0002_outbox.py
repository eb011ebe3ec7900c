"""The ledger outbox: entries staged by domain transactions.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_outbox",
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_ledger_outbox"),
    )
    op.create_index("ix_ledger_outbox_created_at", "ledger_outbox", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_ledger_outbox_created_at", table_name="ledger_outbox")
    op.drop_table("ledger_outbox")
