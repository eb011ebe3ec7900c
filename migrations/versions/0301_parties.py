"""The channel's parties: HQ, regions and their areas, dealers, stores, warehouses.

Revision ID: 0301
Revises: 0300
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0301"
down_revision = "0300"
branch_labels = None
depends_on = None

PARTY = "parties.party_id"


def upgrade() -> None:
    op.create_table(
        "parties",
        sa.Column("party_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region_id", sa.String(40), nullable=True),
        sa.Column("dealer_id", sa.String(40), nullable=True),
        sa.Column("tier", sa.String(32), nullable=True),
        sa.Column("credit_limit_fen", sa.BigInteger(), nullable=True),
        sa.Column("share_permille", sa.Integer(), nullable=True),
        sa.Column("warehouse_kind", sa.String(16), nullable=True),
        sa.Column("admin_code", sa.String(6), nullable=True),
        sa.Column("address", sa.String(300), nullable=True),
        sa.Column("lat_e6", sa.Integer(), nullable=True),
        sa.Column("lon_e6", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("party_id", name="pk_parties"),
        sa.UniqueConstraint("code", name="uq_parties_code"),
        sa.ForeignKeyConstraint(["region_id"], [PARTY], name="fk_parties_region_id_parties"),
        sa.ForeignKeyConstraint(["dealer_id"], [PARTY], name="fk_parties_dealer_id_parties"),
        sa.CheckConstraint("kind IN ('hq', 'region', 'dealer', 'store', 'warehouse')", name="kind"),
    )
    op.create_index("ix_parties_kind", "parties", ["kind"])
    op.create_index("ix_parties_region_id", "parties", ["region_id"])
    op.create_index("ix_parties_dealer_id", "parties", ["dealer_id"])
    op.create_table(
        "region_areas",
        sa.Column("admin_code", sa.String(6), nullable=False),
        sa.Column("region_id", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("admin_code", name="pk_region_areas"),
        sa.ForeignKeyConstraint(["region_id"], [PARTY], name="fk_region_areas_region_id_parties"),
    )
    op.create_index("ix_region_areas_region_id", "region_areas", ["region_id"])
    op.create_table(
        "dealer_regions",
        sa.Column("dealer_id", sa.String(40), nullable=False),
        sa.Column("region_id", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("dealer_id", "region_id", name="pk_dealer_regions"),
        sa.ForeignKeyConstraint(["dealer_id"], [PARTY], name="fk_dealer_regions_dealer_id_parties"),
        sa.ForeignKeyConstraint(["region_id"], [PARTY], name="fk_dealer_regions_region_id_parties"),
    )


def downgrade() -> None:
    op.drop_table("dealer_regions")
    op.drop_index("ix_region_areas_region_id", table_name="region_areas")
    op.drop_table("region_areas")
    op.drop_index("ix_parties_dealer_id", table_name="parties")
    op.drop_index("ix_parties_region_id", table_name="parties")
    op.drop_index("ix_parties_kind", table_name="parties")
    op.drop_table("parties")
