"""All SQL for stock levels. Every change is one conditional UPDATE, so no path can oversell."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from api.channel.sql import upsertable_insert
from api.stock.models import StockLevel

levels = StockLevel.__table__
HQ_KINDS = ("central", "regional")


@dataclass(frozen=True, slots=True)
class Level:
    warehouse_id: str
    gtin: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def read(
    conn: Connection,
    warehouse_ids: Sequence[str] | None = None,
    gtins: Sequence[str] | None = None,
) -> list[Level]:
    query = select(levels.c.warehouse_id, levels.c.gtin, levels.c.on_hand, levels.c.reserved)
    if warehouse_ids is not None:
        query = query.where(levels.c.warehouse_id.in_(list(warehouse_ids)))
    if gtins is not None:
        query = query.where(levels.c.gtin.in_(list(gtins)))
    rows = conn.execute(query.order_by(levels.c.warehouse_id, levels.c.gtin))
    return [Level(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


def reserve(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> bool:
    """Reserve ``cases`` if that many are available; False (nothing changed) otherwise."""
    result = conn.execute(
        levels.update()
        .where(
            levels.c.warehouse_id == warehouse_id,
            levels.c.gtin == gtin,
            levels.c.on_hand - levels.c.reserved >= cases,
        )
        .values(reserved=levels.c.reserved + cases, updated_at=_now())
    )
    return result.rowcount == 1


def release(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> bool:
    """Give back a reservation (an order cancelled)."""
    result = conn.execute(
        levels.update()
        .where(
            levels.c.warehouse_id == warehouse_id,
            levels.c.gtin == gtin,
            levels.c.reserved >= cases,
        )
        .values(reserved=levels.c.reserved - cases, updated_at=_now())
    )
    return result.rowcount == 1


def take_reserved(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> bool:
    """Reserved cases leave the warehouse (dispatch): on hand and reserved both fall."""
    result = conn.execute(
        levels.update()
        .where(
            levels.c.warehouse_id == warehouse_id,
            levels.c.gtin == gtin,
            levels.c.reserved >= cases,
        )
        .values(
            on_hand=levels.c.on_hand - cases,
            reserved=levels.c.reserved - cases,
            updated_at=_now(),
        )
    )
    return result.rowcount == 1


def add(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> None:
    """Cases arrive (receipt, put-away, a return): on hand rises, creating the row if new."""
    now = _now()
    stmt = upsertable_insert(conn, levels).values(
        warehouse_id=warehouse_id, gtin=gtin, on_hand=cases, reserved=0, updated_at=now
    )
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["warehouse_id", "gtin"],
            set_={"on_hand": levels.c.on_hand + cases, "updated_at": now},
        )
    )


def _now() -> datetime:
    return datetime.now(UTC)


def withdraw(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> bool:
    """Unreserved cases leave the warehouse (a return picked up): only if that many are free."""
    result = conn.execute(
        levels.update()
        .where(
            levels.c.warehouse_id == warehouse_id,
            levels.c.gtin == gtin,
            levels.c.on_hand - levels.c.reserved >= cases,
        )
        .values(on_hand=levels.c.on_hand - cases, updated_at=_now())
    )
    return result.rowcount == 1
