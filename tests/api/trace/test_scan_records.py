"""Recording a scan returns the code's scans with it: totals over all of them, and the most
recent ones (oldest first) that the clone rules read — on both databases alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from api.db import Database
from api.trace.common import utc
from api.trace.resolver import repository as repo

START = datetime(2026, 11, 20, 8, tzinfo=UTC)


def _scan(code_id: int, minutes: int, device: bytes) -> dict[str, object]:
    return {
        "code_id": code_id,
        "at": START + timedelta(minutes=minutes),
        "device_hash": device * 32,
        "province": "四川省",
        "city": "成都",
        "lat_centi": 3066,
        "lon_centi": 10406,
        "case_id": None,
    }


def test_a_recorded_scan_comes_back_with_the_codes_scans(db: Database) -> None:
    with db.writer.begin() as conn:
        first = repo.record_scan(conn, _scan(7, 0, b"a"))
        # Another code's scans are not this code's.
        repo.record_scan(conn, _scan(8, 1, b"z"))
        repo.record_scan(conn, _scan(7, 5, b"b"))
        third = repo.record_scan(conn, _scan(7, 9, b"a"))
    assert (first.count, first.devices, len(first.recent)) == (1, 1, 1)
    assert (third.count, third.first, third.devices) == (3, START, 2)
    assert [utc(r["at"]) for r in third.recent] == [START + timedelta(minutes=m) for m in (0, 5, 9)]
    assert [bytes(r["device_hash"])[:1] for r in third.recent] == [b"a", b"b", b"a"]
    assert third.recent[-1]["city"] == "成都" and third.recent[-1]["lat_centi"] == 3066
    with db.engine.connect() as conn:
        assert [r["id"] for r in third.recent] == [r["id"] for r in repo.scans_of(conn, 7)]


def test_only_the_most_recent_scans_come_back_but_the_totals_count_them_all(
    db: Database,
) -> None:
    with db.writer.begin() as conn:
        for m in range(repo.RECENT + 2):
            last = repo.record_scan(conn, _scan(7, m, bytes([m % 5 + 65])))
    assert (last.count, last.first, last.devices) == (repo.RECENT + 2, START, 5)
    assert len(last.recent) == repo.RECENT
    assert utc(last.recent[0]["at"]) == START + timedelta(minutes=2)
    assert utc(last.recent[-1]["at"]) == START + timedelta(minutes=repo.RECENT + 1)
