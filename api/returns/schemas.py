"""Pydantic models of the returns API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.channel.timestamps import LocalTime


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str
    codes: list[str] = Field(min_length=1, max_length=5000, description="case codes to return")
    reason: str = Field(min_length=1, max_length=500, examples=["破损：运输中外箱受潮"])


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(default="", max_length=500)


class ReturnOut(BaseModel):
    id: str
    order_id: str
    state: str = Field(description="requested, approved, rejected, in_transit, received")
    reason: str
    codes: list[str]
    to_warehouse_id: str
    shipment_id: str | None = Field(description="the return's shipment, once approved")
    decided_by: str | None
    decision_note: str
    created_at: LocalTime
    decided_at: LocalTime | None
