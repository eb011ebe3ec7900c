"""The detector's numbers, each with the reason for its default (docs/compliance.md).

Points add up per (dealer, case) for diversion and per code for clones; a finding becomes an
alert at ``alert_score``. A strong signal is worth an alert by itself; weak signals need
several bottles of one case in the same foreign city.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


class ThresholdError(ValueError):
    """A threshold that makes no sense (the message says which and why)."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    alert_score: int = 100
    """Points at which a finding becomes an alert."""
    strong_points: int = 100
    """A case moved, scanned in or opened by a party outside the dealer's regions is recorded
    on the ledger by that party itself: one such fact is proof enough to open an alert."""
    bottle_points: int = 12
    """Weak: bottles of one case scanned in one foreign city by ``k`` different devices score
    ``bottle_points * k**2`` (12, 48, 108, ...). One is a tourist (one phone, however many
    bottles he carried); two, two travellers who bought from the same case, which happens;
    three different consumers of one case in one foreign city mean the case was sold there:
    with the default, three (108 points) open an alert and two (48) do not."""
    max_devices: int = 5
    """Clone: a genuine bottle is scanned by its buyer, a guest or two and perhaps the shop —
    rarely more than five different phones. The traceability lookup's verdict reads these
    same clone thresholds (``api.trace.resolver.clones``)."""
    max_speed_kmh: int = 1000
    """Clone: faster than an airliner between two scans is impossible travel."""
    min_travel_km: int = 100
    """Clone: scans are placed at city level, so hops below this are within the same
    agglomeration and never count as travel."""
    clone_points: int = 100
    """Points of one clone signal: either one alone opens an alert."""

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if type(value) is not int or value <= 0:
                raise ThresholdError(f"threshold {name} must be a positive integer, not {value!r}")

    def weak_points(self, consumers: int) -> int:
        """Points of bottles of one case scanned in one foreign city by ``consumers`` devices."""
        return self.bottle_points * consumers * consumers

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def from_settings(settings: object) -> Thresholds:
    """The thresholds configured as ``JIUYUAN_COMPLIANCE_<NAME>`` (see ``api.config``)."""
    names = Thresholds.__dataclass_fields__
    return Thresholds(**{n: getattr(settings, f"compliance_{n}") for n in names})
