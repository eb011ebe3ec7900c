"""Compliance: alerts and their workflow events, case allocations, detection runs.

Revision ID: 0700
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0700"
down_revision = "0002"
branch_labels = None
depends_on = None


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "compliance_alerts",
        sa.Column("alert_id", sa.String(40), nullable=False),
        sa.Column("alert_key", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("strength", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("dealer_id", sa.String(40), nullable=True),
        sa.Column("region_id", sa.String(40), nullable=True),
        sa.Column("code_id", sa.BigInteger(), nullable=False),
        sa.Column("code_key", sa.String(120), nullable=False),
        sa.Column("gtin", sa.String(14), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("signals", sa.Text(), nullable=False),
        sa.Column("observations", sa.Text(), nullable=False),
        sa.Column("place", sa.String(6), nullable=True),
        sa.Column("to_region_id", sa.String(40), nullable=True),
        _ts("allocated_at", nullable=True),
        sa.Column("allocation_month", sa.String(7), nullable=True),
        _ts("first_seen_at"),
        _ts("last_seen_at"),
        _ts("detected_at"),
        _ts("updated_at"),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("evidence_digest", sa.String(64), nullable=False),
        sa.Column("entry_ids", sa.Text(), nullable=False),
        sa.Column("appeal_state", sa.String(8), nullable=True),
        sa.Column("appeal_reason", sa.Text(), nullable=True),
        _ts("decided_at", nullable=True),
        sa.Column("decided_by", sa.String(40), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name="pk_compliance_alerts"),
        sa.UniqueConstraint("alert_key", name="uq_compliance_alerts_alert_key"),
    )
    for column in ("state", "dealer_id", "region_id", "code_id", "detected_at"):
        op.create_index(f"ix_compliance_alerts_{column}", "compliance_alerts", [column])
    op.create_table(
        "compliance_alert_events",
        sa.Column("alert_id", sa.String(40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        _ts("at"),
        sa.Column("actor", sa.String(40), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("alert_id", "n", name="pk_compliance_alert_events"),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["compliance_alerts.alert_id"],
            name="fk_compliance_alert_events_alert_id_compliance_alerts",
        ),
    )
    op.create_table(
        "compliance_allocations",
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.String(36), nullable=False),
        sa.Column("dealer_id", sa.String(40), nullable=False),
        sa.Column("region_id", sa.String(40), nullable=True),
        sa.Column("gtin", sa.String(14), nullable=False),
        _ts("allocated_at"),
        sa.Column("month", sa.String(7), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "entry_id", name="pk_compliance_allocations"),
    )
    op.create_index("ix_compliance_allocations_dealer_id", "compliance_allocations", ["dealer_id"])
    op.create_table(
        "compliance_runs",
        sa.Column("run_id", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(12), nullable=False),
        _ts("started_at"),
        _ts("finished_at"),
        sa.Column("scans", sa.BigInteger(), nullable=False),
        sa.Column("movements", sa.BigInteger(), nullable=False),
        sa.Column("signals", sa.Text(), nullable=False),
        sa.Column("alerts_raised", sa.Integer(), nullable=False),
        sa.Column("alerts_updated", sa.Integer(), nullable=False),
        sa.Column("thresholds", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_compliance_runs"),
    )
    op.create_index("ix_compliance_runs_started_at", "compliance_runs", ["started_at"])


def downgrade() -> None:
    op.drop_table("compliance_runs")
    op.drop_table("compliance_allocations")
    op.drop_table("compliance_alert_events")
    op.drop_table("compliance_alerts")
