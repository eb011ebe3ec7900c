"""Migration 0202 copies every case's moves already on record into ``trace_case_moves``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import MetaData, create_engine, text

from api.migrate import upgrade
from tests.api.compliance.test_migration_0702 import bare_url

__all__ = ["bare_url"]

T0 = datetime(2026, 3, 1, tzinfo=UTC)
ZERO = b"\0" * 32


def _event(entry_id: str, kind: str, event: str, days: int, **more: Any) -> dict[str, Any]:
    row = {"entry_id": entry_id, "kind": kind, "event": event, "at": T0 + timedelta(days=days)}
    empty = {"location": None, "party": None, "sender": None, "parent_id": None}
    return {**row, "count": 1, "root": ZERO, "nodes": b"", **empty, **more}


def test_copies_transfers_of_cases_and_openings_where_they_happened(bare_url: str) -> None:
    upgrade(bare_url, "0703")
    engine = create_engine(bare_url)
    meta = MetaData()
    meta.reflect(engine, only=["trace_codes", "trace_code_events", "trace_code_index"])
    t = meta.tables
    with engine.begin() as conn:
        code = {"lot": "L1", "batch_id": "b", "state": "received", "parent_id": None}
        code |= {"replacements": 0, "updated_at": T0}
        conn.execute(
            t["trace_codes"].insert(),
            [
                {**code, "id": 16, "serial": "C16", "kind": "case", "gtin": "06901234567892"},
                {**code, "id": 17, "serial": "B17", "kind": "bottle", "gtin": "06901234567892"},
                {**code, "id": 32, "serial": "C32", "kind": "case", "gtin": "06901234567809"},
            ],
        )
        shipped, received, unpacked = (
            "transfer.shipped",
            "transfer.received",
            "trace.codes.unpacked",
        )
        conn.execute(
            t["trace_code_events"].insert(),
            [
                _event("s1", shipped, "shipped", 1, party="dealer-a", sender="wh-hq"),
                _event("r1", received, "received", 2, party="dealer-a", sender="wh-hq"),
                # Not a move between parties: no receiver on record, or not a transfer.
                _event("s2", shipped, "shipped", 3),
                _event("c1", "trace.codes.shipped", "shipped", 3, party="dealer-a"),
                _event("u1", unpacked, "unpacked", 4, location="store-b", parent_id=16),
                _event("u2", unpacked, "unpacked", 5, location="", parent_id=32),
            ],
        )
        listed = [(16, "s1"), (17, "s1"), (32, "s1"), (16, "r1"), (16, "s2"), (16, "c1")]
        listed += [(17, "u1")]
        conn.execute(
            t["trace_code_index"].insert(),
            [{"code_id": c, "entry_id": e, "position": 0} for c, e in listed],
        )
    upgrade(bare_url, "heads")
    with engine.connect() as conn:
        moves = conn.execute(
            text(
                "SELECT case_id, entry_id, event, gtin, party, sender FROM trace_case_moves "
                "ORDER BY entry_id, case_id"
            )
        ).all()
    engine.dispose()
    # The cases a transfer lists (not its loose bottle), and the case opened at a place.
    assert [tuple(m) for m in moves] == [
        (16, "r1", "received", "06901234567892", "dealer-a", "wh-hq"),
        (16, "s1", "shipped", "06901234567892", "dealer-a", "wh-hq"),
        (32, "s1", "shipped", "06901234567809", "dealer-a", "wh-hq"),
        (16, "u1", "unpacked", "06901234567892", "store-b", None),
    ]
