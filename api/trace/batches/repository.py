"""SQL of bottling batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update

from api.trace.batches.models import Batch
from api.trace.products.models import Product

batches = Batch.__table__
products = Product.__table__

_WITH_PRODUCT = select(batches, products.c.name_zh.label("product")).join(
    products, products.c.gtin == batches.c.gtin
)


def get(conn: Connection, lot: str) -> RowMapping | None:
    return conn.execute(_WITH_PRODUCT.where(batches.c.lot == lot)).mappings().first()


def list_all(conn: Connection, gtin: str | None = None) -> list[RowMapping]:
    query = _WITH_PRODUCT.order_by(batches.c.bottled_on, batches.c.lot)
    if gtin is not None:
        query = query.where(batches.c.gtin == gtin)
    return list(conn.execute(query).mappings())


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(batches.insert().values(**row))


def mark_recalled(conn: Connection, lot: str, reason: str, at: datetime, entry_id: str) -> bool:
    result = conn.execute(
        update(batches)
        .where(batches.c.lot == lot, batches.c.status == "active")
        .values(status="recalled", recall_reason=reason, recalled_at=at, recall_entry_id=entry_id)
    )
    return result.rowcount == 1
