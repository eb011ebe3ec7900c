"""All SQL for stock levels. Every change is a conditional UPDATE, so no path can oversell.

A warehouse × SKU's cases are spread over ``STRIPES`` rows (stripes), each with its own on
hand and reserved and its own ``reserved <= on_hand`` check; the level of the warehouse × SKU
is the sum over them. An order reserves from one stripe, so concurrent orders of a SKU
mostly lock different rows instead of queueing on one (docs/ordering.md, *Stock*). Whatever
touches several stripes of a warehouse × SKU locks them in stripe order, and warehouse × SKU
pairs in (SKU, warehouse) order, as placement does: no two paths can deadlock.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, select

from api.channel.sql import upsertable_insert
from api.stock.models import StockLevel

levels = StockLevel.__table__
HQ_KINDS = ("central", "regional")
STRIPES = 16
"""Rows a warehouse × SKU's cases may be spread over."""
STRIPE_CASES = 100
"""An arrival is split over as many stripes as give each at least this many cases (at most
``STRIPES``): plentiful stock spreads wide, a few cases stay together for orders of several."""


@dataclass(frozen=True, slots=True)
class Level:
    """Cases of a SKU in a warehouse (summed over its stripes), or in one stripe."""

    warehouse_id: str
    gtin: str
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class Stripe(Level):
    """One stripe (row) of a warehouse × SKU."""

    stripe: int


def read(
    conn: Connection,
    warehouse_ids: Sequence[str] | None = None,
    gtins: Sequence[str] | None = None,
) -> list[Level]:
    """Levels (summed over stripes), by warehouse and GTIN."""
    query = select(
        levels.c.warehouse_id,
        levels.c.gtin,
        func.sum(levels.c.on_hand),
        func.sum(levels.c.reserved),
    ).group_by(levels.c.warehouse_id, levels.c.gtin)
    if warehouse_ids is not None:
        query = query.where(levels.c.warehouse_id.in_(list(warehouse_ids)))
    if gtins is not None:
        query = query.where(levels.c.gtin.in_(list(gtins)))
    rows = conn.execute(query.order_by(levels.c.warehouse_id, levels.c.gtin))
    return [Level(r[0], r[1], int(r[2]), int(r[3])) for r in rows]


def read_stripes(
    conn: Connection, warehouse_ids: Sequence[str], gtins: Sequence[str], *, lock: bool
) -> list[Stripe]:
    """The stripes of these warehouses × GTINs in lock order (SKU, warehouse, stripe); with
    ``lock``, locked until the transaction ends."""
    query = (
        select(
            levels.c.warehouse_id,
            levels.c.gtin,
            levels.c.stripe,
            levels.c.on_hand,
            levels.c.reserved,
        )
        .where(levels.c.warehouse_id.in_(list(warehouse_ids)), levels.c.gtin.in_(list(gtins)))
        .order_by(levels.c.gtin, levels.c.warehouse_id, levels.c.stripe)
    )
    if lock:
        query = query.with_for_update()
    return [Stripe(r[0], r[1], int(r[3]), int(r[4]), int(r[2])) for r in conn.execute(query)]


def summed(stripes: Sequence[Stripe]) -> dict[tuple[str, str], Level]:
    """The levels of the warehouses × SKUs these stripes belong to."""
    out: dict[tuple[str, str], Level] = {}
    for s in stripes:
        key = (s.warehouse_id, s.gtin)
        was = out.get(key)
        on_hand, reserved = (0, 0) if was is None else (was.on_hand, was.reserved)
        out[key] = Level(s.warehouse_id, s.gtin, on_hand + s.on_hand, reserved + s.reserved)
    return out


def split(cases: int, stripes: Sequence[Stripe], room: Callable[[Stripe], int]) -> list[int]:
    """How many of ``cases`` each stripe gives (same order as ``stripes``), the roomiest
    first, so that a take touches as few rows as it can; empty if together they cannot."""
    shares = [0] * len(stripes)
    need = cases
    for i in sorted(range(len(stripes)), key=lambda i: (-room(stripes[i]), i)):
        if need == 0:
            break
        shares[i] = min(need, room(stripes[i]))
        need -= shares[i]
    return [] if need > 0 else shares


