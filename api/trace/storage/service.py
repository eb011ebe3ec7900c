"""Storage conditions: zones and sensors, bulk readings, hourly ledger summaries, excursions.

Readings arrive in bulk (JSON lines or CSV). Once an hour is over (plus ``GRACE``), each
zone's readings of that hour are sealed into one ``trace.storage.hour`` ledger entry with
count / min / max / mean and the Merkle root of the raw readings, each reading the leaf
``canonical_json({"at", "rh_permille", "sensor", "temp_centi_c"})``; readings that arrive
for an hour already sealed are sealed later as a further part of that hour. Readings outside
the zone's band are excursions: listed in the entry and shown in provenance.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection

from api.body_guard import unstorable
from api.db import engine_key
from api.errors import AppError, Conflict, NotFound, Unprocessable
from api.times import in_utc
from api.trace import common, merkle_list
from api.trace.resolver import proofs
from api.trace.resolver.cache import TTLCache
from api.trace.resolver.schemas import Excursion, Membership, ProvenEntry, StorageLeg
from api.trace.storage import repository as repo
from api.trace.storage.schemas import (
    IngestOut,
    SensorIn,
    SensorOut,
    ZoneIn,
    ZoneKind,
    ZoneOut,
)

GRACE = timedelta(minutes=10)
MAX_READINGS = 100_000
TEMP_RANGE = (Decimal(-60), Decimal(90))


class BadReadings(Unprocessable):
    code = "bad_readings"


class UnknownZone(NotFound):
    code = "unknown_zone"


def _centi(value: Decimal) -> int:
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def _deci(value: Decimal) -> int:
    return int((value * 10).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def fmt_centi(value: int) -> str:
    return f"{Decimal(value) / 100:.2f}"


def fmt_deci(value: int) -> str:
    return f"{Decimal(value) / 10:.1f}"


# --- zones and sensors --------------------------------------------------------------------------


def register_zone(conn: Connection, data: ZoneIn) -> ZoneOut:
    if repo.get_zone(conn, data.zone_id) is not None:
        raise Conflict(f"zone {data.zone_id} is already registered", code="zone_exists")
    low, high = TEMP_RANGE
    for end in (data.temp_c.min, data.temp_c.max):
        if not low <= end <= high:
            raise Unprocessable(
                f"temperature {end} °C is not plausible for a store: keep the band within "
                f"{low}–{high} °C"
            )
    for end in (data.rh.min, data.rh.max):
        if not 0 <= end <= 100:
            raise Unprocessable(f"humidity {end} %RH is outside 0–100")
    t_min, t_max = _centi(data.temp_c.min), _centi(data.temp_c.max)
    h_min, h_max = _deci(data.rh.min), _deci(data.rh.max)
    if not (t_min < t_max and h_min < h_max):
        raise Unprocessable("each band needs min < max (temp_c and rh)")
    payload = {
        "zone": data.zone_id,
        "warehouse": data.warehouse,
        "name": data.name,
        "kind": data.kind.value,
        "temp_centi_c": {"min": t_min, "max": t_max},
        "rh_permille": {"min": h_min, "max": h_max},
    }
    if data.region:
        payload["region"] = data.region
    entry_id = common.stage(conn, "trace.storage.zone", payload)
    repo.insert_zone(
        conn,
        {
            "zone_id": data.zone_id,
            "warehouse": data.warehouse,
            "name": data.name,
            "kind": data.kind.value,
            "region": data.region,
            "temp_min_centi": t_min,
            "temp_max_centi": t_max,
            "rh_min_permille": h_min,
            "rh_max_permille": h_max,
            "entry_id": entry_id,
            "created_at": common.now(),
        },
    )
    return get_zone(conn, data.zone_id)


def get_zone(conn: Connection, zone_id: str) -> ZoneOut:
    row = repo.get_zone(conn, zone_id)
    if row is None:
        raise UnknownZone(f"no storage zone {zone_id}")
    return _zone_out(row)


def list_zones(conn: Connection) -> list[ZoneOut]:
    return [_zone_out(r) for r in repo.list_zones(conn)]


def _zone_out(row: Any) -> ZoneOut:
    return ZoneOut(
        zone_id=row["zone_id"],
        warehouse=row["warehouse"],
        name=row["name"],
        kind=ZoneKind(row["kind"]),
        region=row["region"],
        temp_c={"min": fmt_centi(row["temp_min_centi"]), "max": fmt_centi(row["temp_max_centi"])},
        rh={"min": fmt_deci(row["rh_min_permille"]), "max": fmt_deci(row["rh_max_permille"])},
        entry_id=row["entry_id"],
    )


def register_sensor(conn: Connection, data: SensorIn) -> SensorOut:
    get_zone(conn, data.zone_id)
    if repo.get_sensor(conn, data.sensor_id) is not None:
        raise Conflict(f"sensor {data.sensor_id} is already registered", code="sensor_exists")
    repo.insert_sensor(conn, {**data.model_dump(), "created_at": common.now()})
    return SensorOut(**data.model_dump())


def list_sensors(conn: Connection, zone_id: str | None) -> list[SensorOut]:
    return [
        SensorOut(sensor_id=r["sensor_id"], zone_id=r["zone_id"], model=r["model"])
        for r in repo.list_sensors(conn, zone_id)
    ]


# --- ingestion ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RawReading:
    sensor: str
    at: datetime
    temp_centi: int
    rh_permille: int


def parse_readings(raw: bytes, media: str) -> list[RawReading]:
    """JSON lines (``{"sensor", "at", "temp_c", "rh"}``) or CSV with the header
    ``sensor,at,temp_c,rh``; all or nothing, naming the first bad line."""
    try:
        # A byte order mark (as spreadsheet programs and some editors write) is not content.
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise BadReadings("readings must be UTF-8 text") from None
    if media in ("text/csv", "application/csv"):
        items: Iterable[tuple[int, Any]] = _csv_rows(text)
    elif media in ("application/x-ndjson", "application/jsonl", "application/json-lines"):
        items = _json_lines(text)
    else:
        raise AppError(
            f"send readings as application/x-ndjson (JSON lines) or text/csv, not {media!r}",
            status_code=415,
            code="unsupported_media_type",
        )
    out: list[RawReading] = []
    for line, item in items:
        if len(out) >= MAX_READINGS:
            raise BadReadings(f"more than {MAX_READINGS:,} readings in one request; split it")
        out.append(_reading(line, item))
    if not out:
        raise BadReadings("no readings in the request")
    return out


def _csv_rows(text: str) -> Iterator[tuple[int, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        missing = {"sensor", "at", "temp_c", "rh"} - set(reader.fieldnames or [])
        if missing:
            raise BadReadings(f"the CSV header lacks {', '.join(sorted(missing))}")
        for n, row in enumerate(reader):
            yield n + 2, row
    except csv.Error as exc:  # an over-long field, a quote left open at the end…
        raise BadReadings(f"line {reader.line_num}: not CSV ({exc})") from None


def _json_lines(text: str) -> Iterator[tuple[int, Any]]:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line, parse_float=Decimal, parse_int=Decimal)
        except json.JSONDecodeError as exc:
            raise BadReadings(f"line {n}: not JSON ({exc.msg})") from None
        except RecursionError:
            raise BadReadings(f"line {n}: JSON nested too deep for a reading") from None
        if not isinstance(item, dict):
            raise BadReadings(f"line {n}: each line is one JSON object")
        yield n, item


def _reading(line: int, item: Any) -> RawReading:
    if None in item:  # csv.DictReader keeps a row's cells beyond the header under None
        raise BadReadings(f"line {line}: more cells than the header's four columns")
    if None in item.values():  # and fills the cells a short row lacks with None
        raise BadReadings(f"line {line}: fewer cells than the header's four columns")
    extra = set(item) - {"sensor", "at", "temp_c", "rh"}
    if extra:
        raise BadReadings(f"line {line}: unknown field {sorted(extra)[0]!r}")
    try:
        sensor = str(item["sensor"])
        problem = unstorable(sensor)
        if problem is not None:
            raise BadReadings(f"line {line}: the sensor id {problem}")
        at = datetime.fromisoformat(str(item["at"]).replace("Z", "+00:00"))
        temp = Decimal(str(item["temp_c"]))
        rh = Decimal(str(item["rh"]))
    except KeyError as exc:
        raise BadReadings(f"line {line}: missing {exc.args[0]!r}") from None
    except (ValueError, InvalidOperation):
        raise BadReadings(
            f"line {line}: at must be an ISO 8601 time with its offset, temp_c and rh numbers"
        ) from None
    if at.tzinfo is None:
        raise BadReadings(f"line {line}: the time {item['at']} has no UTC offset")
    try:
        at = in_utc(at)
    except ValueError as exc:
        raise BadReadings(f"line {line}: {exc}") from None
    if not temp.is_finite() or not TEMP_RANGE[0] <= temp <= TEMP_RANGE[1]:
        raise BadReadings(f"line {line}: temperature {temp} °C is not plausible")
    if not rh.is_finite() or not 0 <= rh <= 100:
        raise BadReadings(f"line {line}: humidity {rh} %RH is outside 0–100")
    return RawReading(sensor, at, _centi(temp), _deci(rh))


def ingest(
    conn: Connection, readings: Sequence[RawReading], now: datetime | None = None
) -> IngestOut:
    """Store new readings (exact repeats are ignored, changed values refused), then seal
    every zone-hour that is over."""
    now = now or common.now()
    future = next((r for r in readings if r.at > now + timedelta(minutes=5)), None)
    if future is not None:
        raise BadReadings(
            f"a reading of {future.sensor} is in the future ({future.at.isoformat()})"
        )
    sensor_ids = sorted({r.sensor for r in readings})
    zones = repo.sensors_by_id(conn, sensor_ids)
    unknown = [s for s in sensor_ids if s not in zones]
    if unknown:
        raise BadReadings(f"unknown sensor(s): {', '.join(unknown[:5])}; register them first")
    existing = repo.existing_readings(
        conn, sensor_ids, min(r.at for r in readings), max(r.at for r in readings)
    )
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, datetime], RawReading] = {}
    duplicates = 0
    for r in readings:
        key = (r.sensor, r.at)
        before = existing.get(key)
        twin = seen.get(key)
        if before is not None or twin is not None:
            same = (before[0], before[1]) if before else (twin.temp_centi, twin.rh_permille)  # type: ignore[union-attr]
            if same != (r.temp_centi, r.rh_permille):
                raise Conflict(
                    f"sensor {r.sensor} already has a different reading at {r.at.isoformat()}; "
                    "stored readings are never changed",
                    code="reading_conflict",
                )
            duplicates += 1
            continue
        seen[key] = r
        rows.append(
            {
                "sensor_id": r.sensor,
                "zone_id": zones[r.sensor],
                "at": r.at,
                "temp_centi": r.temp_centi,
                "rh_permille": r.rh_permille,
            }
        )
    repo.insert_readings(conn, rows)
    sealed, found = seal(conn, now)
    return IngestOut(
        accepted=len(rows), duplicates=duplicates, sealed_hours=sealed, excursions=found
    )


def _hour_of(at: datetime) -> datetime:
    return common.utc(at).replace(minute=0, second=0, microsecond=0)


def reading_item(row: Any) -> dict[str, Any]:
    return {
        "sensor": row["sensor_id"],
        "at": common.ts_text(row["at"]),
        "temp_centi_c": row["temp_centi"],
        "rh_permille": row["rh_permille"],
    }


def seal(conn: Connection, now: datetime | None = None) -> tuple[int, int]:
    """Seal every unsealed zone-hour that ended at least ``GRACE`` ago; return (hours,
    excursions)."""
    cutoff = _hour_of((now or common.now()) - GRACE)
    group: list[Any] = []
    key: tuple[str, datetime] | None = None
    sealed = found = 0
    zones: dict[str, Any] = {}
    for row in repo.unsealed_before(conn, cutoff):
        row_key = (row["zone_id"], _hour_of(row["at"]))
        if key is not None and row_key != key:
            found += _seal_hour(conn, key, group, zones)
            sealed += 1
            group = []
        key = row_key
        group.append(row)
    if key is not None and group:
        found += _seal_hour(conn, key, group, zones)
        sealed += 1
    return sealed, found


def _seal_hour(
    conn: Connection, key: tuple[str, datetime], rows: list[Any], zones: dict[str, Any]
) -> int:
    zone_id, hour = key
    zone = zones.get(zone_id) or repo.get_zone(conn, zone_id)
    zones[zone_id] = zone
    part = repo.parts_of(conn, zone_id, hour) + 1
    temps = [r["temp_centi"] for r in rows]
    hums = [r["rh_permille"] for r in rows]
    n = len(rows)
    tree = merkle_list.build([merkle_list.item_leaf(reading_item(r)) for r in rows])
    checks = (
        (
            "temperature",
            "above",
            temps,
            lambda v: v > zone["temp_max_centi"],
            max,
            zone["temp_max_centi"],
        ),
        (
            "temperature",
            "below",
            temps,
            lambda v: v < zone["temp_min_centi"],
            min,
            zone["temp_min_centi"],
        ),
        (
            "humidity",
            "above",
            hums,
            lambda v: v > zone["rh_max_permille"],
            max,
            zone["rh_max_permille"],
        ),
        (
            "humidity",
            "below",
            hums,
            lambda v: v < zone["rh_min_permille"],
            min,
            zone["rh_min_permille"],
        ),
    )
    found = []
    for metric, direction, values, out, pick, limit in checks:
        bad = [v for v in values if out(v)]
        if bad:
            found.append(
                {
                    "metric": metric,
                    "direction": direction,
                    "readings": len(bad),
                    "peak": pick(bad),
                    "limit": limit,
                }
            )
    payload: dict[str, Any] = {
        "zone": zone_id,
        "hour": common.ts_text(hour),
        "count": n,
        "temp_centi_c": {"min": min(temps), "max": max(temps), "mean": _mean(temps)},
        "rh_permille": {"min": min(hums), "max": max(hums), "mean": _mean(hums)},
        "readings_root": tree.root.hex(),
        "excursions": found,
    }
    if part > 1:
        payload["part"] = part
    entry_id = common.stage(conn, "trace.storage.hour", payload)
    repo.insert_hour(
        conn,
        {
            "entry_id": entry_id,
            "zone_id": zone_id,
            "hour": hour,
            "part": part,
            "count": n,
            "temp_min": min(temps),
            "temp_max": max(temps),
            "temp_sum": sum(temps),
            "rh_min": min(hums),
            "rh_max": max(hums),
            "rh_sum": sum(hums),
            "excursions": len(found),
            "root": tree.root,
            "nodes": tree.nodes,
        },
        [r["id"] for r in rows],
        [{**f, "entry_id": entry_id, "zone_id": zone_id, "hour": hour} for f in found],
    )
    return len(found)


def _mean(values: Sequence[int]) -> int:
    total, n = sum(values), len(values)
    return (2 * total + n) // (2 * n)  # rounded half up, in integers


# --- provenance -----------------------------------------------------------------------------------

MAX_EXCURSIONS_SHOWN = 20


def legs(
    conn: Connection,
    intervals: Sequence[tuple[str, datetime, datetime]],
    path: Sequence[tuple[str | None, datetime]],
) -> list[StorageLeg]:
    """Storage conditions along a bottle's path: base liquors' cellars (``intervals``), then
    every zone the bottle's custody steps (``path``: location, time) put it in."""
    spans: list[tuple[str, datetime, datetime | None]] = list(intervals)
    for i, (location, at) in enumerate(path):
        if location:
            until = path[i + 1][1] if i + 1 < len(path) else None
            spans.append((location, at, until))
    zones = _zones(conn, {s[0] for s in spans})
    known = [
        (zone_id, _hour_of(common.utc(start)), common.utc(start), common.utc(end) if end else None)
        for zone_id, start, end in spans
        if zone_id in zones
    ]
    figures = repo.summaries(conn, [(z, first, end) for z, first, _, end in known])
    out: list[StorageLeg] = []
    for (zone_id, first, start, end), row in zip(known, figures, strict=True):
        zone = zones[zone_id]
        n_hours, n, t_min, t_max, t_sum, h_min, h_max, h_sum, n_exc = row
        excursions = [
            Excursion(
                hour=common.local_text(e["hour"]),
                metric=e["metric"],
                direction=e["direction"],
                readings=e["readings"],
                peak=(fmt_centi if e["metric"] == "temperature" else fmt_deci)(e["peak"]),
                limit=(fmt_centi if e["metric"] == "temperature" else fmt_deci)(e["limit"]),
                entry_id=e["entry_id"],
            )
            for e in (
                repo.excursions_in(conn, zone_id, first, end, MAX_EXCURSIONS_SHOWN) if n_exc else []
            )
        ]
        out.append(
            StorageLeg(
                zone=zone_id,
                name=zone["name"],
                kind=zone["kind"],
                region=zone["region"],
                since=common.local_text(start),
                until=common.local_text(end) if end is not None else None,
                hours=int(n_hours),
                readings=int(n or 0),
                temperature_c=(
                    {
                        "min": fmt_centi(t_min),
                        "max": fmt_centi(t_max),
                        "mean": fmt_centi(_div(t_sum, n)),
                    }
                    if n
                    else None
                ),
                humidity_rh=(
                    {
                        "min": fmt_deci(h_min),
                        "max": fmt_deci(h_max),
                        "mean": fmt_deci(_div(h_sum, n)),
                    }
                    if n
                    else None
                ),
                excursions=excursions,
            )
        )
    return out


