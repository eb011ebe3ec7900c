"""Storage legs with real sensor readings for the browser tests: a lot of its own (so the
other pages' bottles keep their history), its case stored in two zones one after the other,
each zone with two sensors, readings posted in bulk through the API (NDJSON), one of them too
warm, the finished hours sealed into ledger entries. The expected figures are worked out here
from the readings themselves, not read back from the server."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from tests.api.trace.conftest import make_history, ok

LOT = "L20261125S"
LIMITS = {"temp_c": {"min": "10", "max": "25"}, "rh": {"min": "50", "max": "80"}}
ZONES = (
    {
        "zone_id": "GY-WH-S",
        "warehouse": "HQ-GUIYANG",
        "name": "贵阳成品库 S 区",
        "kind": "warehouse",
        "region": "贵州 贵阳",
        **LIMITS,
    },
    {
        "zone_id": "CD-DC-S",
        "warehouse": "DC-CHENGDU",
        "name": "成都配送中心 常温区",
        "kind": "warehouse",
        "region": "四川 成都",
        **LIMITS,
    },
)
HOT = Decimal("27.00")  # above the zones' 25 °C: one excursion


@dataclass(frozen=True)
class Leg:
    zone: str
    region: str
    readings: int
    min: str
    max: str
    mean: str
    excursions: int


@dataclass(frozen=True)
class StoredBottle:
    path: str
    """The Digital Link path of a bottle in the stored case."""
    legs: tuple[Leg, ...]


def _readings(
    sensors: list[str],
    start: datetime,
    hours: int,
    low: str,
    high: str,
    hot: tuple[int, int] | None,
) -> list[tuple[str, datetime, Decimal]]:
    """Every ten minutes per sensor, alternating ``low`` and ``high``; at (hour, minute) ``hot``
    the first sensor reads ``HOT`` instead of ``low``."""
    out = []
    for h in range(hours):
        for m in range(0, 60, 10):
            at = start + timedelta(hours=h, minutes=m)
            for sensor in sensors:
                temp = Decimal(low if (m // 10) % 2 == 0 else high)
                if hot == (h, m) and sensor == sensors[0]:
                    temp = HOT
                out.append((sensor, at, temp))
    return out


def _leg(zone: Mapping[str, object], rows: list[tuple[str, datetime, Decimal]]) -> Leg:
    temps = [t for _, _, t in rows]
    limit = Decimal(str(LIMITS["temp_c"]["max"]))
    mean = sum(temps, Decimal(0)) / len(temps)
    assert mean == mean.quantize(Decimal("0.01")), "readings chosen so the mean is exact"
    return Leg(
        zone=str(zone["zone_id"]),
        region=str(zone["region"]),
        readings=len(rows),
        min=f"{min(temps):.2f}",
        max=f"{max(temps):.2f}",
        mean=f"{mean:.2f}",
        excursions=len({at.replace(minute=0) for _, at, t in rows if t > limit}),
    )


def make_stored_bottle(api: httpx.Client) -> StoredBottle:
    """Five hours, all sealed (the last ended an hour ago): two in Guiyang (15/17 °C), then
    three in Chengdu (18/20 °C with one 27 °C reading in its second hour)."""
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)
    at = (start - timedelta(hours=1)).isoformat()
    history = make_history(api, lot=LOT, bottles=6, at=at)  # type: ignore[arg-type]
    (case,) = history.cases
    plan = (
        (ZONES[0], start, 2, "15.00", "17.00", None),
        (ZONES[1], start + timedelta(hours=2), 3, "18.00", "20.00", (1, 20)),
    )
    legs, lines = [], []
    for zone, since, hours, low, high, hot in plan:
        ok(api.post("/v1/storage/zones", json=zone), 201)
        sensors = [f"{zone['zone_id']}-T{i}" for i in (1, 2)]
        for sensor in sensors:
            ok(
                api.post(
                    "/v1/storage/sensors", json={"sensor_id": sensor, "zone_id": zone["zone_id"]}
                ),
                201,
            )
        stored = {
            "event": "stored",
            "codes": [case],
            "location": zone["zone_id"],
            "at": since.isoformat(),
        }
        ok(api.post("/v1/codes/custody", json=stored))
        rows = _readings(sensors, since, hours, low, high, hot)
        legs.append(_leg(zone, rows))
        lines += [
            f'{{"sensor":"{s}","at":"{at.isoformat()}","temp_c":"{t}","rh":"65.0"}}'
            for s, at, t in rows
        ]
    result = ok(
        api.post(
            "/v1/storage/readings",
            content="\n".join(lines) + "\n",
            headers={"Content-Type": "application/x-ndjson"},
        )
    )
    assert result["accepted"] == len(lines) and result["sealed_hours"] == 5, result
    assert result["excursions"] == 1, result
    path = "/" + history.bottles[0].split("://", 1)[1].split("/", 1)[1]
    return StoredBottle(path, tuple(legs))
