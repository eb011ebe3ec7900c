"""All SQL of placing an order: the hot path, a few statements built once, each doing what
used to take several round trips (docs/ordering.md, *Benchmark*)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Dialect, Select, String, and_, bindparam, func, or_, select
from sqlalchemy.engine.interfaces import Compiled

from api.catalogue.models import PriceListItem
from api.channel.models import Party
from api.channel.repository import PartyRow
from api.orders import states
from api.orders.repository import (
    allocations,
    events,
    insert_allocations,
    insert_lines,
    insert_order,
    lines,
    orders,
)
from api.stock import repository as stock
from api.trace.products.models import Product

_parties = Party.__table__


def drawn_from_hq(conn: Connection, dealer_id: str, gtins: Sequence[str]) -> dict[str, int]:
    """Cases of each GTIN that the open orders of ``dealer_id``'s stores hold reserved in HQ's
    warehouses (inventory sharing)."""
    warehouses = _parties.alias("warehouse")
    rows = conn.execute(
        select(allocations.c.gtin, func.sum(allocations.c.reserved))
        .join(orders, orders.c.order_id == allocations.c.order_id)
        .join(warehouses, warehouses.c.party_id == allocations.c.warehouse_id)
        .where(
            orders.c.dealer_id == dealer_id,  # a store order's dealer is its seller
            orders.c.kind == "store",
            warehouses.c.dealer_id.is_(None),
            allocations.c.gtin.in_(list(gtins)),
            allocations.c.reserved > 0,
        )
        .group_by(allocations.c.gtin)
    )
    return {gtin: int(n) for gtin, n in rows}


@lru_cache(maxsize=32)
def _compiled(statement: Select[Any], dialect: Dialect) -> Compiled:
    return statement.compile(dialect=dialect)


def _fetch(conn: Connection, statement: Select[Any], params: dict[str, Any]) -> list[Any]:
    """Rows of a module-level Core statement, as tuples. On PostgreSQL it is compiled once
    and run on the driver's cursor as a prepared statement: a quarter of the CPU that a full
    SQLAlchemy execution takes, which on the placement path is what limits throughput."""
    if conn.dialect.name != "postgresql":
        return [tuple(r) for r in conn.execute(statement, params)]
    expanded = _compiled(statement, conn.dialect).construct_expanded_state(params)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    return cursor.execute(expanded.statement, expanded.parameters, prepare=True).fetchall()


_buyer = _parties.alias("buyer")
_warehouse = _parties.alias("warehouse")
_levels = stock.levels
# The buyer's row, locked, with the warehouses its order may draw on or be delivered to (HQ's
# central and regional ones and the buyer's dealer's own) and their levels of the wanted SKUs.
_BUYER_AND_CANDIDATES = (
    select(
        *_buyer.c,
        *_warehouse.c,
        _levels.c.gtin.label("level_gtin"),
        _levels.c.on_hand,
        _levels.c.reserved,
    )
    .select_from(
        _buyer.outerjoin(
            _warehouse,
            and_(
                _warehouse.c.kind == "warehouse",
                or_(
                    and_(
                        _warehouse.c.dealer_id.is_(None),
                        _warehouse.c.warehouse_kind.in_(stock.HQ_KINDS),
                    ),
                    _warehouse.c.dealer_id == _buyer.c.dealer_id,
                ),
            ),
        ).outerjoin(
            _levels,
            and_(
                _levels.c.warehouse_id == _warehouse.c.party_id,
                _levels.c.gtin.in_(bindparam("gtins", expanding=True)),
            ),
        )
    )
    .where(_buyer.c.party_id == bindparam("buyer_id"))
    .order_by(_warehouse.c.code)
    .with_for_update(of=_buyer)
)
_PARTY_FIELDS = tuple(c.name for c in _parties.c)


@dataclass(frozen=True, slots=True)
class Candidates:
    """Warehouses an order may draw on or go to (by code) and their levels, as committed when
    read: a plan's starting point, not a promise (only the buyer's row is locked)."""

    warehouses: list[PartyRow]
    levels: dict[tuple[str, str], stock.Level]


def lock_buyer(
    conn: Connection, buyer_id: str, gtins: Sequence[str]
) -> tuple[PartyRow, Candidates] | None:
    """Lock the buyer's row until the transaction ends (its orders are placed one at a time)
    and, in the same round trip, read the candidate warehouses; None if there is no such party.
    """
    rows = _fetch(conn, _BUYER_AND_CANDIDATES, {"buyer_id": buyer_id, "gtins": list(gtins)})
    if not rows:
        return None
    width = len(_PARTY_FIELDS)
    buyer = PartyRow(**dict(zip(_PARTY_FIELDS, rows[0][:width], strict=True)))
    warehouses: dict[str, PartyRow] = {}
    levels: dict[tuple[str, str], stock.Level] = {}
    for row in rows:
        party_id = row[width]
        if party_id is None:
            continue
        if party_id not in warehouses:
            fields = row[width : 2 * width]
            warehouses[party_id] = PartyRow(**dict(zip(_PARTY_FIELDS, fields, strict=True)))
        gtin = row[2 * width]
        if gtin is not None:
            on_hand, reserved = int(row[2 * width + 1]), int(row[2 * width + 2])
            levels[(party_id, gtin)] = stock.Level(party_id, gtin, on_hand, reserved)
    return buyer, Candidates(list(warehouses.values()), levels)


@dataclass(frozen=True, slots=True)
class PlacementContext:
    """What an order's buyer, lines and client key find in the database (read after the
    buyer's row is locked, so ``existing`` and ``open_total`` cannot change under us)."""

    seller_id: str | None  # the given seller, or HQ's party id; None: there is no HQ yet
    known: frozenset[str]  # GTINs of registered products among those asked for
    prices: dict[str, int]  # GTIN -> case price (fen) on the seller's list for the tier
    existing: str | None  # the order already placed with this client key
    open_total: int  # fen of the buyer's open orders


