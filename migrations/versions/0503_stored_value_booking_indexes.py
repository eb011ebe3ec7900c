"""Fewer index writes per stored-value booking.

Every clerk operation inserts a request row, two to six postings and updates an account row;
each index on those tables is one more write (and WAL record) per row:

- ``stored_value_requests.member_id`` is set only on member-data requests (registration, real
  name), which erasure looks up; an operation's request row has none. The index becomes
  partial (``WHERE member_id IS NOT NULL``), so operations no longer add a NULL entry to it.
- ``stored_value_postings.account`` was indexed, but no query reads postings by account: the
  projection check and the Z-report aggregate over all postings or over a day's journal
  entries (joined on ``journal_id``, the primary key). Dropped.
- ``stored_value_accounts`` (PostgreSQL) keeps 30 % of each page free, so that a balance update
  can stay on its page as a heap-only tuple and skip both of the table's indexes.

Revision ID: 0503
Revises: 0502
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0503"
down_revision = "0502"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_stored_value_requests_member_id", table_name="stored_value_requests")
    op.create_index(
        "ix_stored_value_requests_member_id",
        "stored_value_requests",
        ["member_id"],
        postgresql_where=sa.text("member_id IS NOT NULL"),
        sqlite_where=sa.text("member_id IS NOT NULL"),
    )
    op.drop_index("ix_stored_value_postings_account", table_name="stored_value_postings")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE stored_value_accounts SET (fillfactor = 70)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE stored_value_accounts RESET (fillfactor)")
    op.create_index("ix_stored_value_postings_account", "stored_value_postings", ["account"])
    op.drop_index("ix_stored_value_requests_member_id", table_name="stored_value_requests")
    op.create_index("ix_stored_value_requests_member_id", "stored_value_requests", ["member_id"])
