"""Migration 0702 backfills a transfer's parties and a bottle's last case from the old data."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import make_url

from api.migrate import upgrade
from ledger.canonical import canonical_json

PG_URL = os.environ.get("JIUYUAN_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("JIUYUAN_REQUIRE_POSTGRES") == "1"
T0 = datetime(2026, 3, 1, tzinfo=UTC)
ZERO = b"\0" * 32


@pytest.fixture(params=["sqlite", "postgresql"])
def bare_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind, not migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("JIUYUAN_REQUIRE_POSTGRES=1 but JIUYUAN_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL half skipped: set JIUYUAN_TEST_POSTGRES_URL to run it")
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _event(entry_id: str, kind: str, event: str, at: datetime, **more: Any) -> dict[str, Any]:
    row = {"entry_id": entry_id, "kind": kind, "event": event, "at": at, "count": 1}
    empty = {"location": None, "party": None, "parent_id": None}
    return {**row, "root": ZERO, "nodes": b"", **empty, **more}


def test_backfills_transfer_parties_and_packed_in(bare_url: str) -> None:
    upgrade(bare_url, "0701")
    engine = create_engine(bare_url)
    meta = MetaData()
    meta.reflect(engine, only=["trace_codes", "trace_code_events", "trace_code_index"])
    meta.reflect(engine, only=["ledger_entries", "ledger_outbox"])
    t = meta.tables
    sequenced = {"from": "wh-hq", "to": "dealer-a", "codes_count": 1}
    staged = {"from": "dealer-a", "to": "store-b", "codes_count": 1}
    with engine.begin() as conn:
        code = {"gtin": "06901234567892", "lot": "L1", "batch_id": "b", "state": "received"}
        code |= {"replacements": 0, "updated_at": T0}
        conn.execute(
            t["trace_codes"].insert(),
            [
                {**code, "id": 16, "serial": "C16", "kind": "case", "parent_id": None},
                {**code, "id": 17, "serial": "B17", "kind": "bottle", "parent_id": None},
                {**code, "id": 18, "serial": "B18", "kind": "bottle", "parent_id": 16},
                {**code, "id": 19, "serial": "B19", "kind": "bottle", "parent_id": None},
                {**code, "id": 32, "serial": "C32", "kind": "case", "parent_id": None},
            ],
        )
        packed = "trace.codes.packed"
        conn.execute(
            t["trace_code_events"].insert(),
            [
                _event("p1", packed, "packed", T0, parent_id=32),
                _event("p2", packed, "packed", T0 + timedelta(days=1), parent_id=16),
                _event("s1", "transfer.shipped", "shipped", T0 + timedelta(days=2)),
                _event("r1", "transfer.received", "received", T0 + timedelta(days=3)),
            ],
        )
        listed = [(17, "p1"), (17, "p2"), (18, "p2"), (16, "s1"), (16, "r1")]
        conn.execute(
            t["trace_code_index"].insert(),
            [{"code_id": c, "entry_id": e, "position": 0} for c, e in listed],
        )
        body = {"id": "s1", "kind": "transfer.shipped", "payload": sequenced, "seq": 0, "ts": "x"}
        conn.execute(
            t["ledger_entries"].insert(),
            [
                {
                    "seq": 0,
                    "entry_id": "s1",
                    "kind": "transfer.shipped",
                    "ts": T0,
                    "body_digest": ZERO,
                    "data": canonical_json(body),
                    "leaf_hash": ZERO,
                    "chain_hash": ZERO,
                }
            ],
        )
        conn.execute(
            t["ledger_outbox"].insert(),
            [
                {
                    "entry_id": "r1",
                    "kind": "transfer.received",
                    "payload": json.dumps(staged),
                    "created_at": T0,
                }
            ],
        )
    upgrade(bare_url, "0702")
    with engine.connect() as conn:
        parties = dict(
            (r[0], (r[1], r[2]))
            for r in conn.execute(text("SELECT entry_id, party, sender FROM trace_code_events"))
        )
        packed_in = dict(conn.execute(text("SELECT id, packed_in FROM trace_codes")).all())
    engine.dispose()
    # From the ledger entry's payload, and from the outbox's for an entry not sequenced yet.
    assert parties["s1"] == ("dealer-a", "wh-hq")
    assert parties["r1"] == ("store-b", "dealer-a")
    assert parties["p1"] == (None, None)
    # Bottle 17 was packed in case 32, then in case 16 (and taken out): its last case is 16.
    assert packed_in == {16: None, 17: 16, 18: 16, 19: None, 32: None}
