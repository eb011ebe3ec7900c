"""Columns for diversion detection: a transfer's ``sender``, a bottle's ``packed_in`` case.

Detection needs every transfer's from and to parties and every scanned bottle's case. Both
were derived at every run: the parties by parsing the ledger entries' JSON payloads (or the
outbox's, before sequencing) — on PostgreSQL the largest single cost of a batch run, and
every per-scan screen parsed its case's — and a bottle taken out of an opened case (which
keeps no ``parent_id``) by walking the code index to its last packing event.

- ``trace_code_events.party`` already holds a transfer's receiver (``record_custody``);
  ``sender`` now holds the party it came from, written in the same statement. Existing
  transfer events get both from their payloads.
- ``trace_codes.packed_in``: the case a bottle was last packed in, set with ``parent_id``
  when packed and kept when unpacked. Existing codes get it from their last packing event.

Revision ID: 0702
Revises: 0701
Depends on: 0200 (trace_code_events), 0002 (ledger_outbox)
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0702"
down_revision = "0701"
branch_labels = None
depends_on = None

_KINDS = "('transfer.shipped', 'transfer.received')"


def upgrade() -> None:
    op.add_column("trace_code_events", sa.Column("sender", sa.String(60), nullable=True))
    op.add_column("trace_codes", sa.Column("packed_in", sa.BigInteger(), nullable=True))
    pg = op.get_bind().dialect.name == "postgresql"
    _transfer_parties(pg)
    _packed_in(pg)


def _transfer_parties(pg: bool) -> None:
    if pg:
        for source, payload in (
            ("ledger_entries", "convert_from(s.data, 'UTF8')::jsonb -> 'payload'"),
            ("ledger_outbox", "s.payload::jsonb"),
        ):
            op.execute(
                "UPDATE trace_code_events e SET party = COALESCE(x.p ->> 'to', e.party), "
                "sender = x.p ->> 'from' "
                f"FROM (SELECT s.entry_id, {payload} AS p FROM {source} s "
                f"WHERE s.kind IN {_KINDS}) x "
                f"WHERE x.entry_id = e.entry_id AND e.kind IN {_KINDS} AND e.sender IS NULL"
            )
        return
    for source, payload in (
        ("ledger_entries", "json_extract(CAST(s.data AS TEXT), '$.payload.{name}')"),
        ("ledger_outbox", "json_extract(s.payload, '$.{name}')"),
    ):

        def field(name: str, source: str = source, payload: str = payload) -> str:
            return (
                f"(SELECT {payload.format(name=name)} FROM {source} s "
                "WHERE s.entry_id = trace_code_events.entry_id)"
            )

        op.execute(
            f"UPDATE trace_code_events SET party = COALESCE({field('to')}, party), "
            f"sender = {field('from')} "
            f"WHERE kind IN {_KINDS} AND sender IS NULL "
            f"AND EXISTS (SELECT 1 FROM {source} s WHERE s.entry_id = trace_code_events.entry_id)"
        )


def _packed_in(pg: bool) -> None:
    if pg:
        op.execute(
            "UPDATE trace_codes c SET packed_in = x.parent_id FROM ("
            "SELECT DISTINCT ON (i.code_id) i.code_id, e.parent_id FROM trace_code_index i "
            "JOIN trace_code_events e ON e.entry_id = i.entry_id "
            "WHERE e.event = 'packed' AND e.parent_id IS NOT NULL "
            "ORDER BY i.code_id, e.at DESC) x WHERE c.id = x.code_id"
        )
        return
    op.execute(
        "UPDATE trace_codes SET packed_in = (SELECT e.parent_id FROM trace_code_index i "
        "JOIN trace_code_events e ON e.entry_id = i.entry_id "
        "WHERE i.code_id = trace_codes.id AND e.event = 'packed' AND e.parent_id IS NOT NULL "
        "ORDER BY e.at DESC LIMIT 1) WHERE kind <> 'case'"
    )


def downgrade() -> None:
    with op.batch_alter_table("trace_codes") as batch:
        batch.drop_column("packed_in")
    with op.batch_alter_table("trace_code_events") as batch:
        batch.drop_column("sender")
