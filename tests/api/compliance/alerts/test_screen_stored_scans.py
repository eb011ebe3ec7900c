"""The screen given every stored scan of a code: when the newest has no place, it answers from
those scans alone (no statement) exactly as its statement would; otherwise it runs the
statement as before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.compliance.alerts import screen
from api.compliance.alerts.runs import Places
from api.compliance.detection.thresholds import Thresholds
from api.compliance.geo.gazetteer import gazetteer
from api.db import Database
from api.trace.resolver import repository as scans_repo

START = datetime(2026, 11, 20, 8, tzinfo=UTC)
BEIJING = ("北京市", "北京", 3990, 11640)
CHENGDU = ("四川省", "成都", 3066, 10406)
NOWHERE = (None, None, None, None)


def _record(db: Database, code_id: int, scans: list[tuple[int, str, tuple[Any, ...]]]) -> list[Any]:
    """Record (minutes after START, device, place) scans of ``code_id``; every stored row."""
    with db.writer.begin() as conn:
        for minutes, device, (province, city, lat, lon) in scans:
            recorded = scans_repo.record_scan(
                conn,
                {
                    "code_id": code_id,
                    "at": START + timedelta(minutes=minutes),
                    "device_hash": device.encode().ljust(32, b"."),
                    "province": province,
                    "city": city,
                    "lat_centi": lat,
                    "lon_centi": lon,
                    "case_id": None,
                },
            )
    assert recorded.count == len(recorded.recent)
    return recorded.recent


CASES = {
    "one scan, no place": ([(0, "a", NOWHERE)], False),
    "five devices, no place": ([(m, f"d{m}", NOWHERE) for m in range(5)], False),
    "six devices, no place": ([(m, f"d{m}", NOWHERE) for m in range(6)], True),
    "impossible travel before, newest unplaced": (
        [(0, "a", BEIJING), (30, "b", CHENGDU), (40, "c", NOWHERE)],
        True,
    ),
    "newest placed: the statement decides": ([(0, "a", BEIJING), (30, "b", CHENGDU)], True),
    "newest placed at home, nothing else": ([(0, "a", CHENGDU)], False),
}


@pytest.mark.parametrize("name", list(CASES))
def test_the_stored_scans_give_the_statements_answer(
    db: Database, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans, expected = CASES[name]
    code_id = 900 + list(CASES).index(name)
    stored = _record(db, code_id, scans)
    th, places = Thresholds(), Places(gazetteer())
    with db.engine.connect() as conn:
        assert screen.may_change_findings(conn, code_id, th, places.of) is expected
        newest_unplaced = scans[-1][2] == NOWHERE
        if newest_unplaced:  # answered without the statement
            monkeypatch.setattr(screen, "_facts", _no_statement)
        assert screen.may_change_findings(conn, code_id, th, places.of, stored) is expected


def _no_statement(conn: object) -> Any:
    raise AssertionError("the screen ran its statement although the stored scans sufficed")
