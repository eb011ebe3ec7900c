"""Request and response models of storage conditions."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from api.trace.common import LOT_PATTERN


class ZoneKind(StrEnum):
    WAREHOUSE = "warehouse"
    CELLAR = "cellar"


class Band(BaseModel):
    """An allowed band: both ends, as decimal numbers or their text."""

    model_config = ConfigDict(extra="forbid")

    min: Decimal = Field(allow_inf_nan=False)
    max: Decimal = Field(allow_inf_nan=False)


class ZoneIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "zone_id": "GY-CELLAR-1",
                "warehouse": "HQ-GUIYANG",
                "name": "仁怀 1 号酒库 (陶坛)",
                "kind": "cellar",
                "region": "贵州 仁怀",
                "temp_c": {"min": "12.0", "max": "24.0"},
                "rh": {"min": "60.0", "max": "80.0"},
            }
        },
    )

    zone_id: str = Field(pattern=LOT_PATTERN.replace("19", "39"))
    warehouse: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    kind: ZoneKind
    region: str | None = Field(default=None, max_length=60, description="Shown to the public.")
    temp_c: Band = Field(description='Allowed band in °C, {"min": "12.0", "max": "24.0"}')
    rh: Band = Field(description='Allowed band in %RH, {"min": "60", "max": "80"}')


class ZoneOut(BaseModel):
    zone_id: str
    warehouse: str
    name: str
    kind: ZoneKind
    region: str | None
    temp_c: dict[str, str]
    rh: dict[str, str]
    entry_id: str


class SensorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sensor_id: str = Field(pattern=LOT_PATTERN.replace("19", "39"))
    zone_id: str
    model: str = Field(default="", max_length=100)


class SensorOut(BaseModel):
    sensor_id: str
    zone_id: str
    model: str


class IngestOut(BaseModel):
    accepted: int = Field(description="New readings stored.")
    duplicates: int = Field(description="Readings already stored with the same values (ignored).")
    sealed_hours: int = Field(description="Zone-hours sealed into the ledger by this request.")
    excursions: int = Field(description="Excursions found in the sealed hours.")
