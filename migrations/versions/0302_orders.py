"""Price lists, stock levels, orders with their lines, allocations and history.

Revision ID: 0302
Revises: 0301
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0302"
down_revision = "0301"
branch_labels = None
depends_on = None

PARTY = "parties.party_id"
ORDER = "orders.order_id"


def upgrade() -> None:
    op.create_table(
        "price_list_items",
        sa.Column("seller_id", sa.String(40), nullable=False),
        sa.Column("tier", sa.String(32), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("case_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("seller_id", "tier", "gtin", name="pk_price_list_items"),
        sa.ForeignKeyConstraint(
            ["seller_id"], [PARTY], name="fk_price_list_items_seller_id_parties"
        ),
        sa.CheckConstraint("case_price_fen > 0", name="price_positive"),
    )
    op.create_table(
        "stock_levels",
        sa.Column("warehouse_id", sa.String(40), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("on_hand", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("warehouse_id", "gtin", name="pk_stock_levels"),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], [PARTY], name="fk_stock_levels_warehouse_id_parties"
        ),
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
    )
    op.create_index("ix_stock_levels_gtin", "stock_levels", ["gtin"])
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("buyer_id", sa.String(40), nullable=False),
        sa.Column("seller_id", sa.String(40), nullable=False),
        sa.Column("ship_to_id", sa.String(40), nullable=False),
        sa.Column("region_id", sa.String(40), nullable=False),
        sa.Column("dealer_id", sa.String(40), nullable=False),
        sa.Column("store_id", sa.String(40), nullable=True),
        sa.Column("client_key", sa.String(100), nullable=False),
        sa.Column("request_digest", sa.LargeBinary(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name="pk_orders"),
        sa.UniqueConstraint("buyer_id", "client_key", name="uq_orders_client_key"),
        sa.ForeignKeyConstraint(["buyer_id"], [PARTY], name="fk_orders_buyer_id_parties"),
        sa.ForeignKeyConstraint(["seller_id"], [PARTY], name="fk_orders_seller_id_parties"),
        sa.ForeignKeyConstraint(["ship_to_id"], [PARTY], name="fk_orders_ship_to_id_parties"),
    )
    op.create_index("ix_orders_region_id", "orders", ["region_id"])
    op.create_index("ix_orders_dealer_id", "orders", ["dealer_id"])
    op.create_index("ix_orders_store_id", "orders", ["store_id"])
    op.create_index("ix_orders_state", "orders", ["state"])
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("line_no", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("case_price_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_no", name="pk_order_lines"),
        sa.ForeignKeyConstraint(["order_id"], [ORDER], name="fk_order_lines_order_id_orders"),
        sa.CheckConstraint("cases > 0", name="cases_positive"),
    )
    op.create_table(
        "order_allocations",
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("line_no", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("rank", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("warehouse_id", sa.String(40), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(32), nullable=False),
        sa.Column("distance_m", sa.BigInteger(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", "line_no", "rank", name="pk_order_allocations"),
        sa.ForeignKeyConstraint(["order_id"], [ORDER], name="fk_order_allocations_order_id_orders"),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], [PARTY], name="fk_order_allocations_warehouse_id_parties"
        ),
        sa.CheckConstraint("reserved >= 0 AND reserved <= cases", name="reserved"),
    )
    op.create_index("ix_order_allocations_warehouse_id", "order_allocations", ["warehouse_id"])
    op.create_table(
        "order_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_order_events"),
        sa.ForeignKeyConstraint(["order_id"], [ORDER], name="fk_order_events_order_id_orders"),
    )
    op.create_index("ix_order_events_order_id", "order_events", ["order_id"])


def downgrade() -> None:
    op.drop_table("order_events")
    op.drop_table("order_allocations")
    op.drop_table("order_lines")
    op.drop_table("orders")
    op.drop_table("stock_levels")
    op.drop_table("price_list_items")
