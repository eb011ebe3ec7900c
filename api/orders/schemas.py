"""Pydantic models of the orders API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.channel.timestamps import LocalTime


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gtin: str = Field(min_length=1, max_length=20, examples=["06901234567892"])
    cases: int = Field(strict=True, gt=0, le=100_000, examples=[20])


class OrderIn(BaseModel):
    """A purchase order. Sending the same ``client_key`` again returns the first order."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "buyer_id": "dl_5c1f0e7a9b3d2c4e6f80",
                    "client_key": "PO-2026-11-25-0007",
                    "lines": [{"gtin": "06901234567892", "cases": 20}],
                    "note": "please deliver before Friday",
                }
            ]
        },
    )

    buyer_id: str = Field(description="the dealer (buys from HQ) or store (from its dealer)")
    client_key: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[\x21-\x7e]+$",
        description="the buyer's own order number; makes submission idempotent",
    )
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    ship_to_id: str | None = Field(
        default=None,
        description="a dealer's receiving warehouse (default: its first); a store receives itself",
    )
    note: str = Field(default="", max_length=500)


class AllocationOut(BaseModel):
    warehouse_id: str
    cases: int
    reserved: int = Field(description="cases still held for this order at that warehouse")
    rule: str
    distance_m: int | None
    reason: str


class OrderLineOut(BaseModel):
    line_no: int
    gtin: str
    cases: int
    case_price_fen: int
    amount_fen: int
    allocations: list[AllocationOut]


class OrderEventOut(BaseModel):
    state: str
    actor: str
    note: str
    at: LocalTime


class OrderSummary(BaseModel):
    id: str
    kind: str
    state: str
    buyer_id: str
    seller_id: str
    ship_to_id: str
    client_key: str
    total_fen: int
    created_at: LocalTime
    updated_at: LocalTime


class OrderOut(OrderSummary):
    note: str
    lines: list[OrderLineOut]
    history: list[OrderEventOut]
    shipment_ids: list[str]


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)
