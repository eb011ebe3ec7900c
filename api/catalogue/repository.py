"""All SQL for price lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from api.catalogue.models import PriceListItem
from api.channel.sql import upsertable_insert

items = PriceListItem.__table__


def upsert_price(
    conn: Connection, seller_id: str, tier: str, gtin: str, fen: int, now: datetime, by: str
) -> None:
    stmt = upsertable_insert(conn, items).values(
        seller_id=seller_id, tier=tier, gtin=gtin, case_price_fen=fen, updated_at=now, updated_by=by
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["seller_id", "tier", "gtin"],
            set_={"case_price_fen": fen, "updated_at": now, "updated_by": by},
        )
    )


def delete_price(conn: Connection, seller_id: str, tier: str, gtin: str) -> int:
    result = conn.execute(
        items.delete().where(
            items.c.seller_id == seller_id, items.c.tier == tier, items.c.gtin == gtin
        )
    )
    return int(result.rowcount)


def price_list(conn: Connection, seller_id: str, tier: str) -> list[PriceListItem]:
    rows = conn.execute(
        select(items)
        .where(items.c.seller_id == seller_id, items.c.tier == tier)
        .order_by(items.c.gtin)
    )
    return [PriceListItem(**r._mapping) for r in rows]
