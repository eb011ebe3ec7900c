"""HTTP endpoints for stock levels."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection

from api.auth.service import Principal
from api.channel.endpoints import channel_member
from api.deps import get_conn
from api.stock import service
from api.stock.schemas import StockLevelOut

router = APIRouter(prefix="/v1", tags=["stock"])


@router.get("/stock", response_model=list[StockLevelOut], summary="Stock levels")
def stock_levels(
    warehouse_id: str | None = Query(None, description="one warehouse; default all you see"),
    gtin: str | None = Query(None, description="one SKU"),
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[StockLevelOut]:
    """On hand, reserved for orders, and available (= on hand − reserved), in cases."""
    return service.levels_for(conn, principal, warehouse_id, gtin)
