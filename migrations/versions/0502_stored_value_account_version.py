"""A version on each stored-value account, bumped by every write to the row.

Operations read the card without a lock and book with ``UPDATE … WHERE version = :read``:
the version (unlike the balances, which can come back to an earlier value) changes on every
write, so a booking that matches it was decided on exactly the state it changes.

Revision ID: 0502
Revises: 0501
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0502"
down_revision = "0501"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch mode): SQLite's table rebuild would drop the CHECKs.
    op.add_column(
        "stored_value_accounts",
        sa.Column("version", sa.BigInteger(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    # Both SQLite (3.35+) and PostgreSQL drop a column in place, keeping the CHECKs.
    op.execute("ALTER TABLE stored_value_accounts DROP COLUMN version")
