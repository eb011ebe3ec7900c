"""The lookup's clone reasons: compliance's clone rules, in words a consumer reads.

The rules themselves (too many devices, impossible travel) and their thresholds live in
``api.compliance.detection`` (``clone_signals`` with the ``Thresholds`` of the settings), so
a lookup that calls a code suspicious as a copy and the clone alert compliance raises for it
are one rule applied to the same scans.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from api.compliance.detection.model import ScanPoint
from api.compliance.detection.signals import SignalName, clone_signals
from api.compliance.detection.thresholds import Thresholds, from_settings
from api.config import get_settings
from api.trace import common


def scan_point(row: Any) -> ScanPoint:
    """A stored ``trace_scans`` row as the detector reads it: whole seconds, micro-degrees."""
    device = bytes(row["device_hash"]) if row["device_hash"] is not None else None
    lat, lon = row["lat_centi"], row["lon_centi"]
    return ScanPoint(
        row["id"],
        math.floor(common.utc(row["at"]).timestamp()),
        device,
        None,
        lat * 10_000 if lat is not None else None,
        lon * 10_000 if lon is not None else None,
    )


def clone_reasons(code_id: int, scans: Sequence[Any], th: Thresholds | None = None) -> list[str]:
    """Why the code's scans (stored rows, oldest first) look like a copied label, if they do."""
    th = th if th is not None else from_settings(get_settings())
    cities = {row["id"]: row["city"] or "an unknown place" for row in scans}
    reasons: list[str] = []
    for signal in clone_signals(str(code_id), [scan_point(r) for r in scans], th):
        if signal.name is SignalName.TOO_MANY_DEVICES:
            reasons.append(
                f"This code has been scanned on {signal.count} different devices; genuine "
                "codes are rarely scanned by so many. The label may have been copied."
            )
        else:
            before, after = signal.observations
            minutes = max((after.at - before.at) / 60, 1)
            reasons.append(
                f"Scanned in {cities[before.scan_id]} and then in {cities[after.scan_id]} "
                f"({signal.count:,} km) within {minutes:,.0f} minutes: no bottle travels that "
                "fast. The label may have been copied."
            )
    return reasons
