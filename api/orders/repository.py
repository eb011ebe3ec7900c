"""All SQL for orders, their lines, allocations and history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from api.channel.sql import upsertable_insert
from api.orders.models import Order, OrderAllocation, OrderEvent, OrderLine

orders = Order.__table__
lines = OrderLine.__table__
allocations = OrderAllocation.__table__
events = OrderEvent.__table__


@dataclass(frozen=True, slots=True)
class OrderRow:
    order_id: str
    kind: str
    buyer_id: str
    seller_id: str
    ship_to_id: str
    region_id: str
    dealer_id: str
    store_id: str | None
    client_key: str
    request_digest: bytes
    state: str
    total_fen: int
    note: str
    created_by: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AllocationRow:
    order_id: str
    line_no: int
    rank: int
    warehouse_id: str
    gtin: str
    cases: int
    reserved: int
    rule: str
    distance_m: int | None
    reason: str


def _order(row: Any) -> OrderRow:
    values = dict(row._mapping)
    values["request_digest"] = bytes(values["request_digest"])
    return OrderRow(**values)


def insert_order(conn: Connection, **values: Any) -> bool:
    """Insert an order header; False (nothing written) if its client key is taken."""
    stmt = upsertable_insert(conn, orders).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=["buyer_id", "client_key"])
    # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT DO NOTHING.
    return conn.execute(stmt.returning(orders.c.order_id)).first() is not None


def insert_lines(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    conn.execute(lines.insert(), list(rows))


def insert_allocations(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(allocations.insert(), list(rows))


def add_event(
    conn: Connection, order_id: str, state: str, actor: str, note: str, at: datetime | None = None
) -> None:
    conn.execute(
        events.insert().values(
            order_id=order_id, state=state, actor=actor, note=note, at=at or datetime.now(UTC)
        )
    )


def get(conn: Connection, order_id: str, *, for_update: bool = False) -> OrderRow | None:
    query = select(orders).where(orders.c.order_id == order_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _order(row)


def set_state(conn: Connection, order_id: str, state: str) -> None:
    conn.execute(
        orders.update()
        .where(orders.c.order_id == order_id)
        .values(state=state, updated_at=datetime.now(UTC))
    )


def lines_of(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(lines).where(lines.c.order_id == order_id).order_by(lines.c.line_no))
    return [dict(r._mapping) for r in rows]


def allocations_of(conn: Connection, order_id: str) -> list[AllocationRow]:
    rows = conn.execute(
        select(allocations)
        .where(allocations.c.order_id == order_id)
        .order_by(allocations.c.line_no, allocations.c.rank)
    )
    return [AllocationRow(**r._mapping) for r in rows]


def set_reserved(conn: Connection, order_id: str, line_no: int, rank: int, reserved: int) -> None:
    conn.execute(
        allocations.update()
        .where(
            allocations.c.order_id == order_id,
            allocations.c.line_no == line_no,
            allocations.c.rank == rank,
        )
        .values(reserved=reserved)
    )


def events_of(conn: Connection, order_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(events.c.state, events.c.actor, events.c.note, events.c.at)
        .where(events.c.order_id == order_id)
        .order_by(events.c.event_id)
    )
    return [dict(r._mapping) for r in rows]


def list_orders(
    conn: Connection,
    *,
    tenancy: dict[str, str],
    state: str | None,
    kind: str | None,
    after: str | None,
    limit: int,
) -> list[OrderRow]:
    query = select(orders)
    for column, value in tenancy.items():
        query = query.where(orders.c[column] == value)
    if state is not None:
        query = query.where(orders.c.state == state)
    if kind is not None:
        query = query.where(orders.c.kind == kind)
    if after is not None:
        query = query.where(orders.c.order_id > after)
    rows = conn.execute(query.order_by(orders.c.order_id).limit(limit))
    return [_order(r) for r in rows]
