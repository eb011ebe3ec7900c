"""Scans: the case a bottle came in when it was scanned (``trace_scans.case_id``).

Diversion detection judges a consumer scan under the custody of the bottle's case. That case
was derived at every run by joining each scan to its code (the code itself for a case, its
parent, or the case it was last packed in): at 10M scans the batch run's largest single cost
(a hash of every scan probed with all 24M codes). The lookup that records a scan has already
read the code, so it now records the case with the scan; and a scan keeps the case it was
made in when the bottle is later packed in another, where the derived case followed it.

Existing scans get their code's case as it stands now, which is what runs read before.

Revision ID: 0704
Revises: 0703
Depends on: 0201 (trace_scans)
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0704"
down_revision = "0703"
branch_labels = None
depends_on = "0201"


def upgrade() -> None:
    op.add_column("trace_scans", sa.Column("case_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE trace_scans SET case_id = (SELECT CASE WHEN c.kind = 'case' THEN c.id "
        "ELSE COALESCE(c.parent_id, c.packed_in) END FROM trace_codes c "
        "WHERE c.id = trace_scans.code_id)"
    )


def downgrade() -> None:
    op.drop_column("trace_scans", "case_id")
