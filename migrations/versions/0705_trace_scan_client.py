"""Scans: a keyed hash of the client that made each one (``trace_scans.client_hash``).

Device ids are the client's own word: a browser without the device cookie gets a new one on
every visit, and an app sends whatever ``X-Device-Id`` it likes. So six requests from one
machine could count as six devices and turn a genuine bottle "suspicious" (and open a clone
alert). A scan now records a hash of its client's address under a key of the day; a client's
later scans of the same code that day take the device and place of its first, so one client
counts once. A day's key is deleted once the next day's is made.

Existing scans have none: they count as before.

Revision ID: 0705
Revises: 0704
Depends on: 0201 (trace_scans)
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0705"
down_revision = "0704"
branch_labels = None
depends_on = "0201"


def upgrade() -> None:
    op.add_column("trace_scans", sa.Column("client_hash", sa.LargeBinary(16), nullable=True))


def downgrade() -> None:
    op.drop_column("trace_scans", "client_hash")
