"""Request and response models of bottling batches."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from api.trace.common import LOT_PATTERN


class BatchStatus(StrEnum):
    ACTIVE = "active"
    RECALLED = "recalled"


class BatchIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "lot": "L20261125A",
                "gtin": "06901234567892",
                "blend_no": "BD-2026-118",
                "line": "灌装线 3",
                "bottled_on": "2026-11-25",
                "planned_qty": 1200,
            }
        },
    )

    lot: str = Field(
        pattern=LOT_PATTERN, description="Lot number, GS1 AI (10): letters, digits, '-' (≤ 20)."
    )
    gtin: str = Field(max_length=14)
    blend_no: str = Field(pattern=LOT_PATTERN)
    line: str = Field(min_length=1, max_length=100, description="Bottling line.")
    bottled_on: date
    planned_qty: int = Field(strict=True, gt=0, le=10_000_000, description="Planned bottles.")


class RecallIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class BatchOut(BaseModel):
    lot: str
    gtin: str
    product: str
    blend_no: str
    line: str
    bottled_on: date
    planned_qty: int
    status: BatchStatus
    recall_reason: str | None = None
    recalled_at: str | None = None
    entry_id: str
