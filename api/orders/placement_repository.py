"""All SQL of placing an order: the hot path, a few statements built once, each doing what
used to take several round trips (docs/ordering.md, *Benchmark*)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
)

from api import prepared
from api.catalogue import service as catalogue
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


_buyer = _parties.alias("buyer")
_warehouse = _parties.alias("warehouse")
_levels = stock.levels
_stocked = Product.__table__.alias("stocked")


# A warehouse × SKU's on hand and reserved, summed over its stripes in one pass (a scalar
# subquery gives one value, so both come as "on_hand,reserved"; None: no stock row).
_SUMMED = (
    select(
        cast(func.sum(_levels.c.on_hand), String) + "," + cast(func.sum(_levels.c.reserved), String)
    )
    .where(_levels.c.warehouse_id == _warehouse.c.party_id, _levels.c.gtin == _stocked.c.gtin)
    .scalar_subquery()
)


# The buyer's row, locked, with the warehouses its order may draw on or be delivered to (HQ's
# central and regional ones and the buyer's dealer's own) and their levels of the wanted SKUs.
_BUYER_AND_CANDIDATES = (
    select(
        *_buyer.c,
        *_warehouse.c,
        _stocked.c.gtin.label("level_gtin"),
        _SUMMED,
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
        ).outerjoin(_stocked, _stocked.c.gtin.in_(bindparam("gtins", expanding=True)))
    )
    .where(_buyer.c.party_id == bindparam("buyer_id"))
    .order_by(_warehouse.c.code)
    .with_for_update(of=_buyer)
)
_PARTY_FIELDS = tuple(c.name for c in _parties.c)
# Rows become PartyRow positionally: its fields are the table's columns, in order.
assert tuple(PartyRow.__dataclass_fields__) == _PARTY_FIELDS


@dataclass(frozen=True, slots=True)
class Candidates:
    """Warehouses an order may draw on or go to (by code) and their levels, as committed when
    read: a plan's starting point, not a promise (only the buyer's row is locked)."""

    warehouses: list[PartyRow]
    levels: dict[tuple[str, str], stock.Level]


@dataclass(frozen=True, slots=True)
class PlacementContext:
    """What an order's buyer, lines and client key find in the database (read after the
    buyer's row is locked, so ``existing`` and ``open_total`` cannot change under us)."""

    seller_id: str | None  # a store's dealer, or HQ's party id; None: there is no HQ yet
    tier: str  # the buyer's price-list tier
    known: frozenset[str]  # GTINs of registered products among those asked for
    prices: dict[str, int]  # GTIN -> case price (fen) on the seller's list for the tier
    existing: str | None  # the order already placed with this client key
    open_total: int  # fen of the buyer's open orders


_products = Product.__table__
_items = PriceListItem.__table__
# A store buys from its dealer, a dealer from HQ (the first "hq" party; None: none yet).
_seller = case(
    (_buyer.c.kind == "store", _buyer.c.dealer_id),
    else_=select(_parties.c.party_id)
    .where(_parties.c.kind == "hq")
    .order_by(_parties.c.party_id)
    .limit(1)
    .scalar_subquery(),
)
# Every tier's price of the wanted SKUs on the seller's list: the buyer's tier is picked in
# Python (``catalogue.tier_of``), which keeps that rule in one place.
_CONTEXT = (
    select(
        _products.c.gtin,
        _items.c.tier,
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
            and_(_items.c.gtin == _products.c.gtin, _items.c.seller_id == _seller),
        )
    )
    .where(_buyer.c.party_id == bindparam("buyer_id"))
)


@dataclass(frozen=True, slots=True)
class LockedBuyer:
    """The buyer's row, locked, and what its order needs to know, read in one round trip."""

    buyer: PartyRow
    candidates: Candidates
    context: PlacementContext


