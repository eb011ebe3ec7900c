"""Pydantic models of price lists and the catalogue."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.channel.timestamps import LocalTime


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_price_fen: int = Field(strict=True, gt=0, le=10**12, examples=[1_788_000])


class PriceOut(BaseModel):
    seller_id: str
    tier: str
    gtin: str
    case_price_fen: int
    updated_at: LocalTime


class CatalogueItem(BaseModel):
    """A SKU the buyer may order, at the buyer's tier price."""

    gtin: str
    name_zh: str
    name_en: str
    volume_ml: int
    case_size: int
    case_price_fen: int


class Catalogue(BaseModel):
    buyer_id: str
    seller_id: str
    tier: str
    items: list[CatalogueItem]
