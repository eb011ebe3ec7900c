"""Traceability: products, base liquors, blends, batches, codes, code events and index.

Revision ID: 0200
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0200"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_products",
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("name_zh", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("volume_ml", sa.Integer(), nullable=False),
        sa.Column("abv_permille", sa.Integer(), nullable=False),
        sa.Column("aroma", sa.String(length=16), nullable=False),
        sa.Column("case_size", sa.SmallInteger(), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("gtin", name=op.f("pk_trace_products")),
    )
    op.create_table(
        "trace_base_liquors",
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("tank", sa.String(length=40), nullable=False),
        sa.Column("distillery", sa.String(length=200), nullable=False),
        sa.Column("vintage", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=40), nullable=False),
        sa.Column("abv_permille", sa.Integer(), nullable=False),
        sa.Column("volume_ml", sa.BigInteger(), nullable=False),
        sa.Column("remaining_ml", sa.BigInteger(), nullable=False),
        sa.Column("zone_id", sa.String(length=40), nullable=True),
        sa.Column("stored_since", sa.Date(), nullable=True),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("lot", name=op.f("pk_trace_base_liquors")),
    )
    op.create_table(
        "trace_blends",
        sa.Column("blend_no", sa.String(length=20), nullable=False),
        sa.Column("blender", sa.String(length=100), nullable=False),
        sa.Column("blended_on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("abv_permille", sa.Integer(), nullable=False),
        sa.Column("volume_ml", sa.BigInteger(), nullable=False),
        sa.Column("remaining_ml", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("blend_no", name=op.f("pk_trace_blends")),
    )
    op.create_table(
        "trace_blend_inputs",
        sa.Column("blend_no", sa.String(length=20), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("volume_ml", sa.BigInteger(), nullable=False),
        sa.Column("share_bp", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blend_no"],
            ["trace_blends.blend_no"],
            name=op.f("fk_trace_blend_inputs_blend_no_trace_blends"),
        ),
        sa.ForeignKeyConstraint(
            ["lot"],
            ["trace_base_liquors.lot"],
            name=op.f("fk_trace_blend_inputs_lot_trace_base_liquors"),
        ),
        sa.PrimaryKeyConstraint("blend_no", "lot", name=op.f("pk_trace_blend_inputs")),
    )
    op.create_index(op.f("ix_trace_blend_inputs_lot"), "trace_blend_inputs", ["lot"], unique=False)
    op.create_table(
        "trace_batches",
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("blend_no", sa.String(length=20), nullable=False),
        sa.Column("line", sa.String(length=100), nullable=False),
        sa.Column("bottled_on", sa.Date(), nullable=False),
        sa.Column("planned_qty", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recall_reason", sa.Text(), nullable=True),
        sa.Column("recalled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("recall_entry_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["blend_no"],
            ["trace_blends.blend_no"],
            name=op.f("fk_trace_batches_blend_no_trace_blends"),
        ),
        sa.ForeignKeyConstraint(
            ["gtin"], ["trace_products.gtin"], name=op.f("fk_trace_batches_gtin_trace_products")
        ),
        sa.PrimaryKeyConstraint("lot", name=op.f("pk_trace_batches")),
    )
    op.create_index(op.f("ix_trace_batches_gtin"), "trace_batches", ["gtin"], unique=False)
    op.create_table(
        "trace_code_batches",
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caps_issued_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["lot"], ["trace_batches.lot"], name=op.f("fk_trace_code_batches_lot_trace_batches")
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_trace_code_batches")),
    )
    op.create_index(op.f("ix_trace_code_batches_lot"), "trace_code_batches", ["lot"], unique=False)
    op.create_table(
        "trace_codes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("serial", sa.String(length=20), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("location", sa.String(length=60), nullable=True),
        sa.Column("region", sa.String(length=60), nullable=True),
        sa.Column("holder_kind", sa.String(length=16), nullable=True),
        sa.Column("cap_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("cap_redeemed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("replaced_by", sa.BigInteger(), nullable=True),
        sa.Column("replacements", sa.SmallInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_codes")),
        sa.UniqueConstraint("serial", name=op.f("uq_trace_codes_serial")),
    )
    op.create_index(op.f("ix_trace_codes_batch_id"), "trace_codes", ["batch_id"], unique=False)
    op.create_index("ix_trace_codes_lot_state", "trace_codes", ["lot", "state"], unique=False)
    op.create_index(op.f("ix_trace_codes_parent_id"), "trace_codes", ["parent_id"], unique=False)
    op.create_table(
        "trace_code_events",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lot", sa.String(length=20), nullable=True),
        sa.Column("location", sa.String(length=60), nullable=True),
        sa.Column("region", sa.String(length=60), nullable=True),
        sa.Column("party", sa.String(length=60), nullable=True),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("nodes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_trace_code_events")),
    )
    op.create_index(op.f("ix_trace_code_events_lot"), "trace_code_events", ["lot"], unique=False)
    op.create_index(
        op.f("ix_trace_code_events_parent_id"), "trace_code_events", ["parent_id"], unique=False
    )
    op.create_table(
        "trace_code_index",
        sa.Column("code_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code_id", "entry_id", name=op.f("pk_trace_code_index")),
    )


def downgrade() -> None:
    op.drop_index("ix_trace_blend_inputs_lot", table_name="trace_blend_inputs")
    op.drop_index("ix_trace_batches_gtin", table_name="trace_batches")
    op.drop_index("ix_trace_code_batches_lot", table_name="trace_code_batches")
    op.drop_index("ix_trace_codes_batch_id", table_name="trace_codes")
    op.drop_index("ix_trace_codes_lot_state", table_name="trace_codes")
    op.drop_index("ix_trace_codes_parent_id", table_name="trace_codes")
    op.drop_index("ix_trace_code_events_lot", table_name="trace_code_events")
    op.drop_index("ix_trace_code_events_parent_id", table_name="trace_code_events")
    op.drop_table("trace_code_index")
    op.drop_table("trace_code_events")
    op.drop_table("trace_codes")
    op.drop_table("trace_code_batches")
    op.drop_table("trace_batches")
    op.drop_table("trace_blend_inputs")
    op.drop_table("trace_blends")
    op.drop_table("trace_base_liquors")
    op.drop_table("trace_products")