def lock_buyer(
    conn: Connection, buyer_id: str, client_key: str, gtins: Sequence[str]
) -> LockedBuyer | None:
    """Lock the buyer's row until the transaction ends (its orders are placed one at a time)
    and read the candidate warehouses and the order's context; None if there is no such party.

    On PostgreSQL both statements (and the transaction's BEGIN) go in one pipeline: one round
    trip. They stay two statements: the context's snapshot is taken once the first holds the
    lock, so ``existing`` and ``open_total`` cannot miss an order of the same buyer that
    committed while we waited (a single statement would read them from before the wait).
    """
    gtins = list(gtins)
    lock_params = {"buyer_id": buyer_id, "gtins": gtins}
    context_params = {"buyer_id": buyer_id, "client_key": client_key, "gtins": gtins}
    if conn.dialect.name == "postgresql":
        rows, context_rows = prepared.pipelined(
            conn, (_BUYER_AND_CANDIDATES, lock_params), (_CONTEXT, context_params)
        )
    else:
        rows = prepared.rows(conn, _BUYER_AND_CANDIDATES, lock_params)
        context_rows = prepared.rows(conn, _CONTEXT, context_params)
    if not rows:
        return None
    width = len(_PARTY_FIELDS)
    buyer = PartyRow(*rows[0][:width])
    warehouses: dict[str, PartyRow] = {}
    levels: dict[tuple[str, str], stock.Level] = {}
    for row in rows:
        party_id = row[width]
        if party_id is None:
            continue
        if party_id not in warehouses:
            warehouses[party_id] = PartyRow(*row[width : 2 * width])
        gtin = row[2 * width]
        if gtin is not None and row[2 * width + 1] is not None:
            on_hand, reserved = map(int, row[2 * width + 1].split(","))
            levels[(party_id, gtin)] = stock.Level(party_id, gtin, on_hand, reserved)
    # Context columns: gtin, tier, case price, seller id, existing order id, open total.
    first = context_rows[0]  # the buyer's row is there: we hold its lock
    tier = catalogue.tier_of(buyer)
    context = PlacementContext(
        seller_id=first[3],
        tier=tier,
        known=frozenset(r[0] for r in context_rows if r[0] is not None),
        prices={r[0]: int(r[2]) for r in context_rows if r[2] is not None and r[1] == tier},
        existing=first[4],
        open_total=int(first[5]),
    )
    return LockedBuyer(buyer, Candidates(list(warehouses.values()), levels), context)


@dataclass(frozen=True, slots=True)
class Placement:
    """The rows of a new order."""

    order: dict[str, Any]
    lines: list[dict[str, Any]]
    event: dict[str, Any]
    allocations: list[dict[str, Any]]


def insert_and_reserve(
    conn: Connection, p: Placement, candidates: Sequence[str]
) -> Reservation | None:
    """Insert the order, its lines, first event and allocations, then reserve the
    allocations' stock (:func:`reserve`); None, with the transaction to be rolled back, if
    the buyer already used its client key.

    The insert touches no stock row, so it comes first: the hot stock rows are then locked
    only for the reservation itself and the commit. On PostgreSQL the insert (one statement)
    goes in the same pipeline as the reservation's first attempt: one round trip in the
    usual case."""
    if conn.dialect.name == "postgresql":
        return _reserve_pg(conn, p.allocations, candidates, placement=p)
    if not insert_order(conn, **p.order):
        return None
    insert_lines(conn, p.lines)
    conn.execute(events.insert(), [{"order_id": p.order["order_id"], **p.event}])
    insert_allocations(conn, p.allocations)
    return reserve(conn, p.allocations, candidates)


def _insert_params(p: Placement) -> dict[str, Any]:
    params: dict[str, Any] = {f"o_{c}": p.order[c] for c in _ORDER_COLUMNS}
    params["lines"] = _json([{c: ln[c] for c in LINE_COLUMNS} for ln in p.lines])
    params["allocations"] = _json([{c: a[c] for c in _ALLOCATION_COLUMNS} for a in p.allocations])
    params |= {f"e_{k}": p.event[k] for k in ("state", "actor", "note", "at")}
    return params


def replace_allocations(conn: Connection, order_id: str, rows: Sequence[dict[str, Any]]) -> None:
    """A new plan for an order just inserted (its first one met stock another order took)."""
    conn.execute(allocations.delete().where(allocations.c.order_id == order_id))
    insert_allocations(conn, rows)


@dataclass(frozen=True, slots=True)
class Reservation:
    fits: bool  # False: some take found less available than planned; nothing reserved
    reserved_cases: int
    # If it did not fit: the SKUs to plan again (``short``) and their levels at every
    # candidate warehouse, locked; the stripes locked, for ``reserve_locked``.
    short: frozenset[str]
    levels: dict[tuple[str, str], stock.Level]
    stripes: list[stock.Stripe]


