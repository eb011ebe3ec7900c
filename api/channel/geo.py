"""Great-circle distance between two points given in integer micro-degrees."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean radius


def distance_m(lat1_e6: int, lon1_e6: int, lat2_e6: int, lon2_e6: int) -> int:
    """Haversine distance in whole metres (numerically stable for short distances)."""
    p1, p2 = radians(lat1_e6 / 1e6), radians(lat2_e6 / 1e6)
    dp, dl = p2 - p1, radians((lon2_e6 - lon1_e6) / 1e6)
    h = sin(dp / 2) ** 2 + cos(p1) * cos(p2) * sin(dl / 2) ** 2
    return round(2 * EARTH_RADIUS_M * asin(min(1.0, sqrt(h))))


def check_coordinates(lat_e6: int, lon_e6: int) -> None:
    if not -90_000_000 <= lat_e6 <= 90_000_000:
        raise ValueError(f"latitude {lat_e6} micro-degrees is outside ±90°")
    if not -180_000_000 <= lon_e6 <= 180_000_000:
        raise ValueError(f"longitude {lon_e6} micro-degrees is outside ±180°")
