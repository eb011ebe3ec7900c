"""Stock rows split into stripes: a warehouse × SKU's cases spread over several rows.

Every order of a SKU reserves against the same few HQ rows, and a row lock is held until the
order commits, so those orders queued one behind another. With the cases spread over
stripes, an order locks one stripe and concurrent orders mostly lock different ones; on hand,
reserved and available of a warehouse × SKU are the sums over its stripes (docs/ordering.md,
*Stock*). Existing rows become stripe 0.

Revision ID: 0304
Revises: 0303
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0304"
down_revision = "0303"
branch_labels = None
depends_on = None

_COLUMNS = "warehouse_id, gtin, on_hand, reserved, updated_at"


def _rebuild_sqlite(stripe_column: bool) -> None:
    """SQLite cannot change a primary key in place: build the table anew, keeping its CHECK
    and foreign key, and copy the rows over."""
    stripe = "stripe SMALLINT NOT NULL DEFAULT 0, " if stripe_column else ""
    key = "warehouse_id, gtin, stripe" if stripe_column else "warehouse_id, gtin"
    op.execute(
        f"""CREATE TABLE stock_levels_new (
            warehouse_id VARCHAR(40) NOT NULL,
            gtin VARCHAR(14) NOT NULL,
            {stripe}on_hand BIGINT NOT NULL,
            reserved BIGINT NOT NULL,
            updated_at DATETIME NOT NULL,
            CONSTRAINT pk_stock_levels PRIMARY KEY ({key}),
            CONSTRAINT fk_stock_levels_warehouse_id_parties FOREIGN KEY (warehouse_id)
                REFERENCES parties (party_id),
            CONSTRAINT ck_stock_levels_reserved_within_on_hand
                CHECK (reserved >= 0 AND reserved <= on_hand)
        )"""
    )
    if stripe_column:
        op.execute(f"INSERT INTO stock_levels_new ({_COLUMNS}) SELECT {_COLUMNS} FROM stock_levels")
    else:
        op.execute(
            f"INSERT INTO stock_levels_new ({_COLUMNS}) SELECT warehouse_id, gtin, "
            "sum(on_hand), sum(reserved), max(updated_at) FROM stock_levels "
            "GROUP BY warehouse_id, gtin"
        )
    op.execute("DROP TABLE stock_levels")
    op.execute("ALTER TABLE stock_levels_new RENAME TO stock_levels")
    op.create_index("ix_stock_levels_gtin", "stock_levels", ["gtin"])


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(stripe_column=True)
        return
    op.add_column(
        "stock_levels",
        sa.Column("stripe", sa.SmallInteger(), nullable=False, server_default="0"),
    )
    op.drop_constraint("pk_stock_levels", "stock_levels", type_="primary")
    op.create_primary_key("pk_stock_levels", "stock_levels", ["warehouse_id", "gtin", "stripe"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(stripe_column=False)
        return
    op.execute(
        "CREATE TEMPORARY TABLE stock_levels_summed ON COMMIT DROP AS "
        "SELECT warehouse_id, gtin, sum(on_hand) AS on_hand, sum(reserved) AS reserved, "
        "max(updated_at) AS updated_at FROM stock_levels GROUP BY warehouse_id, gtin"
    )
    op.execute("DELETE FROM stock_levels")
    op.drop_constraint("pk_stock_levels", "stock_levels", type_="primary")
    op.drop_column("stock_levels", "stripe")
    op.create_primary_key("pk_stock_levels", "stock_levels", ["warehouse_id", "gtin"])
    op.execute(f"INSERT INTO stock_levels ({_COLUMNS}) SELECT {_COLUMNS} FROM stock_levels_summed")
