"""An alert's evidence is encoded once, member by member, and the digest, the staged entry and
the stored columns are assembled from those encodings: byte for byte what ``canonical_json``
of the whole evidence gives, and stored columns that read back as the evidence."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from api.compliance.alerts.encoding import evidence_payload, ts
from api.compliance.alerts.runs import _columns, month, new_ids
from api.compliance.detection.detector import Detector, Finding
from api.compliance.detection.model import Allocation, Territory
from api.compliance.detection.signals import Observation, Signal, SignalName
from api.compliance.detection.thresholds import Thresholds
from api.trace.common import SHANGHAI
from ledger.canonical import MAX_SAFE_INTEGER, canonical_json
from ledger.merkle import leaf_hash
from ledger.merkle import root as merkle_root
from tests.api.compliance.alerts.test_observation_leaves import signal_item

TERRITORY = Territory({"31": "east", "11": "north"}, {"d_1": frozenset({"north"})})
CODES = {7: "/01/06901234567892/21/AB12", 8: "瓶码 \U0001f602", 9: 'lot "A"\\'}
THRESHOLDS = Thresholds(alert_score=90)


def _observation(code: int, scan: int, place: str | None, device: bytes | None) -> Observation:
    return Observation(str(code), scan, 1_764_000_000 + scan, place, device)


def _findings() -> list[Finding]:
    weak = Signal(
        SignalName.CONSUMER_SCANS_OUTSIDE,
        points=108,
        at=1_764_000_000,
        place="310101",
        count=3,
        entry_ids=("e-1", "e-2"),
        observations=(
            _observation(7, 1, "310101", b"\x01" * 32),
            _observation(8, 2, "上海", None),
            _observation(9, MAX_SAFE_INTEGER, None, b"\xff"),
            _observation(10, 4, 'say "hi"', None),
        ),
    )
    strong = Signal(
        SignalName.TRANSFER_OUTSIDE, points=100, at=1_764_000_100, party="商店\U0001f602"
    )
    clone = Signal(
        SignalName.TOO_MANY_DEVICES,
        points=100,
        at=1_764_000_200,
        count=6,
        observations=tuple(_observation(11, n, None, bytes([n])) for n in range(6)),
    )
    allocation = Allocation("c-1", "06901234567892", "d_1", 1_763_000_000, "alloc-entry")
    return [
        Finding(
            "diversion", "7", "d_1", "06901234567892", 208, (weak, strong), "310101", allocation
        ),
        Finding("diversion", "8", "经销商", None, MAX_SAFE_INTEGER, (strong,), "999999", None),
        Finding("clone", "11", None, None, 100, (clone,), None, None),
    ]


def _item(o: Observation) -> dict[str, Any]:
    item: dict[str, Any] = {"code": CODES.get(int(o.code), f"code:{o.code}"), "scan": o.scan_id}
    item["at"] = ts(o.at)
    if o.place is not None:
        item["place"] = o.place
    if o.device is not None:
        item["device"] = o.device.hex()
    return item


def _expected(f: Finding) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The evidence written out as a dict, as the run built it before encoding by member."""
    items = [_item(o) for s in f.signals for o in s.observations]
    signals = [signal_item(s) for s in f.signals]
    evidence: dict[str, Any] = {
        "kind": f.kind,
        "strength": f.strength,
        "code": CODES.get(int(f.code), f"code:{f.code}"),
        "score": f.score,
        "signals": signals,
        "observations_root": merkle_root([leaf_hash(canonical_json(i)) for i in items]).hex(),
        "observations_count": len(items),
        "thresholds": THRESHOLDS.as_dict(),
    }
    if f.dealer_id is not None:
        evidence["dealer"] = f.dealer_id
    if f.place is not None:
        evidence["place"] = f.place
        region = TERRITORY.region_of(f.place)
        if region is not None:
            evidence["to_region"] = region
    if f.allocation is not None:
        evidence["allocation"] = f.allocation.entry_id
    return evidence, items


@pytest.mark.parametrize("finding", _findings(), ids=lambda f: f.key)
def test_digest_and_entry_are_canonical_json_of_the_evidence(finding: Finding) -> None:
    expected, _ = _expected(finding)
    evidence = evidence_payload(finding, CODES, TERRITORY, THRESHOLDS)
    assert evidence.digest() == hashlib.sha256(canonical_json(expected)).hexdigest()
    for alert_id, revision in [("al_0123abcd", 1), ('al_\U0001f602 "x"', MAX_SAFE_INTEGER)]:
        payload = {"alert": alert_id, "revision": revision, **expected}
        assert evidence.entry(alert_id, revision) == canonical_json(payload).decode()


@pytest.mark.parametrize("finding", _findings(), ids=lambda f: f.key)
def test_stored_columns_read_back_as_the_evidence(finding: Finding) -> None:
    expected, items = _expected(finding)
    evidence = evidence_payload(finding, CODES, TERRITORY, THRESHOLDS)
    now = datetime.now(UTC)
    detector = Detector({}, TERRITORY, THRESHOLDS)
    columns = _columns(finding, evidence, evidence.digest(), detector, now)
    assert columns["code_key"] == expected["code"]
    assert json.loads(columns["signals"]) == expected["signals"]
    assert json.loads(columns["observations"]) == items


def test_new_alert_ids_are_random_and_well_formed() -> None:
    pairs = list(itertools.islice(new_ids(), 3000))  # across three reads of randomness
    alert_ids = [a for a, _ in pairs]
    entry_ids = [uuid.UUID(e) for _, e in pairs]
    assert all(re.fullmatch(r"al_[0-9a-f]{24}", a) for a in alert_ids)
    assert all(e.version == 4 and e.variant == uuid.RFC_4122 for e in entry_ids)
    assert [str(e) for e in entry_ids] == [e for _, e in pairs]
    assert len(set(alert_ids)) == len(set(entry_ids)) == 3000


@pytest.mark.parametrize(
    "local",
    [
        datetime(2026, 11, 30, 23, 59, 59),
        datetime(2026, 12, 1, 0, 0, 0),
        datetime(1988, 5, 31, 23, 30),  # China's summer time, 1986-1991
        datetime(1988, 6, 1, 0, 30),
        datetime(1988, 9, 1, 0, 30),
        datetime(1900, 12, 31, 23, 59, 59),  # local mean time, +8:05:43
        datetime(1901, 1, 1, 0, 0, 0),
        datetime(1991, 12, 31, 23, 59, 59),  # UTC+8 all year from here on
        datetime(1992, 1, 1, 0, 0, 0),
        datetime(2099, 12, 31, 23, 59, 59),
    ],
)
def test_allocation_months_are_shanghai_months(local: datetime) -> None:
    seconds = int(local.replace(tzinfo=SHANGHAI).timestamp())
    for s in (seconds - 1, seconds, seconds + 1):
        expected = datetime.fromtimestamp(s, UTC).astimezone(SHANGHAI).strftime("%Y-%m")
        assert month(s) == expected
