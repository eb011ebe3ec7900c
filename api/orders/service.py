"""Orders: placement (validate, price, reserve, source) and the life cycle after it."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from functools import lru_cache
from hashlib import sha256
from typing import Any

from sqlalchemy import Connection

from api.auth.service import Principal, Role
from api.catalogue import service as catalogue
from api.channel import repository as parties
from api.channel import service as channel_service
from api.channel.repository import PartyRow
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.orders import access, sourcing, states
from api.orders import placement_repository as placing
from api.orders import repository as repo
from api.orders.repository import OrderRow
from api.orders.schemas import (
    AllocationOut,
    OrderEventOut,
    OrderIn,
    OrderLineOut,
    OrderOut,
    OrderSummary,
)
from api.stock import repository as stock_repo
from api.stock import service as stock
from api.trace.products.service import parse_gtin
from ledger.canonical import canonical_json


class CreditLimitExceeded(Unprocessable):
    code = "credit_limit_exceeded"


class ClientKeyReused(Conflict):
    code = "client_key_reused"


RESERVED = "stock reserved"
ALLOCATION_FIELDS = ("warehouse_id", "cases", "reserved", "rule", "distance_m", "reason")
# OrderSummary's fields other than ``id``, named as in the order's row.
SUMMARY_FIELDS = tuple(name for name in OrderSummary.model_fields if name != "id")


def new_order_id() -> str:
    return f"ord_{secrets.token_hex(10)}"


# --- placement -------------------------------------------------------------------------------


def place(
    conn: Connection,
    principal: Principal,
    body: OrderIn,
    policy: str,
    default_share_permille: int = 300,
) -> tuple[OrderOut, bool]:
    """Place an order; returns it and whether it is new (False: a repeat of ``client_key``).

    Everything happens in the caller's transaction: a refusal at any step leaves nothing.
    Two round trips before the commit on PostgreSQL: lock the buyer (reading the candidate
    warehouses' stock in the same statement) and read the lines' context; then write the
    order's rows and reserve its stock on one stripe per allocation (more, and a new plan for
    the short lines, only when other orders hold or took the planned stock first).
    """
    # Locking the buyer's row serialises its own concurrent orders: the credit check below and
    # the client-key check cannot race each other.
    try:
        wanted, bad_line = _normalise_lines(body), None
    except Unprocessable as exc:  # said after who may order for whom, as before
        wanted, bad_line = [], exc
    locked = placing.lock_buyer(conn, body.buyer_id, body.client_key, [g for g, _ in wanted])
    if locked is None or locked.buyer.kind not in ("dealer", "store"):
        raise NotFound(f"no dealer or store {body.buyer_id!r} to order for")
    buyer, candidates, context = locked.buyer, locked.candidates, locked.context
    _check_buyer(principal, buyer)
    if bad_line is not None:
        raise bad_line
    digest = sha256(
        canonical_json(
            {"ship_to": body.ship_to_id, "note": body.note, "lines": [list(x) for x in wanted]}
        )
    ).digest()
    # A store buys from its dealer (the context read its prices), a dealer from HQ.
    store_seller = _store_seller(conn, buyer) if buyer.kind == "store" else None
    tier = context.tier
    for n, (gtin, _) in enumerate(wanted, 1):
        if gtin not in context.known:
            given = body.lines[n - 1].gtin
            raise catalogue.UnknownSku(
                f"line {n}: no SKU with GTIN {given} in the product catalogue"
            )
    if context.existing is not None:
        existing = repo.get(conn, context.existing)
        assert existing is not None  # read in this transaction, under the buyer's lock
        return _replay(conn, existing, digest), False

    seller_id = _seller_id(conn, store_seller, context.seller_id)
    for n, (gtin, _) in enumerate(wanted, 1):
        if gtin not in context.prices:
            seller = store_seller or channel_service.party(conn, seller_id)
            raise Unprocessable(
                f"line {n}: GTIN {gtin} is not on {seller.code}'s price list for tier {tier!r}",
                code="not_on_price_list",
            )
    amounts = [context.prices[g] * cases for g, cases in wanted]
    total = sum(amounts)
    warehouses = candidates.warehouses
    ship_to = _ship_to(buyer, body.ship_to_id, warehouses)
    if buyer.kind == "dealer":
        _check_credit(buyer, total, context.open_total)
    sources = [w for w in warehouses if store_seller is not None or w.dealer_id is None]
    share = None
    if store_seller is not None:
        permille = channel_service.share_permille(store_seller, default_share_permille)
        drawn = placing.drawn_from_hq(conn, store_seller.party_id, [g for g, _ in wanted])
        share = stock.Share(permille, drawn)

    now = datetime.now(UTC)
    order_id = new_order_id()
    header = {
        "order_id": order_id,
        "kind": buyer.kind,
        "buyer_id": buyer.party_id,
        "seller_id": seller_id,
        "ship_to_id": ship_to.party_id,
        "region_id": buyer.region_id or "",
        "dealer_id": buyer.dealer_id or "",
        "store_id": buyer.party_id if buyer.kind == "store" else None,
        "client_key": body.client_key,
        "request_digest": digest,
        "state": states.SUBMITTED,
        "total_fen": total,
        "note": body.note,
        "created_by": principal.key_id,
        "created_at": now,
        "updated_at": now,
    }
    line_rows = [
        {
            "order_id": order_id,
            "line_no": n,
            "gtin": gtin,
            "cases": cases,
            "case_price_fen": context.prices[gtin],
            "amount_fen": amount,
        }
        for n, ((gtin, cases), amount) in enumerate(zip(wanted, amounts, strict=True), 1)
    ]
    event = {"state": states.SUBMITTED, "actor": principal.key_id, "note": RESERVED, "at": now}

    def allocation_rows(plans: list[list[sourcing.Allocation]]) -> list[dict[str, Any]]:
        return [
            {
                "order_id": order_id,
                "line_no": n,
                "rank": rank,
                "warehouse_id": a.warehouse_id,
                "gtin": wanted[n - 1][0],
                "cases": a.cases,
                "reserved": a.cases,
                "rule": a.rule,
                "distance_m": a.distance_m,
                "reason": a.reason,
            }
            for n, plan in enumerate(plans, 1)
            for rank, a in enumerate(plan, 1)
        ]

    def plan(current: dict[tuple[str, str], stock_repo.Level]) -> list[dict[str, Any]]:
        return allocation_rows(
            stock.plan(wanted, sources, current, ship_to=ship_to, share=share, policy=policy)
        )

    # Planned from committed levels, nothing locked yet; the order's rows are written and the
    # answer built before any stock row is touched, so those stay locked only for the
    # reservation and the commit.
    alloc_rows = plan(candidates.levels)
    answer = _placed(header, body.note, line_rows, event, alloc_rows)
    placement = placing.Placement(header, line_rows, event, alloc_rows)
    sources_ids = [w.party_id for w in sources]
    reservation = placing.insert_and_reserve(conn, placement, sources_ids)
    if reservation is None:
        # Cannot happen while the buyer's row lock serialises its orders.
        raise ClientKeyReused(f"client_key {body.client_key!r} is being used right now")
    reserved = reservation.reserved_cases
    if not reservation.fits:
        # Another order took that stock first. The short SKUs' stripes came back locked by
        # us: a plan made from them cannot miss (or the order is refused, and nothing kept);
        # the other lines, planned from the same levels as before, come out as before.
        levels = {k: v for k, v in candidates.levels.items() if k[1] not in reservation.short}
        alloc_rows = plan(levels | reservation.levels)
        placing.replace_allocations(conn, order_id, alloc_rows)
        reserved = placing.reserve_locked(conn, alloc_rows, reservation.stripes)
        answer = _placed(header, body.note, line_rows, event, alloc_rows)
    wanted_cases = sum(a["reserved"] for a in alloc_rows)
    if reserved != wanted_cases:
        raise stock.StockInvariantBroken(
            f"order {order_id}: {reserved} of {wanted_cases} cases reserved"
        )
    return answer, True


def _placed(
    header: dict[str, Any],
    note: str,
    line_rows: list[dict[str, Any]],
    event: dict[str, Any],
    alloc_rows: list[dict[str, Any]],
) -> OrderOut:
    """A new order as written (no read-back: this is built while nothing is locked), validated
    in one pass from plain dicts rather than model by model."""
    by_line: dict[int, list[dict[str, Any]]] = {ln["line_no"]: [] for ln in line_rows}
    for a in alloc_rows:
        by_line[a["line_no"]].append({k: a[k] for k in ALLOCATION_FIELDS})
    return OrderOut.model_validate(
        {
            "id": header["order_id"],
            **{k: header[k] for k in SUMMARY_FIELDS},
            "note": note,
            "lines": [
                {**{k: ln[k] for k in placing.LINE_COLUMNS}, "allocations": by_line[ln["line_no"]]}
                for ln in line_rows
            ],
            "history": [event],
            "shipment_ids": [],
        }
    )


def _store_seller(conn: Connection, store: PartyRow) -> PartyRow:
    """The store's dealer, its row locked: the dealer's draw on HQ's stock (its share) is
    counted over all its stores' orders, so those are placed one at a time."""
    dealer = parties.get_party(conn, store.dealer_id or "", for_update=True)
    if dealer is None or dealer.kind != "dealer":
        raise NotFound(f"store {store.code} has no dealer {store.dealer_id!r} to order from")
    return dealer


