"""SQL of the product catalogue."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, select

from api.trace.products.models import Product

products = Product.__table__


def get(conn: Connection, gtin: str) -> RowMapping | None:
    return conn.execute(select(products).where(products.c.gtin == gtin)).mappings().first()


def insert(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(products.insert().values(**row))


def list_all(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(products).order_by(products.c.gtin)).mappings())
