"""All SQL for shipments, their scans and the custody table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, or_, select

from api.shipments.models import Custody, Shipment, ShipmentLine, ShipmentScan
from api.trace.codes.models import Code as CodeModel

shipments = Shipment.__table__
lines = ShipmentLine.__table__
scans = ShipmentScan.__table__
custody = Custody.__table__


@dataclass(frozen=True, slots=True)
class ShipmentRow:
    shipment_id: str
    kind: str
    order_id: str
    return_id: str | None
    from_party_id: str
    from_warehouse_id: str | None
    to_party_id: str
    to_warehouse_id: str | None
    region_id: str
    dealer_id: str
    store_id: str | None
    state: str
    shipped_entries: list[str]
    received_entries: list[str]
    missing_count: int
    extra_count: int
    created_at: datetime
    dispatched_at: datetime | None
    received_at: datetime | None


@dataclass(frozen=True, slots=True)
class ScanRow:
    serial: str
    code_id: int
    gtin: str
    phase: str


@dataclass(frozen=True, slots=True)
class CustodyRow:
    serial: str
    code_id: int
    gtin: str
    state: str
    holder_id: str
    warehouse_id: str | None
    to_id: str | None
    entry_id: str


def _shipment(row: Any) -> ShipmentRow:
    values = dict(row._mapping)
    values["shipped_entries"] = json.loads(values["shipped_entries"])
    values["received_entries"] = json.loads(values["received_entries"])
    return ShipmentRow(**values)


def insert_shipment(conn: Connection, line_rows: dict[str, int], **values: Any) -> None:
    conn.execute(
        shipments.insert().values(
            shipped_entries="[]",
            received_entries="[]",
            missing_count=0,
            extra_count=0,
            created_at=datetime.now(UTC),
            **values,
        )
    )
    conn.execute(
        lines.insert(),
        [
            {"shipment_id": values["shipment_id"], "gtin": g, "cases": n}
            for g, n in sorted(line_rows.items())
        ],
    )


def get(conn: Connection, shipment_id: str, *, for_update: bool = False) -> ShipmentRow | None:
    query = select(shipments).where(shipments.c.shipment_id == shipment_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _shipment(row)


def for_order(conn: Connection, order_id: str, kind: str = "order") -> list[ShipmentRow]:
    rows = conn.execute(
        select(shipments)
        .where(shipments.c.order_id == order_id, shipments.c.kind == kind)
        .order_by(shipments.c.created_at, shipments.c.shipment_id)
    )
    return [_shipment(r) for r in rows]


def ids_for_order(conn: Connection, order_id: str) -> list[str]:
    rows = conn.execute(
        select(shipments.c.shipment_id)
        .where(shipments.c.order_id == order_id)
        .order_by(shipments.c.created_at, shipments.c.shipment_id)
    )
    return [r[0] for r in rows]


def update(conn: Connection, shipment_id: str, **values: Any) -> None:
    for key in ("shipped_entries", "received_entries"):
        if key in values:
            values[key] = json.dumps(values[key])
    conn.execute(shipments.update().where(shipments.c.shipment_id == shipment_id).values(**values))


def lines_of(conn: Connection, shipment_id: str) -> dict[str, int]:
    rows = conn.execute(
        select(lines.c.gtin, lines.c.cases)
        .where(lines.c.shipment_id == shipment_id)
        .order_by(lines.c.gtin)
    )
    return {g: int(n) for g, n in rows}


def scans_of(conn: Connection, shipment_id: str, phase: str | None = None) -> list[ScanRow]:
    query = select(scans.c.serial, scans.c.code_id, scans.c.gtin, scans.c.phase).where(
        scans.c.shipment_id == shipment_id
    )
    if phase is not None:
        query = query.where(scans.c.phase == phase)
    rows = conn.execute(query.order_by(scans.c.phase, scans.c.scanned_at, scans.c.serial))
    return [ScanRow(r[0], int(r[1]), r[2], r[3]) for r in rows]


def insert_scans(
    conn: Connection, shipment_id: str, phase: str, rows: Sequence[tuple[str, int, str]], by: str
) -> None:
    if not rows:
        return
    now = datetime.now(UTC)
    conn.execute(
        scans.insert(),
        [
            {
                "shipment_id": shipment_id,
                "phase": phase,
                "serial": serial,
                "code_id": code_id,
                "gtin": gtin,
                "scanned_at": now,
                "scanned_by": by,
            }
            for serial, code_id, gtin in rows
        ],
    )


def delete_scan(conn: Connection, shipment_id: str, phase: str, serial: str) -> int:
    result = conn.execute(
        delete(scans).where(
            scans.c.shipment_id == shipment_id, scans.c.phase == phase, scans.c.serial == serial
        )
    )
    return int(result.rowcount)


def picked_elsewhere(conn: Connection, serials: Sequence[str], shipment_id: str) -> dict[str, str]:
    """``serial -> shipment`` for codes already picked into another shipment still picking."""
    if not serials:
        return {}
    rows = conn.execute(
        select(scans.c.serial, scans.c.shipment_id)
        .join(shipments, shipments.c.shipment_id == scans.c.shipment_id)
        .where(
            scans.c.serial.in_(list(serials)),
            scans.c.phase == "picked",
            shipments.c.state == "picking",
            scans.c.shipment_id != shipment_id,
        )
    )
    return {serial: other for serial, other in rows}


def list_shipments(
    conn: Connection,
    *,
    tenancy: dict[str, str],
    warehouse_id: str | None,
    state: str | None,
    after: str | None,
    limit: int,
) -> list[ShipmentRow]:
    query = select(shipments)
    for column, value in tenancy.items():
        query = query.where(shipments.c[column] == value)
    if warehouse_id is not None:
        query = query.where(
            or_(
                shipments.c.from_warehouse_id == warehouse_id,
                shipments.c.to_warehouse_id == warehouse_id,
            )
        )
    if state is not None:
        query = query.where(shipments.c.state == state)
    if after is not None:
        query = query.where(shipments.c.shipment_id > after)
    rows = conn.execute(query.order_by(shipments.c.shipment_id).limit(limit))
    return [_shipment(r) for r in rows]


# --- custody ---------------------------------------------------------------------------------


def _custody(row: Any) -> CustodyRow:
    return CustodyRow(**{k: row._mapping[k] for k in CustodyRow.__slots__})  # type: ignore[attr-defined]


def custody_of(
    conn: Connection, serials: Sequence[str], *, for_update: bool = False
) -> dict[str, CustodyRow]:
    """Custody rows of these codes; ``for_update`` locks them (in serial order) until the
    transaction ends, so two transactions cannot both move the same case."""
    if not serials:
        return {}
    query = select(custody).where(custody.c.serial.in_(list(serials)))
    if for_update:
        query = query.order_by(custody.c.serial).with_for_update()
    rows = conn.execute(query)
    return {r.serial: _custody(r) for r in rows}


def lock_custody(conn: Connection, serials: Sequence[str]) -> dict[str, CustodyRow]:
    """Custody rows of these codes, locked until the transaction ends (see ``custody_of``).

    A case that moves gets a new custody row (``upsert_custody`` deletes and inserts), so a
    lock that waited for a concurrent move finds the old row gone and returns nothing for it.
    Lock again while that happens: a new statement sees the committed replacement and locks
    it, and a case's absence is only believed once two locked reads agree on it."""
    held = custody_of(conn, serials, for_update=True)
    while len(held) < len(set(serials)):
        again = custody_of(conn, serials, for_update=True)
        if again.keys() == held.keys():
            break
        held = again
    return held


