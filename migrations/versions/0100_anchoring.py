"""Anchoring: anchors of checkpoints on an EVM chain, their transactions, the worker lease.

Revision ID: 0100
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0100"
down_revision = "0002"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "anchors",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("calldata", sa.LargeBinary(), nullable=False),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("effective_gas_price", sa.BigInteger(), nullable=True),
        sa.Column("reorgs", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_anchors"),
        sa.UniqueConstraint("chain_id", "tree_size", name="uq_anchors_chain_id_tree_size"),
        sa.ForeignKeyConstraint(
            ["tree_size"],
            ["ledger_checkpoints.tree_size"],
            name="fk_anchors_tree_size_ledger_checkpoints",
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'submitted', 'confirmed')", name="ck_anchors_state"
        ),
    )
    op.create_index("ix_anchors_state_tree_size", "anchors", ["state", "tree_size"])
    op.create_table(
        "anchor_transactions",
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("anchor_id", _ID, nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("max_fee_per_gas", sa.BigInteger(), nullable=False),
        sa.Column("max_priority_fee_per_gas", sa.BigInteger(), nullable=False),
        sa.Column("gas_limit", sa.BigInteger(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("broadcast_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rejected", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("tx_hash", name="pk_anchor_transactions"),
        sa.ForeignKeyConstraint(
            ["anchor_id"], ["anchors.id"], name="fk_anchor_transactions_anchor_id_anchors"
        ),
    )
    op.create_index("ix_anchor_transactions_anchor_id", "anchor_transactions", ["anchor_id"])
    op.create_table(
        "anchoring_lease",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_anchoring_lease"),
    )


def downgrade() -> None:
    op.drop_table("anchoring_lease")
    op.drop_index("ix_anchor_transactions_anchor_id", table_name="anchor_transactions")
    op.drop_table("anchor_transactions")
    op.drop_index("ix_anchors_state_tree_size", table_name="anchors")
    op.drop_table("anchors")
