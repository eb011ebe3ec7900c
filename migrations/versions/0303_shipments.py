"""Shipments with their lines and scans, the custody projection, return authorizations.

Revision ID: 0303
Revises: 0302
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0303"
down_revision = "0302"
branch_labels = None
depends_on = None

PARTY = "parties.party_id"
SHIPMENT = "shipments.shipment_id"


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "shipments",
        sa.Column("shipment_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("return_id", sa.String(40), nullable=True),
        sa.Column("from_party_id", sa.String(40), nullable=False),
        sa.Column("from_warehouse_id", sa.String(40), nullable=True),
        sa.Column("to_party_id", sa.String(40), nullable=False),
        sa.Column("to_warehouse_id", sa.String(40), nullable=True),
        sa.Column("region_id", sa.String(40), nullable=False),
        sa.Column("dealer_id", sa.String(40), nullable=False),
        sa.Column("store_id", sa.String(40), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("shipped_entries", sa.Text(), nullable=False),
        sa.Column("received_entries", sa.Text(), nullable=False),
        sa.Column("missing_count", sa.Integer(), nullable=False),
        sa.Column("extra_count", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("dispatched_at", True),
        _ts("received_at", True),
        sa.PrimaryKeyConstraint("shipment_id", name="pk_shipments"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.order_id"], name="fk_shipments_order_id_orders"
        ),
        sa.ForeignKeyConstraint(
            ["from_party_id"], [PARTY], name="fk_shipments_from_party_id_parties"
        ),
        sa.ForeignKeyConstraint(
            ["from_warehouse_id"], [PARTY], name="fk_shipments_from_warehouse_id_parties"
        ),
        sa.ForeignKeyConstraint(["to_party_id"], [PARTY], name="fk_shipments_to_party_id_parties"),
        sa.ForeignKeyConstraint(
            ["to_warehouse_id"], [PARTY], name="fk_shipments_to_warehouse_id_parties"
        ),
    )
    for column in (
        "order_id",
        "return_id",
        "from_warehouse_id",
        "to_warehouse_id",
        "region_id",
        "dealer_id",
        "store_id",
        "state",
    ):
        op.create_index(f"ix_shipments_{column}", "shipments", [column])
    op.create_table(
        "shipment_lines",
        sa.Column("shipment_id", sa.String(40), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("shipment_id", "gtin", name="pk_shipment_lines"),
        sa.ForeignKeyConstraint(
            ["shipment_id"], [SHIPMENT], name="fk_shipment_lines_shipment_id_shipments"
        ),
    )
    op.create_table(
        "shipment_scans",
        sa.Column("shipment_id", sa.String(40), nullable=False),
        sa.Column("phase", sa.String(8), nullable=False),
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column("code_id", sa.BigInteger(), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        _ts("scanned_at"),
        sa.Column("scanned_by", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("shipment_id", "phase", "serial", name="pk_shipment_scans"),
        sa.ForeignKeyConstraint(
            ["shipment_id"], [SHIPMENT], name="fk_shipment_scans_shipment_id_shipments"
        ),
    )
    op.create_index("ix_shipment_scans_serial", "shipment_scans", ["serial"])
    op.create_table(
        "custody",
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column("code_id", sa.BigInteger(), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("holder_id", sa.String(40), nullable=False),
        sa.Column("warehouse_id", sa.String(40), nullable=True),
        sa.Column("to_id", sa.String(40), nullable=True),
        sa.Column("entry_id", sa.String(36), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("serial", name="pk_custody"),
        sa.UniqueConstraint("code_id", name="uq_custody_code_id"),
    )
    op.create_index("ix_custody_holder_id", "custody", ["holder_id"])
    op.create_index("ix_custody_warehouse_id", "custody", ["warehouse_id"])
    op.create_table(
        "returns",
        sa.Column("return_id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("to_warehouse_id", sa.String(40), nullable=False),
        sa.Column("shipment_id", sa.String(40), nullable=True),
        sa.Column("region_id", sa.String(40), nullable=False),
        sa.Column("dealer_id", sa.String(40), nullable=False),
        sa.Column("store_id", sa.String(40), nullable=True),
        sa.Column("requested_by", sa.String(40), nullable=False),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        _ts("created_at"),
        _ts("decided_at", True),
        sa.PrimaryKeyConstraint("return_id", name="pk_returns"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.order_id"], name="fk_returns_order_id_orders"
        ),
        sa.ForeignKeyConstraint(
            ["to_warehouse_id"], [PARTY], name="fk_returns_to_warehouse_id_parties"
        ),
    )
    for column in ("order_id", "state", "region_id", "dealer_id", "store_id"):
        op.create_index(f"ix_returns_{column}", "returns", [column])
    op.create_table(
        "return_codes",
        sa.Column("return_id", sa.String(40), nullable=False),
        sa.Column("serial", sa.String(20), nullable=False),
        sa.Column("code_id", sa.BigInteger(), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=False),
        sa.PrimaryKeyConstraint("return_id", "serial", name="pk_return_codes"),
        sa.ForeignKeyConstraint(
            ["return_id"], ["returns.return_id"], name="fk_return_codes_return_id_returns"
        ),
    )


def downgrade() -> None:
    op.drop_table("return_codes")
    op.drop_table("returns")
    op.drop_table("custody")
    op.drop_table("shipment_scans")
    op.drop_table("shipment_lines")
    op.drop_table("shipments")
