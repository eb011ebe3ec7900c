"""An alert's observation items are hashed with a written-out encoder: byte for byte JCS."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from api.compliance.alerts.runs import _item_json, ts
from ledger.canonical import MAX_SAFE_INTEGER, canonical_json, format_ts
from ledger.errors import MalformedEntryError

CODES = [
    "/01/06901234567892/10/L2026A/21/AB12",
    "code:17",
    'lot "A"',
    "back\\slash",
    "青花瓷",
    "tab\there",
    "\x7f",
    "𝄞 beyond the BMP",
    "~ ] [ ok",
]


@pytest.mark.parametrize("code", CODES)
def test_items_encode_exactly_as_canonical_json(code: str) -> None:
    for place, device, scan in itertools.product(
        [None, "110105", 'say "hi"', "上海"], [None, "ab" * 32], [0, 7, MAX_SAFE_INTEGER]
    ):
        item: dict[str, object] = {"code": code, "scan": scan, "at": ts(1_764_000_000)}
        if place is not None:
            item["place"] = place
        if device is not None:
            item["device"] = device
        assert _item_json(item) == canonical_json(item), item


def test_an_item_beyond_jcs_is_refused_as_canonical_json_refuses_it() -> None:
    item = {"code": "c", "scan": MAX_SAFE_INTEGER + 1, "at": ts(0)}
    with pytest.raises(MalformedEntryError):
        _item_json(item)


@pytest.mark.parametrize(
    "seconds",
    [0, 1, 59, 951_782_400, 1_764_000_000, 1_764_000_000 + 86_399, 4_102_444_800, 253_402_300_799],
)
def test_whole_seconds_are_written_as_format_ts_writes_them(seconds: int) -> None:
    assert ts(seconds) == format_ts(datetime.fromtimestamp(seconds, UTC))
