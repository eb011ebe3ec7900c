"""Request and response models for base liquors and blends."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from api.trace.common import LOT_PATTERN


class BaseLiquorIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "lot": "BL-2019-017",
                "tank": "T-17",
                "distillery": "仁怀一号酒厂",
                "vintage": 2019,
                "grade": "优级",
                "abv_permille": 535,
                "volume_ml": 12000000,
                "zone_id": "GY-CELLAR-1",
                "stored_since": "2019-11-20",
            }
        },
    )

    lot: str = Field(pattern=LOT_PATTERN, description="Lot number: letters, digits, '-' (≤ 20).")
    tank: str = Field(min_length=1, max_length=40)
    distillery: str = Field(min_length=1, max_length=200)
    vintage: int = Field(strict=True, ge=1900, le=2200, description="Year of distillation.")
    grade: str = Field(min_length=1, max_length=40, description="e.g. 优级, 一级, 二级")
    abv_permille: int = Field(strict=True, gt=0, le=1000)
    volume_ml: int = Field(strict=True, gt=0, le=10**12)
    zone_id: str | None = Field(
        default=None, max_length=40, description="Storage zone (cellar) where the lot ages."
    )
    stored_since: date | None = Field(default=None, description="When it entered that zone.")


class BaseLiquorOut(BaseLiquorIn):
    model_config = ConfigDict(extra="forbid")

    remaining_ml: int
    entry_id: str


class BlendInputIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lot: str = Field(pattern=LOT_PATTERN)
    volume_ml: int = Field(strict=True, gt=0, le=10**12)


class BlendIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "blend_no": "BD-2026-118",
                "blender": "王建国",
                "blended_on": "2026-10-08",
                "notes": "典藏基调, 2019 老酒提香",
                "abv_permille": 530,
                "inputs": [
                    {"lot": "BL-2019-017", "volume_ml": 600000},
                    {"lot": "BL-2021-042", "volume_ml": 400000},
                ],
            }
        },
    )

    blend_no: str = Field(pattern=LOT_PATTERN)
    blender: str = Field(min_length=1, max_length=100)
    blended_on: date
    notes: str = Field(default="", max_length=2000)
    abv_permille: int = Field(
        strict=True, gt=0, le=1000, description="Measured ABV of the blend, in ‰."
    )
    inputs: list[BlendInputIn] = Field(min_length=1, max_length=100)


class BlendInputOut(BaseModel):
    lot: str
    volume_ml: int
    share_bp: int = Field(description="Share of the blend's volume in basis points (‱).")
    vintage: int
    distillery: str
    grade: str
    tank: str
    abv_permille: int


class BlendOut(BaseModel):
    blend_no: str
    blender: str
    blended_on: date
    notes: str
    abv_permille: int
    volume_ml: int
    remaining_ml: int
    inputs: list[BlendInputOut]
    entry_id: str
