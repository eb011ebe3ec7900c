"""The single rules: what each signal is, how strong, and the clone checks on one code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from api.channel.geo import distance_m
from api.compliance.detection.model import MovementKind, ScanPoint
from api.compliance.detection.thresholds import Thresholds


class SignalName(StrEnum):
    TRANSFER_OUTSIDE = "transfer_outside"
    """Strong: a transfer on the ledger took the case to a party outside the dealer's regions."""
    INBOUND_SCAN_OUTSIDE = "inbound_scan_outside"
    """Strong: a store or warehouse outside the dealer's regions scanned the case in."""
    OPENED_OUTSIDE = "opened_outside"
    """Strong: the case was opened (disaggregated) at a store outside the dealer's regions."""
    CONSUMER_SCANS_OUTSIDE = "consumer_scans_outside"
    """Weak: consumers scanned bottles of the case in a city outside the dealer's regions."""
    TOO_MANY_DEVICES = "too_many_devices"
    """Clone: more distinct devices scanned the code than a genuine bottle sees."""
    IMPOSSIBLE_TRAVEL = "impossible_travel"
    """Clone: two scans of the code too far apart for the time between them."""


STRENGTH: dict[SignalName, str] = {
    SignalName.TRANSFER_OUTSIDE: "strong",
    SignalName.INBOUND_SCAN_OUTSIDE: "strong",
    SignalName.OPENED_OUTSIDE: "strong",
    SignalName.CONSUMER_SCANS_OUTSIDE: "weak",
    SignalName.TOO_MANY_DEVICES: "clone",
    SignalName.IMPOSSIBLE_TRAVEL: "clone",
}

STRONG_BY_MOVEMENT: dict[MovementKind, SignalName] = {
    MovementKind.SHIPPED: SignalName.TRANSFER_OUTSIDE,
    MovementKind.RECEIVED: SignalName.TRANSFER_OUTSIDE,
    MovementKind.SCANNED_IN: SignalName.INBOUND_SCAN_OUTSIDE,
    MovementKind.OPENED: SignalName.OPENED_OUTSIDE,
}


@dataclass(frozen=True, slots=True)
class Observation:
    """A consumer scan an alert rests on (scans are not ledger entries: the alert's own entry
    carries the Merkle root of its observations, so they are fixed from then on)."""

    code: str
    scan_id: int
    at: int
    place: str | None
    device: bytes | None

    def as_item(self) -> dict[str, object]:
        """The canonical item whose leaf goes into the alert entry's observations root."""
        return {
            "code": self.code,
            "scan": self.scan_id,
            "at": self.at,
            "place": self.place,
            "device": self.device.hex() if self.device is not None else None,
        }


@dataclass(frozen=True, slots=True)
class Signal:
    name: SignalName
    points: int
    at: int
    """When it was first seen (seconds since the epoch)."""
    place: str | None = None
    """Where (GB/T 2260), for diversion signals."""
    party: str | None = None
    """The party that recorded it (strong signals)."""
    count: int = 1
    """Bottles (weak), devices (too many devices), or facts merged into this signal."""
    entry_ids: tuple[str, ...] = ()
    observations: tuple[Observation, ...] = ()

    @property
    def strength(self) -> str:
        return STRENGTH[self.name]


def observation(code: str, scan: ScanPoint) -> Observation:
    return Observation(code, scan.scan_id, scan.at, scan.place, scan.device)


def clone_signals(code: str, scans: Sequence[ScanPoint], th: Thresholds) -> list[Signal]:
    """The clone signals of one code, given all its scans in time order.

    The one home of the clone rules: compliance's alerts and the public lookup's
    "suspicious" verdict (``api.trace.resolver.clones``) both judge by this function."""
    if len(scans) <= 1:
        return []
    out: list[Signal] = []
    # 1. Too many distinct devices: fires at the scan that brought the (max+1)-th device.
    seen: dict[bytes, ScanPoint] = {}
    for s in scans:
        if s.device is not None and s.device not in seen:
            seen[s.device] = s
    if len(seen) > th.max_devices:
        firsts = list(seen.values())
        out.append(
            Signal(
                SignalName.TOO_MANY_DEVICES,
                th.clone_points,
                firsts[th.max_devices].at,
                count=len(seen),
                observations=tuple(observation(code, s) for s in firsts[: th.max_devices + 1]),
            )
        )
    # 2. Impossible travel: the first pair of consecutive placed scans that is too fast.
    previous: ScanPoint | None = None
    for s in scans:
        if s.lat_e6 is None or s.lon_e6 is None:
            continue
        if previous is not None:
            assert previous.lat_e6 is not None and previous.lon_e6 is not None
            km = distance_m(previous.lat_e6, previous.lon_e6, s.lat_e6, s.lon_e6) / 1000
            hours = max((s.at - previous.at) / 3600, 1 / 60)
            if km > th.min_travel_km and km / hours > th.max_speed_kmh:
                out.append(
                    Signal(
                        SignalName.IMPOSSIBLE_TRAVEL,
                        th.clone_points,
                        s.at,
                        place=s.place,
                        count=round(km),
                        observations=(observation(code, previous), observation(code, s)),
                    )
                )
                break
        previous = s
    return out
