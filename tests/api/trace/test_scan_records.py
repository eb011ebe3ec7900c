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


def test_one_clients_scans_of_a_code_count_as_its_first_device_and_place(db: Database) -> None:
    beijing = {"province": "北京市", "city": "北京", "lat_centi": 3990, "lon_centi": 11640}
    with db.writer.begin() as conn:
        # The client's first scan carries no device id; its first device is then its own.
        repo.record_scan(conn, {**_scan(7, 0, b"a"), "device_hash": None, "client_hash": b"c" * 16})
        repo.record_scan(conn, {**_scan(7, 1, b"b"), "client_hash": b"c" * 16})
        # Later device ids and places of the same client are its first device and place.
        for m, device in enumerate(b"cdef", 2):
            last = repo.record_scan(
                conn, {**_scan(7, m, bytes([device])), **beijing, "client_hash": b"c" * 16}
            )
        # Another client, a scan without a client, and the same client on another code count.
        repo.record_scan(conn, {**_scan(7, 8, b"x"), **beijing, "client_hash": b"k" * 16})
        repo.record_scan(conn, {**_scan(7, 9, b"y"), **beijing})
        other = repo.record_scan(conn, {**_scan(8, 9, b"z"), **beijing, "client_hash": b"c" * 16})
        every = repo.record_scan(conn, _scan(7, 10, b"w"))
    assert (last.count, last.devices) == (6, 1)
    assert {(r["city"], r["lat_centi"]) for r in last.recent} == {("成都", 3066)}
    assert {bytes(r["device_hash"] or b"-")[:1] for r in last.recent} == {b"-", b"b"}
    assert other.recent[-1]["city"] == "北京" and bytes(other.recent[-1]["device_hash"])[:1] == b"z"
    assert [r["city"] for r in every.recent[-3:]] == ["北京", "北京", "成都"]
    assert (every.count, every.devices) == (9, 4)  # b, x, y, w
