"""Traceability: storage conditions (zones, sensors, readings, sealed hours) and scans.

Revision ID: 0201
Revises: 0200
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0201"
down_revision = "0200"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_zones",
        sa.Column("zone_id", sa.String(length=40), nullable=False),
        sa.Column("warehouse", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("region", sa.String(length=60), nullable=True),
        sa.Column("temp_min_centi", sa.Integer(), nullable=False),
        sa.Column("temp_max_centi", sa.Integer(), nullable=False),
        sa.Column("rh_min_permille", sa.Integer(), nullable=False),
        sa.Column("rh_max_permille", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("zone_id", name=op.f("pk_trace_zones")),
    )
    op.create_table(
        "trace_sensors",
        sa.Column("sensor_id", sa.String(length=40), nullable=False),
        sa.Column("zone_id", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["trace_zones.zone_id"], name=op.f("fk_trace_sensors_zone_id_trace_zones")
        ),
        sa.PrimaryKeyConstraint("sensor_id", name=op.f("pk_trace_sensors")),
    )
    op.create_table(
        "trace_readings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("sensor_id", sa.String(length=40), nullable=False),
        sa.Column("zone_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("temp_centi", sa.Integer(), nullable=False),
        sa.Column("rh_permille", sa.Integer(), nullable=False),
        sa.Column("hour_entry_id", sa.String(length=36), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_readings")),
        sa.UniqueConstraint("sensor_id", "at", name="uq_trace_readings_sensor_at"),
    )
    op.create_index(
        "ix_trace_readings_hour_entry", "trace_readings", ["hour_entry_id"], unique=False
    )
    op.create_index("ix_trace_readings_zone_at", "trace_readings", ["zone_id", "at"], unique=False)
    op.create_table(
        "trace_storage_hours",
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("zone_id", sa.String(length=40), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("part", sa.SmallInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("temp_min", sa.Integer(), nullable=False),
        sa.Column("temp_max", sa.Integer(), nullable=False),
        sa.Column("temp_sum", sa.BigInteger(), nullable=False),
        sa.Column("rh_min", sa.Integer(), nullable=False),
        sa.Column("rh_max", sa.Integer(), nullable=False),
        sa.Column("rh_sum", sa.BigInteger(), nullable=False),
        sa.Column("excursions", sa.Integer(), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("nodes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_trace_storage_hours")),
        sa.UniqueConstraint("zone_id", "hour", "part", name="uq_trace_storage_hours_zone_hour"),
    )
    op.create_table(
        "trace_storage_excursions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("zone_id", sa.String(length=40), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("metric", sa.String(length=12), nullable=False),
        sa.Column("direction", sa.String(length=6), nullable=False),
        sa.Column("readings", sa.Integer(), nullable=False),
        sa.Column("peak", sa.Integer(), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_storage_excursions")),
    )
    op.create_index(
        "ix_trace_storage_excursions_zone_hour",
        "trace_storage_excursions",
        ["zone_id", "hour"],
        unique=False,
    )
    op.create_table(
        "trace_scans",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("code_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("province", sa.String(length=20), nullable=True),
        sa.Column("city", sa.String(length=20), nullable=True),
        sa.Column("lat_centi", sa.Integer(), nullable=True),
        sa.Column("lon_centi", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trace_scans")),
    )
    op.create_index("ix_trace_scans_code_id_at", "trace_scans", ["code_id", "at"], unique=False)
    op.create_table(
        "trace_secrets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_trace_secrets")),
    )


def downgrade() -> None:
    op.drop_index("ix_trace_readings_hour_entry", table_name="trace_readings")
    op.drop_index("ix_trace_readings_zone_at", table_name="trace_readings")
    op.drop_index("ix_trace_storage_excursions_zone_hour", table_name="trace_storage_excursions")
    op.drop_index("ix_trace_scans_code_id_at", table_name="trace_scans")
    op.drop_table("trace_secrets")
    op.drop_table("trace_scans")
    op.drop_table("trace_storage_excursions")
    op.drop_table("trace_storage_hours")
    op.drop_table("trace_readings")
    op.drop_table("trace_sensors")
    op.drop_table("trace_zones")