def all_custody(conn: Connection) -> dict[str, CustodyRow]:
    return {r.serial: _custody(r) for r in conn.execute(select(custody))}


def upsert_custody(conn: Connection, rows: Sequence[CustodyRow]) -> None:
    """Replace the custody rows of these codes (delete then insert: portable and batched)."""
    if not rows:
        return
    serials = [r.serial for r in rows]
    for i in range(0, len(serials), 5000):
        conn.execute(delete(custody).where(custody.c.serial.in_(serials[i : i + 5000])))
    now = datetime.now(UTC)
    conn.execute(
        custody.insert(),
        [
            {
                "serial": r.serial,
                "code_id": r.code_id,
                "gtin": r.gtin,
                "state": r.state,
                "holder_id": r.holder_id,
                "warehouse_id": r.warehouse_id,
                "to_id": r.to_id,
                "entry_id": r.entry_id,
                "updated_at": now,
            }
            for r in rows
        ],
    )


def lock_codes(conn: Connection, code_ids: Sequence[int]) -> bool:
    """Row-lock these codes until the transaction ends (in id order, so two callers cannot
    deadlock), so their state read next cannot change before this transaction writes it.
    False on SQLite, where the writer's ``BEGIN IMMEDIATE`` already serialises writers."""
    if conn.dialect.name == "sqlite" or not code_ids:
        return False
    table = CodeModel.__table__
    wanted = sorted(set(code_ids))
    for i in range(0, len(wanted), 5000):
        conn.execute(
            select(table.c.id)
            .where(table.c.id.in_(wanted[i : i + 5000]))
            .order_by(table.c.id)
            .with_for_update()
        )
    return True
