"""Stored value's references to the channel's parties (stores, dealers) as foreign keys.

Revision ID: 0501
Revises: 0500
Depends on: 0301 (the parties table)
Create Date: 2026-11-25
"""

from alembic import op

revision = "0501"
down_revision = "0500"
branch_labels = None
depends_on = "0301"

# (table, column) pairs that name a party. None of these tables has a CHECK constraint, so
# SQLite's batch mode (which rebuilds the table and does not reflect CHECKs) loses nothing.
REFERENCES = {
    "members": ("issuer_id", "home_store_id"),
    "stored_value_journal": ("store_id", "issuer_id"),
    "stored_value_promotions": ("owner_id",),
}


def upgrade() -> None:
    for table, columns in REFERENCES.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.create_foreign_key(
                    f"fk_{table}_{column}_parties", "parties", [column], ["party_id"]
                )


def downgrade() -> None:
    for table, columns in REFERENCES.items():
        with op.batch_alter_table(table) as batch:
            for column in columns:
                batch.drop_constraint(f"fk_{table}_{column}_parties", type_="foreignkey")
