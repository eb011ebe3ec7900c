"""Pydantic models of the shipments API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.channel.timestamps import LocalTime


class ScanIn(BaseModel):
    """Case codes as scanned: GS1 Digital Link URIs or bare serials."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "codes": [
                        "https://id.jiuyuan.example/01/06901234567892/10/L20261125A/21/7K3M9Q2XW8D4HP6R"
                    ]
                }
            ]
        },
    )

    codes: list[str] = Field(min_length=1, max_length=5000)


class ShipmentLineOut(BaseModel):
    gtin: str
    cases: int
    picked: int
    received: int


class ShipmentOut(BaseModel):
    id: str
    kind: str
    order_id: str
    return_id: str | None
    state: str
    from_party_id: str
    from_warehouse_id: str | None
    to_party_id: str
    to_warehouse_id: str | None
    lines: list[ShipmentLineOut]
    shipped_entry_ids: list[str] = Field(description="`transfer.shipped` ledger entries")
    received_entry_ids: list[str] = Field(description="`transfer.received` ledger entries")
    missing: list[str] = Field(description="shipped but not scanned on arrival (serials)")
    extra: list[str] = Field(description="scanned on arrival but not in the shipment")
    wrong_destination: list[str] = Field(
        default_factory=list,
        description="of the extra codes, those dispatched to another party and still on their "
        "way there: a case delivered to the wrong place",
    )
    created_at: LocalTime
    dispatched_at: LocalTime | None
    received_at: LocalTime | None


class PutawayOut(BaseModel):
    warehouse_id: str
    cases: dict[str, int] = Field(description="cases put away per GTIN")
    entry_ids: list[str]


class CustodyOut(BaseModel):
    serial: str
    gtin: str
    state: str
    holder_id: str
    warehouse_id: str | None
    to_id: str | None
    entry_id: str
