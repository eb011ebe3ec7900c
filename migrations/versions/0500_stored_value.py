"""Members, their stored-value accounts, the journal, idempotency keys and promotions.

Revision ID: 0500
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0500"
down_revision = "0002"
branch_labels = None
depends_on = None

MEMBER = "members.member_id"
_NOW = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "members",
        sa.Column("member_id", sa.String(40), nullable=False),
        sa.Column("issuer_id", sa.String(40), nullable=False),
        sa.Column("home_store_id", sa.String(40), nullable=False),
        sa.Column("real_name", sa.Boolean(), nullable=False),
        sa.Column("token_generation", sa.Integer(), nullable=False),
        sa.Column("created_at", _NOW, nullable=False),
        sa.Column("erased_at", _NOW, nullable=True),
        sa.Column("registered_entry_id", sa.String(36), nullable=False),
        sa.Column("real_name_entry_id", sa.String(36), nullable=True),
        sa.PrimaryKeyConstraint("member_id", name="pk_members"),
    )
    op.create_index("ix_members_issuer_id", "members", ["issuer_id"])
    op.create_table(
        "member_personal_data",
        sa.Column("member_id", sa.String(40), nullable=False),
        sa.Column("issuer_id", sa.String(40), nullable=False),
        sa.Column("phone_hmac", sa.LargeBinary(32), nullable=False),
        sa.Column("phone_ct", sa.LargeBinary(), nullable=False),
        sa.Column("name_ct", sa.LargeBinary(), nullable=True),
        sa.Column("id_number_ct", sa.LargeBinary(), nullable=True),
        sa.Column("salt", sa.LargeBinary(32), nullable=False),
        sa.Column("updated_at", _NOW, nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_member_personal_data"),
        sa.ForeignKeyConstraint(
            ["member_id"],
            [MEMBER],
            name="fk_member_personal_data_member_id_members",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("issuer_id", "phone_hmac", name="uq_member_personal_data_issuer_id"),
    )
    op.create_table(
        "stored_value_accounts",
        sa.Column("member_id", sa.String(40), nullable=False),
        sa.Column("issuer_id", sa.String(40), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("bonus_fen", sa.BigInteger(), nullable=False),
        sa.Column("debit_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", _NOW, nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_stored_value_accounts"),
        sa.ForeignKeyConstraint(
            ["member_id"], [MEMBER], name="fk_stored_value_accounts_member_id_members"
        ),
        sa.CheckConstraint(
            "principal_fen >= 0", name=op.f("ck_stored_value_accounts_principal_not_negative")
        ),
        sa.CheckConstraint(
            "bonus_fen >= 0", name=op.f("ck_stored_value_accounts_bonus_not_negative")
        ),
    )
    op.create_index("ix_stored_value_accounts_issuer_id", "stored_value_accounts", ["issuer_id"])
    op.create_table(
        "stored_value_journal",
        sa.Column("journal_id", sa.String(36), nullable=False),
        sa.Column("operation", sa.String(16), nullable=False),
        sa.Column("store_id", sa.String(40), nullable=False),
        sa.Column("issuer_id", sa.String(40), nullable=False),
        sa.Column("member_id", sa.String(40), nullable=False),
        sa.Column("pos_txn", sa.String(64), nullable=False),
        sa.Column("business_day", sa.Date(), nullable=False),
        sa.Column("created_at", _NOW, nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("bonus_fen", sa.BigInteger(), nullable=False),
        sa.Column("principal_after_fen", sa.BigInteger(), nullable=False),
        sa.Column("bonus_after_fen", sa.BigInteger(), nullable=False),
        sa.Column("payment_method", sa.String(16), nullable=True),
        sa.Column("promotion_id", sa.String(40), nullable=True),
        sa.Column("gift_sku", sa.String(64), nullable=True),
        sa.Column("gift_name", sa.String(200), nullable=True),
        sa.Column("gift_qty", sa.Integer(), nullable=True),
        sa.Column("gift_cost_fen", sa.BigInteger(), nullable=True),
        sa.Column("ref_journal_id", sa.String(36), nullable=True),
        sa.Column("refunded_principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("refunded_bonus_fen", sa.BigInteger(), nullable=False),
        sa.Column("voided_by", sa.String(36), nullable=True),
        sa.Column("debit_count_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("journal_id", name="pk_stored_value_journal"),
        sa.ForeignKeyConstraint(
            ["member_id"], [MEMBER], name="fk_stored_value_journal_member_id_members"
        ),
    )
    op.create_index(
        "ix_stored_value_journal_store_day", "stored_value_journal", ["store_id", "business_day"]
    )
    op.create_index(
        "ix_stored_value_journal_member", "stored_value_journal", ["member_id", "created_at"]
    )
    op.create_table(
        "stored_value_postings",
        sa.Column("journal_id", sa.String(36), nullable=False),
        sa.Column("line", sa.SmallInteger(), nullable=False),
        sa.Column("account", sa.String(120), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("journal_id", "line", name="pk_stored_value_postings"),
        sa.ForeignKeyConstraint(
            ["journal_id"],
            ["stored_value_journal.journal_id"],
            name="fk_stored_value_postings_journal_id_stored_value_journal",
        ),
    )
    op.create_index("ix_stored_value_postings_account", "stored_value_postings", ["account"])
    op.create_table(
        "stored_value_requests",
        sa.Column("idempotency_key", sa.String(120), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("request_digest", sa.LargeBinary(32), nullable=False),
        sa.Column("member_id", sa.String(40), nullable=True),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", _NOW, nullable=False),
        sa.PrimaryKeyConstraint("idempotency_key", name="pk_stored_value_requests"),
    )
    op.create_index("ix_stored_value_requests_member_id", "stored_value_requests", ["member_id"])
    op.create_table(
        "stored_value_promotions",
        sa.Column("promotion_id", sa.String(40), nullable=False),
        sa.Column("owner_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("min_paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("bonus_fen", sa.BigInteger(), nullable=False),
        sa.Column("gift_sku", sa.String(64), nullable=True),
        sa.Column("gift_name", sa.String(200), nullable=True),
        sa.Column("gift_qty", sa.Integer(), nullable=True),
        sa.Column("gift_cost_fen", sa.BigInteger(), nullable=True),
        sa.Column("starts_at", _NOW, nullable=True),
        sa.Column("ends_at", _NOW, nullable=True),
        sa.Column("created_at", _NOW, nullable=False),
        sa.Column("retired_at", _NOW, nullable=True),
        sa.PrimaryKeyConstraint("promotion_id", name="pk_stored_value_promotions"),
    )
    op.create_index("ix_stored_value_promotions_owner_id", "stored_value_promotions", ["owner_id"])


def downgrade() -> None:
    op.drop_table("stored_value_promotions")
    op.drop_table("stored_value_requests")
    op.drop_table("stored_value_postings")
    op.drop_table("stored_value_journal")
    op.drop_table("stored_value_accounts")
    op.drop_table("member_personal_data")
    op.drop_table("members")
