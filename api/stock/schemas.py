"""Pydantic models of the stock API."""

from __future__ import annotations

from pydantic import BaseModel


class StockLevelOut(BaseModel):
    warehouse_id: str
    gtin: str
    on_hand: int
    reserved: int
    available: int
