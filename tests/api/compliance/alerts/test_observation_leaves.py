"""An alert's observation items and signals are encoded by written-out encoders: byte for byte
JCS, whatever the text in them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from api.compliance.alerts.encoding import observation_json, signal_json, ts
from api.compliance.detection.signals import Observation, Signal, SignalName
from ledger.canonical import MAX_SAFE_INTEGER, canonical_json, format_ts
from ledger.errors import MalformedEntryError

TEXTS = [
    "/01/06901234567892/10/L2026A/21/AB12",
    "code:17",
    'lot "A"',
    "back\\slash",
    "青花瓷",
    "tab\there",
    "\x7f",
    "𝄞 beyond the BMP",
    "~ ] [ ok",
    "",
]
AT = 1_764_000_000


@pytest.mark.parametrize("code", TEXTS)
def test_observations_encode_exactly_as_canonical_json_of_their_item(code: str) -> None:
    codes = {7: code}
    for place, device, scan in itertools.product(
        [None, "110105", 'say "hi"', "上海"], [None, b"\xab" * 32], [0, 7, MAX_SAFE_INTEGER]
    ):
        item: dict[str, Any] = {"code": code or "code:7", "scan": scan, "at": ts(AT)}
        if place is not None:
            item["place"] = place
        if device is not None:
            item["device"] = device.hex()
        observation = Observation("7", scan, AT, place, device)
        assert observation_json(observation, codes) == canonical_json(item), item


def test_an_observation_beyond_jcs_is_refused_as_canonical_json_refuses_it() -> None:
    with pytest.raises(MalformedEntryError):
        observation_json(Observation("7", MAX_SAFE_INTEGER + 1, 0, None, None), {})


def signal_item(s: Signal) -> dict[str, Any]:
    """A signal as the evidence states it, written out as a dict."""
    item: dict[str, Any] = {
        "signal": s.name.value,
        "strength": s.strength,
        "points": s.points,
        "at": ts(s.at),
        "count": s.count,
        "entries": list(s.entry_ids),
        "observations": len(s.observations),
    }
    if s.place is not None:
        item["place"] = s.place
    if s.party is not None:
        item["party"] = s.party
    return item


@pytest.mark.parametrize("text", TEXTS)
def test_signals_encode_exactly_as_canonical_json_of_their_item(text: str) -> None:
    observation = Observation("7", 1, AT, None, None)
    for name, where, entries, number, seen in itertools.product(
        list(SignalName),
        [(None, None), (text, None), (None, text), ("310101", "st_1")],
        [(), ("e-1",), ("e-1", text)],
        [0, -3, MAX_SAFE_INTEGER],
        [(), (observation,) * 3],
    ):
        place, party = where
        signal = Signal(name, number, AT, place, party, abs(number), entries, seen)
        assert signal_json(signal) == canonical_json(signal_item(signal)), signal


@pytest.mark.parametrize("points", [MAX_SAFE_INTEGER + 1, -MAX_SAFE_INTEGER - 1])
def test_a_signal_beyond_jcs_is_refused_as_canonical_json_refuses_it(points: int) -> None:
    with pytest.raises(MalformedEntryError):
        signal_json(Signal(SignalName.TRANSFER_OUTSIDE, points, AT))


@pytest.mark.parametrize(
    "seconds",
    [
        0,
        1,
        59,
        951_782_400,
        AT,
        AT + 86_399,
        4_102_444_800,
        253_402_300_799,
        -1,
        -86_401,
        -2_177_481_601,
    ],
)
def test_whole_seconds_are_written_as_format_ts_writes_them(seconds: int) -> None:
    assert ts(seconds) == format_ts(datetime.fromtimestamp(seconds, UTC))