_products = Product.__table__
_items = PriceListItem.__table__
_seller = func.coalesce(
    bindparam("seller_id", type_=String),
    select(_parties.c.party_id)
    .where(_parties.c.kind == "hq")
    .order_by(_parties.c.party_id)
    .limit(1)
    .scalar_subquery(),
)
_CONTEXT = (
    select(
        _products.c.gtin,
        _items.c.case_price_fen,
        _seller.label("seller_id"),
        select(orders.c.order_id)
        .where(orders.c.buyer_id == bindparam("buyer_id"))
        .where(orders.c.client_key == bindparam("client_key"))
        .scalar_subquery()
        .label("existing"),
        select(func.coalesce(func.sum(orders.c.total_fen), 0))
        .where(orders.c.buyer_id == bindparam("buyer_id"))
        .where(orders.c.state.in_(states.OPEN))
        .scalar_subquery()
        .label("open_total"),
    )
    .select_from(
        _buyer.outerjoin(
            _products, _products.c.gtin.in_(bindparam("gtins", expanding=True))
        ).outerjoin(
            _items,
            and_(
                _items.c.gtin == _products.c.gtin,
                _items.c.seller_id == _seller,
                _items.c.tier == bindparam("tier"),
            ),
        )
    )
    .where(_buyer.c.party_id == bindparam("buyer_id"))
)


def placement_context(
    conn: Connection,
    *,
    buyer_id: str,
    client_key: str,
    seller_id: str | None,
    tier: str,
    gtins: Sequence[str],
) -> PlacementContext:
    """One round trip: which GTINs exist, their prices, the seller (HQ when not given), an
    order already placed under ``client_key`` and the buyer's open total."""
    params = {
        "buyer_id": buyer_id,
        "client_key": client_key,
        "seller_id": seller_id,
        "tier": tier,
        "gtins": list(gtins),
    }
    rows = _fetch(conn, _CONTEXT, params)
    # Columns: gtin, case price, seller id, existing order id, open total.
    first = rows[0]  # the buyer's row is there: the caller holds its lock
    return PlacementContext(
        seller_id=first[2],
        known=frozenset(r[0] for r in rows if r[0] is not None),
        prices={r[0]: int(r[1]) for r in rows if r[1] is not None},
        existing=first[3],
        open_total=int(first[4]),
    )