def reserve(
    conn: Connection, takes: Sequence[dict[str, Any]], candidates: Sequence[str]
) -> Reservation:
    """Reserve every take (``warehouse_id``, ``gtin``, ``reserved``), all or nothing.

    PostgreSQL: one round trip in the usual case. Each take goes to one stripe of its
    warehouse × SKU with enough available, looked for from a starting stripe picked at random;
    first among the stripes no other transaction holds (``SKIP LOCKED``: no waiting at all),
    then, if that finds none for some take, among all, the chosen ones locked in one fixed
    order (SKU, warehouse, stripe) so that concurrent orders cannot deadlock. Each take is
    checked against its locked (latest) stripe, and only if all fit does ``reserved`` rise.
    Before each attempt the transaction goes back to a savepoint taken before the first,
    giving up the locks of the last one.

    If neither fits, some SKUs were short: every stripe of every candidate warehouse × those
    SKUs is locked, with one stripe that holds enough for each other take (in the same fixed
    order, in one statement); their levels come back, and a new plan made from them (the
    other lines' plans come out as before) and reserved with :func:`reserve_locked` fits for
    sure, since they stay locked until commit. Elsewhere (SQLite, whose ``BEGIN IMMEDIATE``
    already holds the database's write lock) the same as a read and conditional updates.
    """
    if conn.dialect.name == "postgresql":
        reservation = _reserve_pg(conn, takes, candidates)
        assert reservation is not None  # no placement to insert
        return reservation
    gtins = sorted({t["gtin"] for t in takes})
    stripes = stock.read_stripes(conn, candidates, gtins, lock=False)
    levels = stock.summed(stripes)
    for t in takes:
        level = levels.get((t["warehouse_id"], t["gtin"]))
        if level is None or level.available < t["reserved"]:
            return Reservation(False, 0, frozenset(gtins), levels, stripes)
    return Reservation(True, reserve_locked(conn, takes, stripes), frozenset(), {}, [])


def _reserve_pg(
    conn: Connection,
    takes: Sequence[dict[str, Any]],
    candidates: Sequence[str],
    placement: Placement | None = None,
) -> Reservation | None:
    """:func:`reserve` on PostgreSQL, after inserting ``placement`` (if given) in the first
    attempt's pipeline; None if that insert found the client key used."""
    gtins = sorted({t["gtin"] for t in takes})
    driver = conn.connection.driver_connection
    cursor = driver.cursor()  # type: ignore[union-attr]
    params = {
        "takes": _takes_json(takes),
        "start": random.randrange(stock.STRIPES),
        "stripes": stock.STRIPES,
        "take_count": len(takes),
        "now": datetime.now(UTC),
    }
    short: set[str] = set()
    # ROLLBACK TO SAVEPOINT is never pipelined: at its "ROLLBACK" status psycopg forgets the
    # connection's prepared statements and queues a DEALLOCATE ALL, which in pipeline mode
    # stays queued until some later statement, by then prepared anew and dropped with the
    # rest; the next order on the connection would name a statement the server no longer has.
    for n, attempt in enumerate((_RESERVE_UNLOCKED_PG, _RESERVE_ORDERED_PG)):
        if n:
            cursor.execute(_ROLLBACK_TO_SAVEPOINT)
            row = cursor.execute(attempt, params, prepare=True).fetchone()
        else:
            with driver.pipeline():  # type: ignore[union-attr]
                if placement is not None:
                    inserted = driver.cursor()  # type: ignore[union-attr]
                    inserted.execute(_INSERT_PG, _insert_params(placement), prepare=True)
                cursor.execute(_SAVEPOINT)
                cursor.execute(attempt, params, prepare=True)
                row = cursor.fetchone()
            if placement is not None:
                placed = inserted.fetchone()
                if not (placed and placed[0]):
                    return None
        assert row is not None
        if row[0]:
            return Reservation(True, int(row[1]), frozenset(), {}, [])
        short = set(row[2] or gtins)
    while True:
        # The others' stripes were let go with the savepoint: one may have run short since.
        kept = [t for t in takes if t["gtin"] not in short]
        params = {
            "takes": _takes_json(kept),
            "start": params["start"],
            "stripes": stock.STRIPES,
            "candidates": list(candidates),
            "gtins": gtins,
            "short": sorted(short),
        }
        cursor.execute(_ROLLBACK_TO_SAVEPOINT)  # not pipelined: see above
        rows = cursor.execute(_LOCK_PG, params, prepare=True).fetchall()
        fitting = {(r[0], r[1]) for r in rows if r[5] is not None and r[3] - r[4] >= r[5]}
        missing = {t["gtin"] for t in kept if (t["warehouse_id"], t["gtin"]) not in fitting}
        if not missing:
            break
        short |= missing
    stripes = [stock.Stripe(r[0], r[1], int(r[3]), int(r[4]), int(r[2])) for r in rows]
    levels = stock.summed([s for s in stripes if s.gtin in short])
    return Reservation(False, 0, frozenset(short), levels, stripes)