def _seller_id(conn: Connection, store_seller: PartyRow | None, hq_id: str | None) -> str:
    if store_seller is not None:
        return store_seller.party_id
    return hq_id or channel_service.ensure_hq(conn).party_id


def _check_buyer(principal: Principal, buyer: PartyRow) -> None:
    if principal.runs_channel:
        return
    role = Role.DEALER_STAFF if buyer.kind == "dealer" else Role.STORE_CLERK
    if principal.role is not role:
        raise Forbidden(f"orders for a {buyer.kind} are placed by its {role.value} (or HQ)")
    if principal.scope != buyer.party_id:
        raise Forbidden(
            f"you act for {principal.scope} and may not order for {buyer.kind} {buyer.party_id}"
        )


# A catalogue's few thousand GTINs, each checked (length, digits, check digit) once per process
# rather than once per order line; a bad one raises every time, as exceptions are not cached.
_gtin = lru_cache(maxsize=4096)(parse_gtin)


def _normalise_lines(body: OrderIn) -> list[tuple[str, int]]:
    """The lines as (14-digit GTIN, cases); whether each GTIN is registered is checked with
    the order's other reads."""
    seen: dict[str, int] = {}
    out: list[tuple[str, int]] = []
    for n, line in enumerate(body.lines, 1):
        try:
            gtin = _gtin(line.gtin)
        except Unprocessable as exc:
            raise type(exc)(f"line {n}: {exc.message}", code=exc.code) from None
        if gtin in seen:
            raise Unprocessable(
                f"line {n}: GTIN {gtin} is already on line {seen[gtin]}; put it on one line"
            )
        seen[gtin] = n
        out.append((gtin, line.cases))
    return out


