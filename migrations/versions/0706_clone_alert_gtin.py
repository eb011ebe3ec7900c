"""Clone alerts: the product of the cloned code (``compliance_alerts.gtin``).

A clone alert took its product from the allocation of the code's case, so a code whose case
no dealer held (or a case code) had none: the alert showed no product, and a filter by SKU
left it out. Alerts are now raised with their code's GTIN; existing ones get it here.

Revision ID: 0706
Revises: 0705
Create Date: 2026-11-27
"""

from alembic import op

revision = "0706"
down_revision = "0705"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "UPDATE compliance_alerts SET gtin = (SELECT c.gtin FROM trace_codes c "
        "WHERE c.id = compliance_alerts.code_id) WHERE gtin IS NULL"
    )


def downgrade() -> None:
    pass  # the GTINs were missing, not wrong: nothing to take back
