"""All SQL for return authorizations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from api.returns.models import ReturnAuthorization, ReturnCode
from api.shipments.models import Shipment, ShipmentScan

returns = ReturnAuthorization.__table__
codes = ReturnCode.__table__
OPEN = ("requested", "approved", "in_transit")


@dataclass(frozen=True, slots=True)
class ReturnRow:
    return_id: str
    order_id: str
    state: str
    reason: str
    to_warehouse_id: str
    shipment_id: str | None
    region_id: str
    dealer_id: str
    store_id: str | None
    requested_by: str
    decided_by: str | None
    decision_note: str
    created_at: datetime
    decided_at: datetime | None


def insert(conn: Connection, code_rows: Sequence[tuple[str, int, str]], **values: Any) -> None:
    conn.execute(returns.insert().values(**values))
    conn.execute(
        codes.insert(),
        [
            {"return_id": values["return_id"], "serial": s, "code_id": i, "gtin": g}
            for s, i, g in code_rows
        ],
    )


def get(conn: Connection, return_id: str, *, for_update: bool = False) -> ReturnRow | None:
    query = select(returns).where(returns.c.return_id == return_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else ReturnRow(**row._mapping)


def update(conn: Connection, return_id: str, **values: Any) -> None:
    conn.execute(returns.update().where(returns.c.return_id == return_id).values(**values))


def serials_of(conn: Connection, return_id: str) -> list[str]:
    rows = conn.execute(
        select(codes.c.serial).where(codes.c.return_id == return_id).order_by(codes.c.serial)
    )
    return [r[0] for r in rows]


def open_returns_of(conn: Connection, serials: Sequence[str]) -> dict[str, str]:
    rows = conn.execute(
        select(codes.c.serial, codes.c.return_id)
        .join(returns, returns.c.return_id == codes.c.return_id)
        .where(codes.c.serial.in_(list(serials)), returns.c.state.in_(OPEN))
    )
    return {s: r for s, r in rows}


def delivered_by(conn: Connection, order_id: str, serials: Sequence[str]) -> dict[str, str]:
    """``serial -> from_warehouse_id`` for codes received under the order's own shipments."""
    shipments = Shipment.__table__
    scans = ShipmentScan.__table__
    rows = conn.execute(
        select(scans.c.serial, shipments.c.from_warehouse_id)
        .join(shipments, shipments.c.shipment_id == scans.c.shipment_id)
        .where(
            shipments.c.order_id == order_id,
            shipments.c.kind == "order",
            scans.c.phase == "received",
            scans.c.serial.in_(list(serials)),
        )
    )
    return {s: w for s, w in rows}


def list_returns(
    conn: Connection, tenancy: dict[str, str], state: str | None, limit: int
) -> list[ReturnRow]:
    query = select(returns)
    for column, value in tenancy.items():
        query = query.where(returns.c[column] == value)
    if state is not None:
        query = query.where(returns.c.state == state)
    rows = conn.execute(query.order_by(returns.c.created_at.desc()).limit(limit))
    return [ReturnRow(**r._mapping) for r in rows]