def _replay(conn: Connection, existing: OrderRow, digest: bytes) -> OrderOut:
    if existing.request_digest != digest:
        raise ClientKeyReused(
            f"client_key {existing.client_key!r} was already used for order {existing.order_id} "
            "with different contents; use a new key for a new order"
        )
    return order_out(conn, existing)


def _ship_to(buyer: PartyRow, ship_to_id: str | None, warehouses: list[PartyRow]) -> PartyRow:
    """Where the order goes: a store's own door, or one of the dealer's warehouses (the
    candidates read for sourcing include them, ordered by code)."""
    if buyer.kind == "store":
        if ship_to_id not in (None, buyer.party_id):
            raise Unprocessable("a store's order is delivered to the store; leave ship_to_id out")
        return buyer
    own = [w for w in warehouses if w.dealer_id == buyer.party_id]
    if ship_to_id is None:
        if not own:
            raise Unprocessable(
                f"dealer {buyer.code} has no warehouse to receive into; create one first"
            )
        return own[0]
    for w in own:
        if w.party_id == ship_to_id:
            return w
    raise Unprocessable(f"ship_to_id {ship_to_id!r} is not one of {buyer.code}'s warehouses")


def _check_credit(dealer: PartyRow, total: int, outstanding: int) -> None:
    limit = dealer.credit_limit_fen or 0
    if outstanding + total > limit:
        raise CreditLimitExceeded(
            f"order total {total} fen with {outstanding} fen of open orders exceeds "
            f"dealer {dealer.code}'s credit limit of {limit} fen"
        )


# --- life cycle ------------------------------------------------------------------------------


def confirm(conn: Connection, principal: Principal, order_id: str, note: str) -> OrderOut:
    order = _locked(conn, order_id)
    access.check_seller(principal, order, "confirm")
    return _move(conn, principal, order, states.CONFIRMED, note or "accepted")


def allocate(conn: Connection, principal: Principal, order_id: str, note: str) -> OrderOut:
    """Release the order to its warehouses: one shipment per allocated warehouse."""
    from api.shipments import service as shipments

    order = _locked(conn, order_id)
    access.check_seller(principal, order, "allocate")
    states.check(order.order_id, order.state, states.ALLOCATED)
    shipments.create_for_order(conn, order, repo.allocations_of(conn, order_id))
    return _move(conn, principal, order, states.ALLOCATED, note or "released to warehouses")


