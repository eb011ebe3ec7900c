"""Ledger entries written by domain services, atomically with their own rows.

A service calls :func:`stage_entry` inside the request transaction; if that transaction rolls
back, the entry never existed. After commit the relay submits staged entries to the sequencer
(the entry id makes a second submission return the same seq, so a crash between sequencing and
clean-up is harmless) and removes them from the outbox.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, select

from api.db import insert_rows
from api.log.sequencer import Submission
from api.models import OutboxEntry
from ledger.canonical import canonical_json

outbox = OutboxEntry.__table__


def stage_entry(
    conn: Connection, kind: str, payload: Mapping[str, Any], entry_id: str | None = None
) -> str:
    """Stage a ledger entry in the caller's transaction; return its entry id.

    The payload is canonicalised now, so a float or an out-of-range integer fails the domain
    transaction instead of the relay.
    """
    entry_id = entry_id or str(uuid.uuid4())
    body = canonical_json(dict(payload)).decode()
    conn.execute(
        outbox.insert().values(
            entry_id=entry_id, kind=kind, payload=body, created_at=datetime.now(UTC)
        )
    )
    return entry_id


def stage_entries(conn: Connection, entries: Sequence[tuple[str, Mapping[str, Any], str]]) -> None:
    """Stage many ``(kind, payload, entry_id)`` at once, as :func:`stage_entry` would one by
    one (a batch job raising thousands of entries: by ``COPY`` on PostgreSQL)."""
    stage_encoded_entries(conn, [(k, canonical_json(dict(p)).decode(), e) for k, p, e in entries])


def stage_encoded_entries(conn: Connection, entries: Sequence[tuple[str, str, str]]) -> None:
    """Stage many ``(kind, payload_text, entry_id)`` whose payload text is already
    ``canonical_json(payload).decode()``: for a caller that built it from the same encoded
    parts it also hashes and stores. That the text is exactly canonical is the caller's to
    keep (the relay parses it, and the sequencer encodes the entry anew)."""
    now = datetime.now(UTC)
    rows = [{"entry_id": e, "kind": k, "payload": p, "created_at": now} for k, p, e in entries]
    insert_rows(conn, outbox, rows)


def pending(conn: Connection, limit: int, ids: Sequence[str] | None = None) -> list[Submission]:
    """Staged entries, oldest first (only ``ids`` when given)."""
    query = select(outbox.c.entry_id, outbox.c.kind, outbox.c.payload)
    if ids is not None:
        query = query.where(outbox.c.entry_id.in_(ids))
    rows = conn.execute(query.order_by(outbox.c.created_at, outbox.c.entry_id).limit(limit))
    return [Submission.of(entry_id, kind, json.loads(body)) for entry_id, kind, body in rows]


def remove(conn: Connection, ids: Sequence[str]) -> None:
    if ids:
        conn.execute(delete(outbox).where(outbox.c.entry_id.in_(ids)))
