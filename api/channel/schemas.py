"""Pydantic models of the channel API."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.channel.timestamps import LocalTime

Code = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
TIER_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
"""A price tier's name, as dealers carry it and price lists are kept by it."""
Tier = Field(min_length=1, max_length=32, pattern=TIER_PATTERN)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Location(Strict):
    """Where a party is: GB/T 2260 admin code, street address, WGS-84 micro-degrees."""

    admin_code: str = Field(min_length=6, max_length=6, examples=["510104"])
    address: str = Field(min_length=1, max_length=300, examples=["成都市锦江区红星路三段1号"])
    lat_e6: int = Field(strict=True, ge=-90_000_000, le=90_000_000, examples=[30_657_400])
    lon_e6: int = Field(strict=True, ge=-180_000_000, le=180_000_000, examples=[104_080_900])


class RegionIn(Strict):
    code: str = Code
    name: str = Field(min_length=1, max_length=200, examples=["四川大区"])
    admin_codes: list[str] = Field(
        min_length=1,
        max_length=100,
        description="provinces (XX0000) and prefecture-level cities (XXXX00) of the region",
        examples=[["510000"]],
    )


class RegionOut(BaseModel):
    id: str
    code: str
    name: str
    admin_codes: list[str]


class DealerIn(Strict):
    code: str = Code
    name: str = Field(min_length=1, max_length=200, examples=["成都蜀源酒业有限公司"])
    region_id: str = Field(description="the dealer's home region (its region manager's)")
    authorized_region_ids: list[str] | None = Field(
        default=None, description="regions it may sell in; default its home region"
    )
    tier: str = Tier
    credit_limit_fen: int = Field(strict=True, ge=0, le=10**15, examples=[50_000_000])
    share_permille: int | None = Field(
        strict=True,
        default=None,
        ge=0,
        le=1000,
        description="‰ of HQ stock its stores may draw on; default the channel's",
    )
    location: Location


class DealerPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier: str | None = Field(default=None, min_length=1, max_length=32, pattern=TIER_PATTERN)
    credit_limit_fen: int | None = Field(strict=True, default=None, ge=0, le=10**15)
    share_permille: int | None = Field(strict=True, default=None, ge=0, le=1000)
    authorized_region_ids: list[str] | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> DealerPatch:
        """A field left out keeps its value; none of them can be cleared, so a ``null`` is
        refused by name rather than written."""
        nulls = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if nulls:
            raise ValueError(
                f"{', '.join(nulls)} cannot be null: leave a field out to keep its value"
            )
        return self


class DealerOut(BaseModel):
    id: str
    code: str
    name: str
    region_id: str
    authorized_region_ids: list[str]
    tier: str
    credit_limit_fen: int
    share_permille: int | None = Field(
        description="its own share of HQ stock in ‰; null: the channel default "
        "(JIUYUAN_STOCK_SHARE_PERMILLE, 300)"
    )
    location: Location
    created_at: LocalTime


class StoreIn(Strict):
    code: str = Code
    name: str = Field(min_length=1, max_length=200, examples=["锦江名酒行"])
    tier: str = Field(default="standard", min_length=1, max_length=32)
    location: Location


class StoreOut(BaseModel):
    id: str
    code: str
    name: str
    dealer_id: str
    region_id: str
    tier: str
    location: Location
    created_at: LocalTime


class WarehouseIn(Strict):
    code: str = Code
    name: str = Field(min_length=1, max_length=200, examples=["成都区域仓"])
    kind: Literal["central", "regional", "dealer"]
    dealer_id: str | None = Field(default=None, description="owner, for a dealer warehouse")
    location: Location


class WarehouseOut(BaseModel):
    id: str
    code: str
    name: str
    kind: str
    owner_id: str
    dealer_id: str | None
    region_id: str | None
    location: Location
    created_at: LocalTime


class PartyRef(BaseModel):
    """A party as other resources show it."""

    id: str
    kind: str
    code: str
    name: str