_ZONES = TTLCache[tuple[str, str], Any](ttl_s=300.0, max_items=10_000)


def _zones(conn: Connection, ids: set[str]) -> dict[str, Any]:
    """Zones by id; a zone never changes once registered, so they are cached for a few
    minutes, and so is the absence of one (a bottling line is a location but not a zone)."""
    url = engine_key(conn)
    found = {z: _ZONES.get((url, z)) for z in ids}
    missing = [z for z, row in found.items() if row is None]
    if missing:
        rows = repo.zones_by_id(conn, missing)
        for zone_id in missing:
            row = dict(rows[zone_id]) if zone_id in rows else {}
            found[zone_id] = row
            _ZONES.put((url, zone_id), row)
    return {z: row for z, row in found.items() if row}


def _div(total: int, n: int) -> int:
    return (2 * int(total) + int(n)) // (2 * int(n))


def wanted_for(found: Sequence[StorageLeg]) -> list[proofs.Wanted]:
    """The hourly entries behind the excursions shown, to be proven with the rest."""
    ids: list[str] = []
    for leg in found:
        for e in leg.excursions:
            if e.entry_id not in ids:
                ids.append(e.entry_id)
    return [proofs.Wanted(i, "storage_excursion") for i in ids]


def link_entries(found: Sequence[StorageLeg], entries: Sequence[ProvenEntry]) -> None:
    where = {e.id: i for i, e in enumerate(entries)}
    for leg in found:
        for e in leg.excursions:
            e.entry = where.get(e.entry_id)


def reading_proof(conn: Connection, reading_id: int, verifier_key: str) -> dict[str, Any]:
    """A raw reading, the hourly entry that seals it, and both proofs."""
    row = repo.get_reading(conn, reading_id)
    if row is None:
        raise NotFound(f"no reading {reading_id}", code="unknown_reading")
    item = reading_item(row)
    if row["hour_entry_id"] is None:
        return {
            "reading": item,
            "status": "pending",
            "message": "the reading's hour is not sealed yet; it is sealed after the hour ends",
        }
    hour = repo.get_hour(conn, row["hour_entry_id"])
    assert hour is not None
    size, index = hour["count"], row["position"]
    nodes = merkle_list.unpack(bytes(hour["nodes"]), size, merkle_list.proof_nodes(index, size))
    member = Membership(
        item=item,
        index=index,
        size=size,
        root=bytes(hour["root"]).hex(),
        proof=[h.hex() for h in merkle_list.proof(index, size, nodes)],
    )
    entries, cp = proofs.prove(
        conn, [proofs.Wanted(row["hour_entry_id"], "storage_hour", member=member)], verifier_key
    )
    return {"reading": item, "status": entries[0].status, "entry": entries[0], "checkpoint": cp}