@dataclass(frozen=True, slots=True)
class Placement:
    """The rows of a new order."""

    order: dict[str, Any]
    lines: list[dict[str, Any]]
    event: dict[str, Any]
    allocations: list[dict[str, Any]]


def insert_placement(conn: Connection, p: Placement) -> bool:
    """Insert the order, its lines, first event and allocations (one statement on
    PostgreSQL); False, with nothing written, if the buyer already used its client key.

    This touches no stock row, so it runs before the reservation: the hot stock rows are
    then locked only for the reservation itself and the commit."""
    if conn.dialect.name != "postgresql":
        if not insert_order(conn, **p.order):
            return False
        insert_lines(conn, p.lines)
        conn.execute(events.insert(), [{"order_id": p.order["order_id"], **p.event}])
        insert_allocations(conn, p.allocations)
        return True
    params: dict[str, Any] = {f"o_{c}": p.order[c] for c in _ORDER_COLUMNS}
    params |= {f"l_{c}": [ln[c] for ln in p.lines] for c in _LINE_COLUMNS}
    params |= {f"a_{c}": [a[c] for a in p.allocations] for c in _ALLOCATION_COLUMNS}
    params |= {f"e_{k}": p.event[k] for k in ("state", "actor", "note", "at")}
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    row = cursor.execute(_INSERT_PG, params, prepare=True).fetchone()
    return bool(row and row[0])


def replace_allocations(conn: Connection, order_id: str, rows: Sequence[dict[str, Any]]) -> None:
    """A new plan for an order just inserted (its first one met stock another order took)."""
    conn.execute(allocations.delete().where(allocations.c.order_id == order_id))
    insert_allocations(conn, rows)


@dataclass(frozen=True, slots=True)
class Reservation:
    fits: bool  # False: some allocation found less available than planned; nothing reserved
    reserved_rows: int  # stock rows whose reservation rose
    levels: dict[tuple[str, str], stock.Level]  # if it did not fit: the candidates, locked


def reserve(
    conn: Connection, takes: Sequence[dict[str, Any]], candidates: Sequence[str]
) -> Reservation:
    """Reserve every take (``warehouse_id``, ``gtin``, ``reserved``), all or nothing.

    PostgreSQL: one statement. It locks the stock rows of every candidate warehouse × the
    takes' SKUs in one fixed order (SKU, warehouse), so concurrent orders cannot deadlock,
    checks each take against those locked (latest) levels, and only if all fit raises
    ``reserved``. If one does not fit, nothing changes and the locked levels come back: a new
    plan made from them fits for sure, since the rows stay locked until commit. Elsewhere
    (SQLite, whose ``BEGIN IMMEDIATE`` already holds the database's write lock) the same as
    a read and conditional updates.
    """
    if conn.dialect.name == "postgresql":
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        params = {
            "warehouse_id": [t["warehouse_id"] for t in takes],
            "gtin": [t["gtin"] for t in takes],
            "n": [t["reserved"] for t in takes],
            "candidates": list(candidates),
            "takes": len(takes),
            "now": datetime.now(UTC),
        }
        rows = cursor.execute(_RESERVE_PG, params, prepare=True).fetchall()
        if not rows[0][0]:
            return Reservation(False, 0, {(r[2], r[3]): stock.Level(*r[2:6]) for r in rows if r[2]})
        return Reservation(True, int(rows[0][1]), {})
    gtins = sorted({t["gtin"] for t in takes})
    levels = {(lv.warehouse_id, lv.gtin): lv for lv in stock.read(conn, candidates, gtins)}
    for t in takes:
        level = levels.get((t["warehouse_id"], t["gtin"]))
        if level is None or level.available < t["reserved"]:
            return Reservation(False, 0, levels)
    reserved = sum(
        stock.reserve(conn, t["warehouse_id"], t["gtin"], t["reserved"])
        for t in sorted(takes, key=lambda t: (t["gtin"], t["warehouse_id"]))
    )
    return Reservation(True, reserved, {})