def _takes_json(takes: Sequence[dict[str, Any]]) -> str:
    return _json(
        [{"warehouse_id": t["warehouse_id"], "gtin": t["gtin"], "n": t["reserved"]} for t in takes]
    )


def reserve_locked(
    conn: Connection, takes: Sequence[dict[str, Any]], stripes: Sequence[stock.Stripe]
) -> int:
    """Reserve every take on ``stripes`` (the candidates' stripes, which the transaction
    holds locked), each spread over as few stripes as it can; the cases reserved (less than
    the takes' total only if they did not all fit: nothing then should be kept)."""
    pieces: list[tuple[stock.Stripe, int]] = []
    for t in takes:
        own = [s for s in stripes if (s.warehouse_id, s.gtin) == (t["warehouse_id"], t["gtin"])]
        shares = stock.split(t["reserved"], own, lambda s: s.available)
        pieces += [(s, n) for s, n in zip(own, shares, strict=False) if n]
    pieces.sort(key=lambda p: (p[0].gtin, p[0].warehouse_id, p[0].stripe))
    if conn.dialect.name != "postgresql":
        return stock.reserve_stripes(conn, pieces)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    params = {
        "warehouse_id": [s.warehouse_id for s, _ in pieces],
        "gtin": [s.gtin for s, _ in pieces],
        "stripe": [s.stripe for s, _ in pieces],
        "n": [n for _, n in pieces],
        "now": datetime.now(UTC),
    }
    row = cursor.execute(_RESERVE_LOCKED_PG, params, prepare=True).fetchone()
    return int(row[0]) if row else 0


_ORDER_COLUMNS = tuple(c.name for c in orders.c)
# A line's columns besides its order_id (also the fields of its answer, OrderLineOut).
LINE_COLUMNS = ("line_no", "gtin", "cases", "case_price_fen", "amount_fen")
_TAKE_COLUMNS = ("warehouse_id", "gtin", "n")
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


def _recordset(param: str, columns: Sequence[str], types: Sequence[str]) -> str:
    """Rows sent as one JSON array of objects: cheaper to send than an array per column."""
    fields = ", ".join(f"{c} {t}" for c, t in zip(columns, types, strict=True))
    return f"jsonb_to_recordset(%({param})s::jsonb) AS x({fields})"


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, separators=(",", ":"))


# Fixed texts whatever the order's size (JSON arrays, not value lists): psycopg prepares each once
# per connection, and the server plans it once.
_INSERT_PG = f"""
WITH placed AS (
    INSERT INTO {orders.name} ({", ".join(_ORDER_COLUMNS)})
    VALUES ({", ".join(f"%(o_{c})s" for c in _ORDER_COLUMNS)})
    ON CONFLICT (buyer_id, client_key) DO NOTHING
    RETURNING order_id
), order_lines AS (
    INSERT INTO {lines.name} (order_id, {", ".join(LINE_COLUMNS)})
    SELECT placed.order_id, x.* FROM placed, {_recordset("lines", LINE_COLUMNS, _LINE_TYPES)}
), first_event AS (
    INSERT INTO {events.name} (order_id, state, actor, note, at)
    SELECT placed.order_id, %(e_state)s, %(e_actor)s, %(e_note)s, %(e_at)s FROM placed
), sourced AS (
    INSERT INTO {allocations.name} (order_id, {", ".join(_ALLOCATION_COLUMNS)})
    SELECT placed.order_id, x.*
    FROM placed, {_recordset("allocations", _ALLOCATION_COLUMNS, _ALLOCATION_TYPES)}
)
SELECT count(*) FROM placed
"""
_SAVEPOINT = "SAVEPOINT stock_reservation"
_ROLLBACK_TO_SAVEPOINT = "ROLLBACK TO SAVEPOINT stock_reservation"


