"""Traceability: ``trace_case_moves``, each case's movements kept as their entries are written.

Compliance's batch detection read every case's transfers by joining all transfer events to
the code index and the codes (at 10M scans: 13.9M events × 34.6M index rows × 3.4M cases, the
largest statement of the run). The moves are now written with their entries, and the existing
ones copied here from the events, the index and the codes.

Revision ID: 0202
Revises: 0201
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0202"
down_revision = "0201"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_case_moves",
        sa.Column("case_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("event", sa.String(length=20), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("party", sa.String(length=60), nullable=False),
        sa.Column("sender", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint("case_id", "entry_id", name=op.f("pk_trace_case_moves")),
    )
    # What the write path now keeps (api.trace.codes.custody.case_moves), from the record.
    op.execute(
        "INSERT INTO trace_case_moves (case_id, entry_id, event, gtin, at, party, sender) "
        "SELECT i.code_id, e.entry_id, e.event, c.gtin, e.at, e.party, e.sender "
        "FROM trace_code_events e JOIN trace_code_index i ON i.entry_id = e.entry_id "
        "JOIN trace_codes c ON c.id = i.code_id AND c.kind = 'case' "
        "WHERE e.kind IN ('transfer.shipped', 'transfer.received') AND e.party IS NOT NULL"
    )
    op.execute(
        "INSERT INTO trace_case_moves (case_id, entry_id, event, gtin, at, party, sender) "
        "SELECT e.parent_id, e.entry_id, e.event, c.gtin, e.at, e.location, NULL "
        "FROM trace_code_events e JOIN trace_codes c ON c.id = e.parent_id "
        "WHERE e.event = 'unpacked' AND e.location IS NOT NULL AND e.location <> ''"
    )


def downgrade() -> None:
    op.drop_table("trace_case_moves")
