"""All SQL of storage conditions."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, TextClause, bindparam, func, select, text, update

from api.trace.storage.models import Reading, Sensor, StorageExcursion, StorageHour, Zone

zones = Zone.__table__
sensors = Sensor.__table__
readings = Reading.__table__
hours = StorageHour.__table__
excursions = StorageExcursion.__table__


def get_zone(conn: Connection, zone_id: str) -> RowMapping | None:
    return conn.execute(select(zones).where(zones.c.zone_id == zone_id)).mappings().first()


def zones_by_id(conn: Connection, ids: Sequence[str]) -> dict[str, RowMapping]:
    rows = conn.execute(select(zones).where(zones.c.zone_id.in_(list(ids)))).mappings()
    return {r["zone_id"]: r for r in rows}


def list_zones(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(zones).order_by(zones.c.zone_id)).mappings())


def insert_zone(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(zones.insert().values(**row))


def get_sensor(conn: Connection, sensor_id: str) -> RowMapping | None:
    query = select(sensors).where(sensors.c.sensor_id == sensor_id)
    return conn.execute(query).mappings().first()


def sensors_by_id(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    query = select(sensors.c.sensor_id, sensors.c.zone_id).where(sensors.c.sensor_id.in_(ids))
    return {s: z for s, z in conn.execute(query)}


def list_sensors(conn: Connection, zone_id: str | None) -> list[RowMapping]:
    query = select(sensors).order_by(sensors.c.sensor_id)
    if zone_id is not None:
        query = query.where(sensors.c.zone_id == zone_id)
    return list(conn.execute(query).mappings())


def insert_sensor(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(sensors.insert().values(**row))


def existing_readings(
    conn: Connection, sensor_ids: Sequence[str], start: datetime, end: datetime
) -> dict[tuple[str, datetime], tuple[int, int, str | None]]:
    query = select(
        readings.c.sensor_id,
        readings.c.at,
        readings.c.temp_centi,
        readings.c.rh_permille,
        readings.c.hour_entry_id,
    ).where(readings.c.sensor_id.in_(sensor_ids), readings.c.at >= start, readings.c.at <= end)
    from api.log.repository import as_utc

    return {(s, as_utc(at)): (t, h, e) for s, at, t, h, e in conn.execute(query)}


def insert_readings(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 5000):
        conn.execute(readings.insert(), list(rows[start : start + 5000]))


def unsealed_before(conn: Connection, cutoff: datetime) -> Iterator[RowMapping]:
    query = (
        select(readings)
        .where(readings.c.hour_entry_id.is_(None), readings.c.at < cutoff)
        .order_by(readings.c.zone_id, readings.c.at, readings.c.sensor_id, readings.c.id)
    )
    result = conn.execute(query.execution_options(yield_per=20_000))
    try:
        yield from result.mappings()
    finally:
        result.close()


def parts_of(conn: Connection, zone_id: str, hour: datetime) -> int:
    query = select(func.count()).where(hours.c.zone_id == zone_id, hours.c.hour == hour)
    return int(conn.execute(query).scalar_one())


def insert_hour(
    conn: Connection,
    row: dict[str, Any],
    reading_ids: Sequence[int],
    found: Sequence[dict[str, Any]],
) -> None:
    conn.execute(hours.insert().values(**row))
    statement = (
        update(readings)
        .where(readings.c.id == bindparam("r_id"))
        .values(hour_entry_id=row["entry_id"], position=bindparam("r_pos"))
    )
    params = [{"r_id": rid, "r_pos": i} for i, rid in enumerate(reading_ids)]
    for start in range(0, len(params), 5000):
        conn.execute(statement, params[start : start + 5000])
    if found:
        conn.execute(excursions.insert(), list(found))


_SUMMARY_COLUMNS = (
    "count(*), sum(count), min(temp_min), max(temp_max), sum(temp_sum), min(rh_min), "
    "max(rh_max), sum(rh_sum), sum(excursions)"
)


@functools.cache
def _summaries(count: int) -> TextClause:
    parts = [
        f"SELECT {i} AS leg, {_SUMMARY_COLUMNS} FROM trace_storage_hours "
        f"WHERE zone_id = :z{i} AND hour >= :s{i} AND hour < :e{i}"
        for i in range(count)
    ]
    return text(" UNION ALL ".join(parts))


_EXCURSIONS = (
    select(excursions)
    .where(
        excursions.c.zone_id == bindparam("zone"),
        excursions.c.hour >= bindparam("start"),
        excursions.c.hour < bindparam("end"),
    )
    .order_by(excursions.c.hour, excursions.c.id)
    .limit(bindparam("limit"))
)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def summaries(
    conn: Connection, spans: Sequence[tuple[str, datetime, datetime | None]]
) -> list[tuple[Any, ...]]:
    """Hours, readings, min/max/sums and excursion count of each (zone, from, until), in one
    query; in the order given."""
    if not spans:
        return []
    params: dict[str, Any] = {}
    for i, (zone_id, start, end) in enumerate(spans):
        params[f"z{i}"] = zone_id
        params[f"s{i}"] = _bind_time(conn, start)
        params[f"e{i}"] = _bind_time(conn, end)
    rows = {int(r[0]): tuple(r[1:]) for r in conn.execute(_summaries(len(spans)), params)}
    return [rows[i] for i in range(len(spans))]


def _bind_time(conn: Connection, at: datetime | None) -> Any:
    # Raw SQL compares SQLite's stored text, so pass times in the form SQLAlchemy stores.
    at = at or _FAR_FUTURE
    if conn.dialect.name == "sqlite":
        return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return at


def excursions_in(
    conn: Connection, zone_id: str, start: datetime, end: datetime | None, limit: int
) -> list[RowMapping]:
    params = {"zone": zone_id, "start": start, "end": end or _FAR_FUTURE, "limit": limit}
    return list(conn.execute(_EXCURSIONS, params).mappings())


def get_reading(conn: Connection, reading_id: int) -> RowMapping | None:
    query = select(readings).where(readings.c.id == reading_id)
    return conn.execute(query).mappings().first()


def get_hour(conn: Connection, entry_id: str) -> RowMapping | None:
    query = select(hours).where(hours.c.entry_id == entry_id)
    return conn.execute(query).mappings().first()


def hours_in(conn: Connection, zone_id: str, start: datetime, end: datetime) -> list[RowMapping]:
    query = (
        select(
            hours.c.entry_id,
            hours.c.hour,
            hours.c.count,
            hours.c.temp_min,
            hours.c.temp_max,
            hours.c.temp_sum,
            hours.c.rh_min,
            hours.c.rh_max,
            hours.c.rh_sum,
        )
        .where(hours.c.zone_id == zone_id, hours.c.hour >= start, hours.c.hour < end)
        .order_by(hours.c.hour, hours.c.part)
    )
    return list(conn.execute(query).mappings())
