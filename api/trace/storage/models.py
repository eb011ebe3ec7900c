"""Tables of storage conditions: zones, sensors, raw readings, sealed hours, excursions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base

ReadingId = BigInteger().with_variant(Integer, "sqlite")


class Zone(Base):
    """A warehouse or cellar zone with its allowed temperature and humidity band."""

    __tablename__ = "trace_zones"

    zone_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    warehouse: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    region: Mapped[str | None] = mapped_column(String(60), nullable=True)
    temp_min_centi: Mapped[int] = mapped_column(Integer)
    temp_max_centi: Mapped[int] = mapped_column(Integer)
    rh_min_permille: Mapped[int] = mapped_column(Integer)
    rh_max_permille: Mapped[int] = mapped_column(Integer)
    entry_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Sensor(Base):
    __tablename__ = "trace_sensors"

    sensor_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    zone_id: Mapped[str] = mapped_column(String(40), ForeignKey("trace_zones.zone_id"))
    model: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Reading(Base):
    """One raw reading: °C in hundredths, %RH in tenths (‰)."""

    __tablename__ = "trace_readings"
    __table_args__ = (
        UniqueConstraint("sensor_id", "at", name="uq_trace_readings_sensor_at"),
        Index("ix_trace_readings_zone_at", "zone_id", "at"),
        Index("ix_trace_readings_hour_entry", "hour_entry_id"),
    )

    id: Mapped[int] = mapped_column(ReadingId, primary_key=True, autoincrement=True)
    sensor_id: Mapped[str] = mapped_column(String(40))
    zone_id: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    temp_centi: Mapped[int] = mapped_column(Integer)
    rh_permille: Mapped[int] = mapped_column(Integer)
    hour_entry_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)


class StorageHour(Base):
    """One zone's readings of one hour, sealed into one ledger entry with their Merkle root."""

    __tablename__ = "trace_storage_hours"
    __table_args__ = (
        UniqueConstraint("zone_id", "hour", "part", name="uq_trace_storage_hours_zone_hour"),
    )

    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    zone_id: Mapped[str] = mapped_column(String(40))
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    part: Mapped[int] = mapped_column(SmallInteger)
    count: Mapped[int] = mapped_column(Integer)
    temp_min: Mapped[int] = mapped_column(Integer)
    temp_max: Mapped[int] = mapped_column(Integer)
    temp_sum: Mapped[int] = mapped_column(BigInteger)
    rh_min: Mapped[int] = mapped_column(Integer)
    rh_max: Mapped[int] = mapped_column(Integer)
    rh_sum: Mapped[int] = mapped_column(BigInteger)
    excursions: Mapped[int] = mapped_column(Integer)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    nodes: Mapped[bytes] = mapped_column(LargeBinary)


class StorageExcursion(Base):
    __tablename__ = "trace_storage_excursions"
    __table_args__ = (Index("ix_trace_storage_excursions_zone_hour", "zone_id", "hour"),)

    id: Mapped[int] = mapped_column(ReadingId, primary_key=True, autoincrement=True)
    entry_id: Mapped[str] = mapped_column(String(36))
    zone_id: Mapped[str] = mapped_column(String(40))
    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    metric: Mapped[str] = mapped_column(String(12))
    direction: Mapped[str] = mapped_column(String(6))
    readings: Mapped[int] = mapped_column(Integer)
    peak: Mapped[int] = mapped_column(Integer)
    limit: Mapped[int] = mapped_column(Integer)
