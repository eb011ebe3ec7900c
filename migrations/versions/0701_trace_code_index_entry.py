"""An index on ``trace_code_index.entry_id``: "the codes an entry lists" by index, not a scan.

Compliance's incremental detection asks which bottles were packed in a case (the packing
entry's codes); traceability's ``event_code_ids`` asks the same of any entry. The table's key
is (code_id, entry_id), so both scanned the whole table. Owned by compliance until
traceability takes it over (drop this revision's index then).

Revision ID: 0701
Revises: 0700
Depends on: 0200 (the trace_code_index table)
Create Date: 2026-11-25
"""

from alembic import op

revision = "0701"
down_revision = "0700"
branch_labels = None
depends_on = "0200"


def upgrade() -> None:
    op.create_index("ix_trace_code_index_entry_id", "trace_code_index", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_trace_code_index_entry_id", table_name="trace_code_index")