def cancel(conn: Connection, principal: Principal, order_id: str, reason: str) -> OrderOut:
    """The buyer may cancel until confirmation; the seller until anything is dispatched."""
    from api.shipments import service as shipments

    order = _locked(conn, order_id)
    access.check_read(principal, order)
    seller = access.is_seller_side(principal, order)
    if not seller:
        if not access.is_buyer_side(principal, order):
            raise Forbidden(f"you may not cancel order {order_id}")
        if order.state != states.SUBMITTED:
            raise states.InvalidTransition(
                f"order {order_id} is {order.state}; after confirmation only the seller may "
                "cancel it"
            )
    states.check(order.order_id, order.state, states.CANCELLED)
    if order.state == states.ALLOCATED:
        shipments.cancel_for_order(conn, order.order_id)
    # Stock rows in the order placement locks them (SKU, warehouse): no deadlock with it.
    for a in sorted(repo.allocations_of(conn, order_id), key=lambda a: (a.gtin, a.warehouse_id)):
        if a.reserved:
            stock.release(conn, a.warehouse_id, a.gtin, a.reserved)
            repo.set_reserved(conn, order_id, a.line_no, a.rank, 0)
    return _move(conn, principal, order, states.CANCELLED, reason or "cancelled")


def close(conn: Connection, principal: Principal, order_id: str, note: str) -> OrderOut:
    order = _locked(conn, order_id)
    access.check_read(principal, order)
    if not (access.is_seller_side(principal, order) or access.is_buyer_side(principal, order)):
        raise Forbidden(f"you may not close order {order_id}")
    return _move(conn, principal, order, states.CLOSED, note or "closed")


def shipment_progress(
    conn: Connection, order_id: str, actor: str, *, all_dispatched: bool, all_received: bool
) -> None:
    """Called by shipments after a dispatch or receipt: advance the order when all are done."""
    order = _locked(conn, order_id)
    if order.state == states.ALLOCATED and all_dispatched:
        repo.set_state(conn, order_id, states.SHIPPED)
        repo.add_event(conn, order_id, states.SHIPPED, actor, "every shipment dispatched")
        order = _get(conn, order_id)
    if order.state == states.SHIPPED and all_received:
        repo.set_state(conn, order_id, states.RECEIVED)
        repo.add_event(conn, order_id, states.RECEIVED, actor, "every shipment received")


def _move(
    conn: Connection, principal: Principal, order: OrderRow, state: str, note: str
) -> OrderOut:
    states.check(order.order_id, order.state, state)
    repo.set_state(conn, order.order_id, state)
    repo.add_event(conn, order.order_id, state, principal.key_id, note)
    return order_out(conn, _get(conn, order.order_id))


# --- reading ---------------------------------------------------------------------------------


def get_order(conn: Connection, principal: Principal, order_id: str) -> OrderOut:
    return order_out(conn, access.check_read(principal, _get(conn, order_id)))


def list_orders(
    conn: Connection,
    principal: Principal,
    *,
    state: str | None,
    kind: str | None,
    after: str | None,
    limit: int,
) -> list[OrderSummary]:
    filters = access.tenancy(principal)
    if filters is None:
        raise Forbidden(f"a {principal.role.value} has no orders to list")
    rows = repo.list_orders(conn, tenancy=filters, state=state, kind=kind, after=after, limit=limit)
    return [summary(r) for r in rows]


def summary(order: OrderRow) -> OrderSummary:
    return OrderSummary(
        id=order.order_id,
        kind=order.kind,
        state=order.state,
        buyer_id=order.buyer_id,
        seller_id=order.seller_id,
        ship_to_id=order.ship_to_id,
        client_key=order.client_key,
        total_fen=order.total_fen,
        created_at=order.created_at,
        updated_at=order.updated_at,
    )


def order_out(conn: Connection, order: OrderRow) -> OrderOut:
    from api.shipments import repository as shipment_repo

    allocs = repo.allocations_of(conn, order.order_id)
    line_rows = repo.lines_of(conn, order.order_id)
    return OrderOut(
        **summary(order).model_dump(),
        note=order.note,
        lines=[
            OrderLineOut(
                line_no=ln["line_no"],
                gtin=ln["gtin"],
                cases=ln["cases"],
                case_price_fen=ln["case_price_fen"],
                amount_fen=ln["amount_fen"],
                allocations=[
                    AllocationOut(
                        warehouse_id=a.warehouse_id,
                        cases=a.cases,
                        reserved=a.reserved,
                        rule=a.rule,
                        distance_m=a.distance_m,
                        reason=a.reason,
                    )
                    for a in allocs
                    if a.line_no == ln["line_no"]
                ],
            )
            for ln in line_rows
        ],
        history=[OrderEventOut(**e) for e in repo.events_of(conn, order.order_id)],
        shipment_ids=shipment_repo.ids_for_order(conn, order.order_id),
    )


def _get(conn: Connection, order_id: str) -> OrderRow:
    order = repo.get(conn, order_id)
    if order is None:
        raise NotFound(f"no order {order_id!r}")
    return order


def _locked(conn: Connection, order_id: str) -> OrderRow:
    order = repo.get(conn, order_id, for_update=True)
    if order is None:
        raise NotFound(f"no order {order_id!r}")
    return order
