"""The facts the detector reads, as plain frozen values.

Times are whole seconds since the Unix epoch (UTC): cheap to compare across millions of
scans. Places are GB/T 2260 codes (``510104``: 成都市锦江区).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from api.channel.admin_codes import enclosing


@dataclass(frozen=True, slots=True)
class PartyInfo:
    """A party as the detector needs it: who it is, whose it is, where it is."""

    party_id: str
    kind: str  # hq | region | dealer | store | warehouse
    dealer_id: str | None = None
    region_id: str | None = None
    admin_code: str | None = None
    name: str = ""

    @property
    def hq_side(self) -> bool:
        """HQ itself or one of its warehouses: cases going there are returns, not sales."""
        return self.kind == "hq" or (self.kind == "warehouse" and self.dealer_id is None)


@dataclass(frozen=True, slots=True)
class Territory:
    """Regions as sets of areas, and the regions each dealer may sell in."""

    areas: Mapping[str, str]
    """Province or prefecture-level city code → region id."""
    dealer_regions: Mapping[str, frozenset[str]]
    _cache: dict[tuple[str, str], bool] = field(default_factory=dict, compare=False, repr=False)

    def region_of(self, admin_code: str) -> str | None:
        """The region of a place: its most specific enclosing area that belongs to one."""
        for code in enclosing(admin_code):
            region = self.areas.get(code)
            if region is not None:
                return region
        return None

    def authorizes(self, dealer_id: str, admin_code: str) -> bool:
        """Whether ``dealer_id`` may sell at ``admin_code``."""
        key = (dealer_id, admin_code)
        found = self._cache.get(key)
        if found is None:
            region = self.region_of(admin_code)
            found = region is not None and region in self.dealer_regions.get(dealer_id, ())
            self._cache[key] = found
        return found


class MovementKind(StrEnum):
    SHIPPED = "shipped"
    """A ``transfer.shipped`` entry: the case left ``sender`` for ``party``."""
    RECEIVED = "received"
    """A ``transfer.received`` entry: ``party`` scanned the case in as part of a shipment."""
    SCANNED_IN = "scanned_in"
    """``party`` scanned the case in on receipt although no shipment to it carried the case
    (a receipt's ``extra`` code): the case reached it off the books."""
    OPENED = "opened"
    """A ``trace.codes.unpacked`` entry: the case was opened (disaggregated) at ``party``."""


@dataclass(frozen=True, slots=True)
class Movement:
    """One ledger-recorded thing that happened to a case code."""

    case: str
    gtin: str
    at: int
    kind: MovementKind
    party: str
    """Where the case went or was: the receiver, or where it was opened."""
    entry_id: str
    sender: str | None = None


@dataclass(frozen=True, slots=True)
class ScanPoint:
    """One recorded consumer scan of a code."""

    scan_id: int
    at: int
    device: bytes | None
    place: str | None
    """GB/T 2260 code of where it was scanned (county or city), None when unknown."""
    lat_e6: int | None = None
    lon_e6: int | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    """The dealer a case was allotted to by a transfer from HQ: its authorized regions are
    where the case may be sold."""

    case: str
    gtin: str
    dealer_id: str
    at: int
    entry_id: str