_ORDER_COLUMNS = tuple(c.name for c in orders.c)
_LINE_COLUMNS = ("line_no", "gtin", "cases", "case_price_fen", "amount_fen")
_LINE_TYPES = ("int2", "text", "int4", "int8", "int8")
_ALLOCATION_COLUMNS = (
    "line_no",
    "rank",
    "warehouse_id",
    "gtin",
    "cases",
    "reserved",
    "rule",
    "distance_m",
    "reason",
)
_ALLOCATION_TYPES = ("int2", "int2", "text", "text", "int4", "int4", "text", "int8", "text")


def _unnest(prefix: str, columns: Sequence[str], types: Sequence[str]) -> str:
    arrays = ", ".join(f"%({prefix}{c})s::{t}[]" for c, t in zip(columns, types, strict=True))
    return f"unnest({arrays}) AS x({', '.join(columns)})"


# Fixed texts whatever the order's size (arrays, not value lists): psycopg prepares each once
# per connection, and the server plans it once.
_INSERT_PG = f"""
WITH placed AS (
    INSERT INTO {orders.name} ({", ".join(_ORDER_COLUMNS)})
    VALUES ({", ".join(f"%(o_{c})s" for c in _ORDER_COLUMNS)})
    ON CONFLICT (buyer_id, client_key) DO NOTHING
    RETURNING order_id
), order_lines AS (
    INSERT INTO {lines.name} (order_id, {", ".join(_LINE_COLUMNS)})
    SELECT placed.order_id, x.* FROM placed, {_unnest("l_", _LINE_COLUMNS, _LINE_TYPES)}
), first_event AS (
    INSERT INTO {events.name} (order_id, state, actor, note, at)
    SELECT placed.order_id, %(e_state)s, %(e_actor)s, %(e_note)s, %(e_at)s FROM placed
), sourced AS (
    INSERT INTO {allocations.name} (order_id, {", ".join(_ALLOCATION_COLUMNS)})
    SELECT placed.order_id, x.*
    FROM placed, {_unnest("a_", _ALLOCATION_COLUMNS, _ALLOCATION_TYPES)}
)
SELECT count(*) FROM placed
"""
_RESERVE_PG = f"""
WITH want AS (
    SELECT * FROM unnest(%(warehouse_id)s::text[], %(gtin)s::text[], %(n)s::int8[])
        AS x(warehouse_id, gtin, n)
), locked AS (
    SELECT s.warehouse_id, s.gtin, s.on_hand, s.reserved
    FROM {stock.levels.name} s
    WHERE s.warehouse_id = ANY(%(candidates)s::text[]) AND s.gtin = ANY(%(gtin)s::text[])
    ORDER BY s.gtin, s.warehouse_id
    FOR UPDATE
), fits AS (
    SELECT count(*) = %(takes)s AS ok
    FROM want JOIN locked USING (warehouse_id, gtin)
    WHERE locked.on_hand - locked.reserved >= want.n
), reserve AS (
    UPDATE {stock.levels.name} s SET reserved = s.reserved + want.n, updated_at = %(now)s
    FROM want, fits
    WHERE fits.ok AND s.warehouse_id = want.warehouse_id AND s.gtin = want.gtin
    RETURNING s.warehouse_id
)
SELECT fits.ok, (SELECT count(*) FROM reserve),
    locked.warehouse_id, locked.gtin, locked.on_hand, locked.reserved
FROM fits LEFT JOIN locked ON NOT fits.ok
"""