def _reservation_sql(locked: str) -> str:
    """The reservation statement around ``locked``: a CTE locking one stripe per take and
    giving its ``warehouse_id, gtin, n, stripe, on_hand, reserved``."""
    return f"""
WITH want AS (
    SELECT * FROM {_recordset("takes", _TAKE_COLUMNS, ("text", "text", "int8"))}
), locked AS ({locked}
), fits AS (
    SELECT count(*) = %(take_count)s AS ok FROM locked WHERE on_hand - reserved >= n
), reserve AS (
    UPDATE {stock.levels.name} s SET reserved = s.reserved + locked.n, updated_at = %(now)s
    FROM locked, fits
    WHERE fits.ok
        AND s.warehouse_id = locked.warehouse_id
        AND s.gtin = locked.gtin
        AND s.stripe = locked.stripe
    RETURNING locked.n
)
SELECT fits.ok, (SELECT coalesce(sum(n), 0) FROM reserve), (
    SELECT array_agg(DISTINCT want.gtin) FROM want WHERE NOT EXISTS (
        SELECT FROM locked
        WHERE locked.warehouse_id = want.warehouse_id AND locked.gtin = want.gtin
            AND locked.on_hand - locked.reserved >= want.n
    )
) FROM fits
"""


# The stripes from the order's starting one round, those with enough available first.
_ROUND = "(s.stripe + %(stripes)s - %(start)s) %% %(stripes)s"
# Per take, the first stripe with enough that nobody holds (none: the take is missing).
_RESERVE_UNLOCKED_PG = _reservation_sql(f"""
    SELECT want.warehouse_id, want.gtin, want.n, s.stripe, s.on_hand, s.reserved
    FROM want CROSS JOIN LATERAL (
        SELECT s.stripe, s.on_hand, s.reserved FROM {stock.levels.name} s
        WHERE s.warehouse_id = want.warehouse_id AND s.gtin = want.gtin
            AND s.on_hand - s.reserved >= want.n
        ORDER BY {_ROUND}
        LIMIT 1
        FOR UPDATE SKIP LOCKED
    ) s""")
# Per take, the first stripe that had enough when the statement began (else the starting
# one, and the take does not fit), all locked in the fixed order, waiting for their holders.
_RESERVE_ORDERED_PG = _reservation_sql(f"""
    SELECT chosen.warehouse_id, chosen.gtin, chosen.n, s.stripe, s.on_hand, s.reserved
    FROM {stock.levels.name} s JOIN (
        SELECT DISTINCT ON (want.warehouse_id, want.gtin)
            want.warehouse_id, want.gtin, s.stripe, want.n
        FROM want JOIN {stock.levels.name} s USING (warehouse_id, gtin)
        ORDER BY want.warehouse_id, want.gtin, s.on_hand - s.reserved >= want.n DESC, {_ROUND}
    ) chosen USING (warehouse_id, gtin, stripe)
    ORDER BY s.gtin, s.warehouse_id, s.stripe
    FOR UPDATE OF s""")
# Every stripe of the candidates × the short SKUs, and for each other take the stripe the
# ordered attempt would choose, locked in the fixed order; ``n`` is the take's, on the latter.
_LOCK_PG = f"""
WITH want AS (
    SELECT * FROM {_recordset("takes", _TAKE_COLUMNS, ("text", "text", "int8"))}
), chosen AS (
    SELECT DISTINCT ON (want.warehouse_id, want.gtin) want.warehouse_id, want.gtin, s.stripe, want.n
    FROM want JOIN {stock.levels.name} s USING (warehouse_id, gtin)
    ORDER BY want.warehouse_id, want.gtin, s.on_hand - s.reserved >= want.n DESC, {_ROUND}
)
SELECT s.warehouse_id, s.gtin, s.stripe, s.on_hand, s.reserved, chosen.n
FROM {stock.levels.name} s LEFT JOIN chosen USING (warehouse_id, gtin, stripe)
WHERE s.warehouse_id = ANY(%(candidates)s::text[]) AND s.gtin = ANY(%(gtins)s::text[])
    AND (s.gtin = ANY(%(short)s::text[]) OR chosen.n IS NOT NULL)
ORDER BY s.gtin, s.warehouse_id, s.stripe
FOR UPDATE OF s
"""
_RESERVE_LOCKED_PG = f"""
WITH want AS (
    SELECT * FROM unnest(
        %(warehouse_id)s::text[], %(gtin)s::text[], %(stripe)s::int2[], %(n)s::int8[]
    ) AS x(warehouse_id, gtin, stripe, n)
), reserve AS (
    UPDATE {stock.levels.name} s SET reserved = s.reserved + want.n, updated_at = %(now)s
    FROM want
    WHERE s.warehouse_id = want.warehouse_id
        AND s.gtin = want.gtin
        AND s.stripe = want.stripe
        AND s.on_hand - s.reserved >= want.n
    RETURNING want.n
)
SELECT coalesce(sum(n), 0) FROM reserve
"""
