"""Migration 0704 records with every scan already on record the case its code came in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import MetaData, create_engine, text

from api.migrate import upgrade
from tests.api.compliance.test_migration_0702 import bare_url

__all__ = ["bare_url"]

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_each_scan_gets_the_case_its_code_came_in(bare_url: str) -> None:
    upgrade(bare_url, "0703")
    upgrade(bare_url, "0201")  # the scans' table, on a branch of its own
    engine = create_engine(bare_url)
    meta = MetaData()
    meta.reflect(engine, only=["trace_codes", "trace_scans"])
    codes, scans = meta.tables["trace_codes"], meta.tables["trace_scans"]
    code = {"lot": "L1", "batch_id": "b", "state": "received", "gtin": "06901234567892"}
    code |= {"replacements": 0, "updated_at": T0, "parent_id": None, "packed_in": None}
    with engine.begin() as conn:
        conn.execute(
            codes.insert(),
            [
                {**code, "id": 16, "serial": "C16", "kind": "case"},
                # packed in case 16
                {**code, "id": 17, "serial": "B17", "kind": "bottle", "parent_id": 16},
                # taken out of case 16 (at a store), then into case 32 again
                {**code, "id": 18, "serial": "B18", "kind": "bottle", "packed_in": 16},
                {**code, "id": 19, "serial": "B19", "kind": "bottle", "parent_id": 32},
                {**code, "id": 20, "serial": "B20", "kind": "bottle"},  # never packed
                {**code, "id": 32, "serial": "C32", "kind": "case", "parent_id": 99},
            ],
        )
        conn.execute(
            scans.insert(),
            [
                {"id": n, "code_id": c, "at": T0 + timedelta(hours=n)}
                for n, c in enumerate((16, 17, 18, 18, 19, 20, 32), start=1)
            ],
        )
    upgrade(bare_url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT id, case_id FROM trace_scans ORDER BY id")).all()
    engine.dispose()
    assert [tuple(r) for r in found] == [
        (1, 16),  # a case scanned: the case itself
        (2, 16),  # a packed bottle: its parent
        (3, 16),  # an unpacked bottle: the case it was last packed in
        (4, 16),
        (5, 32),  # its parent, not the case it was packed in before
        (6, None),
        (7, 32),  # a case in a pallet is still its own case
    ]