def reserve_stripes(conn: Connection, pieces: Sequence[tuple[Stripe, int]]) -> int:
    """Reserve ``n`` cases on each ``(stripe, n)`` that still has them available (rows the
    caller holds locked); the cases reserved."""
    done = 0
    for s, n in pieces:
        result = conn.execute(
            levels.update()
            .where(*_key(s), levels.c.on_hand - levels.c.reserved >= n)
            .values(reserved=levels.c.reserved + n, updated_at=_now())
        )
        done += n * result.rowcount
    return done


def release(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> bool:
    """Give back a reservation (an order cancelled)."""
    return _spread(
        conn,
        warehouse_id,
        gtin,
        cases,
        room=lambda s: s.reserved,
        holds=lambda n: levels.c.reserved >= n,
        change=lambda n: {"reserved": levels.c.reserved - n},
    )


def take_reserved(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> bool:
    """Reserved cases leave the warehouse (dispatch): on hand and reserved both fall."""
    return _spread(
        conn,
        warehouse_id,
        gtin,
        cases,
        room=lambda s: s.reserved,
        holds=lambda n: levels.c.reserved >= n,
        change=lambda n: {"on_hand": levels.c.on_hand - n, "reserved": levels.c.reserved - n},
    )


def withdraw(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> bool:
    """Unreserved cases leave the warehouse (a return picked up): only if that many are free."""
    return _spread(
        conn,
        warehouse_id,
        gtin,
        cases,
        room=lambda s: s.available,
        holds=lambda n: levels.c.on_hand - levels.c.reserved >= n,
        change=lambda n: {"on_hand": levels.c.on_hand - n},
    )


def add(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> None:
    """Cases arrive (receipt, put-away, a return): on hand rises, split evenly over
    consecutive stripes from one picked at random (``STRIPE_CASES``), creating rows that are
    new."""
    now = _now()
    first = random.randrange(STRIPES)
    width = max(1, min(STRIPES, cases // STRIPE_CASES))
    rows = [
        {
            "warehouse_id": warehouse_id,
            "gtin": gtin,
            "stripe": (first + i) % STRIPES,
            "on_hand": cases // width + (i < cases % width),
            "reserved": 0,
            "updated_at": now,
        }
        for i in range(width)
    ]
    rows.sort(key=lambda r: r["stripe"])  # the stripes' lock order
    stmt = upsertable_insert(conn, levels)
    conn.execute(
        stmt.values(rows).on_conflict_do_update(
            index_elements=["warehouse_id", "gtin", "stripe"],
            set_={"on_hand": levels.c.on_hand + stmt.excluded.on_hand, "updated_at": now},
        )
    )


def _spread(
    conn: Connection,
    warehouse_id: str,
    gtin: str,
    cases: int,
    *,
    room: Callable[[Stripe], int],
    holds: Callable[[int], ColumnElement[bool]],
    change: Callable[[int], dict[str, Any]],
) -> bool:
    """Change ``cases`` over the stripes of one warehouse × SKU, each taking at most
    ``room`` of them; False, with nothing changed, if together they have too little room."""
    stripes = read_stripes(conn, [warehouse_id], [gtin], lock=True)
    shares = split(cases, stripes, room)
    if not shares:
        return False
    for s, n in zip(stripes, shares, strict=True):
        if n:
            result = conn.execute(
                levels.update().where(*_key(s), holds(n)).values(**change(n), updated_at=_now())
            )
            if result.rowcount != 1:  # the rows are locked: cannot happen
                raise RuntimeError(f"stripe {s} refused a change it was checked for")
    return True


def _key(s: Stripe) -> tuple[ColumnElement[bool], ...]:
    return (
        levels.c.warehouse_id == s.warehouse_id,
        levels.c.gtin == s.gtin,
        levels.c.stripe == s.stripe,
    )


def _now() -> datetime:
    return datetime.now(UTC)
