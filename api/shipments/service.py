"""Shipments: created from an order's allocation (or a return), picked by scanning case codes,
dispatched as one ``transfer.shipped`` ledger entry, received with a ``transfer.received``
entry that records what was missing or extra. Put-away brings fresh cases into HQ's stock.

Code states and the code index belong to traceability (``api.trace.codes``): this module
moves codes only through its ``record_custody``, which checks each code's state, stages the
entry with the list's Merkle root and indexes the codes in the same transaction.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from api.auth.service import Principal
from api.channel import repository as parties
from api.channel import service as channel
from api.channel.repository import PartyRow
from api.errors import Conflict, Forbidden, NotFound
from api.orders import repository as order_repo
from api.orders.repository import AllocationRow, OrderRow
from api.shipments import access
from api.shipments import custody as projection
from api.shipments import repository as repo
from api.shipments.repository import CustodyRow, ShipmentRow
from api.shipments.schemas import ShipmentLineOut, ShipmentOut
from api.stock import service as stock
from api.trace.codes.custody import TRANSITIONS, code_key, record_custody
from api.trace.codes.service import Code, CodeKind, get_codes

PICKING, DISPATCHED, RECEIVED, CANCELLED = "picking", "dispatched", "received", "cancelled"
STATES = (PICKING, DISPATCHED, RECEIVED, CANCELLED)
LISTED_DISCREPANCIES = 100
"""Missing/extra codes listed in a ``transfer.received`` entry; beyond it, counts and roots."""


class ScanRefused(Conflict):
    code = "scan_refused"


class ShipmentStateConflict(Conflict):
    code = "shipment_state"


def new_shipment_id() -> str:
    return f"shp_{secrets.token_hex(10)}"


# --- creation --------------------------------------------------------------------------------


def create_for_order(
    conn: Connection, order: OrderRow, allocations: Sequence[AllocationRow]
) -> list[str]:
    """One shipment per warehouse the order was allocated to."""
    by_warehouse: dict[str, Counter[str]] = {}
    for a in allocations:
        by_warehouse.setdefault(a.warehouse_id, Counter())[a.gtin] += a.cases
    buyer = channel.party(conn, order.buyer_id)
    ids = []
    for warehouse_id, wanted in sorted(by_warehouse.items()):
        warehouse = channel.party(conn, warehouse_id, "warehouse")
        shipment_id = new_shipment_id()
        repo.insert_shipment(
            conn,
            dict(wanted),
            shipment_id=shipment_id,
            kind="order",
            order_id=order.order_id,
            return_id=None,
            from_party_id=channel.owner_of(conn, warehouse).party_id,
            from_warehouse_id=warehouse_id,
            to_party_id=buyer.party_id,
            to_warehouse_id=order.ship_to_id if buyer.kind == "dealer" else None,
            region_id=order.region_id,
            dealer_id=order.dealer_id,
            store_id=order.store_id,
            state=PICKING,
        )
        ids.append(shipment_id)
    return ids


def create_return(
    conn: Connection,
    *,
    order: OrderRow,
    return_id: str,
    codes: Sequence[Code],
    from_party: PartyRow,
    from_warehouse_id: str | None,
    to_warehouse: PartyRow,
    actor: str,
) -> str:
    """A return's shipment, already picked with the authorized codes."""
    shipment_id = new_shipment_id()
    repo.insert_shipment(
        conn,
        dict(Counter(c.gtin for c in codes)),
        shipment_id=shipment_id,
        kind="return",
        order_id=order.order_id,
        return_id=return_id,
        from_party_id=from_party.party_id,
        from_warehouse_id=from_warehouse_id,
        to_party_id=channel.owner_of(conn, to_warehouse).party_id,
        to_warehouse_id=to_warehouse.party_id,
        region_id=order.region_id,
        dealer_id=order.dealer_id,
        store_id=order.store_id,
        state=PICKING,
    )
    repo.insert_scans(conn, shipment_id, "picked", [(c.serial, c.id, c.gtin) for c in codes], actor)
    return shipment_id


def cancel_for_order(conn: Connection, order_id: str) -> None:
    for s in repo.for_order(conn, order_id):
        if s.state not in (PICKING, CANCELLED):
            raise ShipmentStateConflict(
                f"shipment {s.shipment_id} of order {order_id} is already {s.state}; an order "
                "with goods on the road cannot be cancelled (receive it, then return)"
            )
        repo.update(conn, s.shipment_id, state=CANCELLED)


# --- picking ---------------------------------------------------------------------------------


def pick(
    conn: Connection, principal: Principal, shipment_id: str, texts: Sequence[str]
) -> ShipmentOut:
    """Scan case codes into a shipment. All or nothing: one bad code refuses the whole scan.

    Each code must be a case code of a SKU the shipment carries, held in the shipment's
    warehouse, not shipped or picked elsewhere, and not beyond the line's quantity. Scanning a
    code already picked for this shipment again is harmless.
    """
    s = _locked(conn, shipment_id)
    warehouse = _check_operator(conn, principal, s, at_source=True)
    if s.state != PICKING:
        raise ShipmentStateConflict(f"shipment {shipment_id} is {s.state}; scanning is over")
    if s.kind != "order":
        raise ShipmentStateConflict("a return's shipment is picked when the return is approved")
    codes = get_codes(conn, texts)
    already = {x.serial for x in repo.scans_of(conn, shipment_id, "picked")}
    fresh = [c for c in codes if c.serial not in already]
    planned = repo.lines_of(conn, shipment_id)
    counts = Counter(x.gtin for x in repo.scans_of(conn, shipment_id, "picked"))
    # Lock the cases before reading where they are and whether another shipment picked them:
    # every pick and dispatch of a case takes this lock first, so two scans of one case onto
    # two shipments (or a scan racing the dispatch of the shipment that holds it) take turns
    # and the second sees what the first wrote.
    held = repo.lock_custody(conn, [c.serial for c in fresh])
    elsewhere = repo.picked_elsewhere(conn, [c.serial for c in fresh], shipment_id)
    shippable = TRANSITIONS["shipped"][0]
    for c in fresh:
        if c.kind is not CodeKind.CASE:
            raise ScanRefused(f"{c.serial} is a bottle code; shipments carry whole cases")
        if c.gtin not in planned:
            raise ScanRefused(
                f"{c.serial} is GTIN {c.gtin}; this shipment carries {', '.join(planned)}",
                code="wrong_sku",
            )
        _check_held_at(c, held.get(c.serial), warehouse)
        if c.state not in shippable:
            raise ScanRefused(f"{c.serial} is {c.state.value} and cannot be shipped")
        if c.serial in elsewhere:
            raise ScanRefused(f"{c.serial} is already picked for shipment {elsewhere[c.serial]}")
        counts[c.gtin] += 1
        if counts[c.gtin] > planned[c.gtin]:
            raise ScanRefused(
                f"GTIN {c.gtin}: {counts[c.gtin]} cases scanned, the shipment carries "
                f"{planned[c.gtin]}",
                code="over_picked",
            )
    _check_not_recalled(conn, fresh)
    repo.insert_scans(
        conn, shipment_id, "picked", [(c.serial, c.id, c.gtin) for c in fresh], principal.key_id
    )
    return shipment_out(conn, _get(conn, shipment_id))


def _check_not_recalled(conn: Connection, codes: Sequence[Code]) -> None:
    from api.trace.batches import repository as batches

    for lot in sorted({c.lot for c in codes}):
        batch = batches.get(conn, lot)
        if batch is not None and batch["status"] != "active":
            serial = next(c.serial for c in codes if c.lot == lot)
            raise ScanRefused(f"{serial} is of batch {lot}, which is recalled; it must not ship")


def _check_held_at(code: Code, row: CustodyRow | None, warehouse: PartyRow) -> None:
    if row is None:
        raise ScanRefused(f"{code.serial} was never put away in a warehouse; it is not in stock")
    if row.state == "in_transit":
        raise ScanRefused(
            f"{code.serial} is already shipped (in transit to {row.to_id})", code="already_shipped"
        )
    if row.warehouse_id != warehouse.party_id:
        where = row.warehouse_id or f"party {row.holder_id}"
        raise ScanRefused(f"{code.serial} is held at {where}, not in {warehouse.code}")


def unpick(conn: Connection, principal: Principal, shipment_id: str, serial: str) -> ShipmentOut:
    s = _locked(conn, shipment_id)
    _check_operator(conn, principal, s, at_source=True)
    if s.state != PICKING or s.kind != "order":
        raise ShipmentStateConflict(f"shipment {shipment_id} is {s.state}; scans are final")
    if repo.delete_scan(conn, shipment_id, "picked", serial.upper()) == 0:
        raise NotFound(f"{serial} is not picked for shipment {shipment_id}")
    return shipment_out(conn, _get(conn, shipment_id))


# --- dispatch --------------------------------------------------------------------------------


def dispatch(conn: Connection, principal: Principal, shipment_id: str) -> ShipmentOut:
    """Everything picked leaves: one ``transfer.shipped`` entry, stock and custody move."""
    from api.orders import service as orders
    from api.returns import service as returns

    s = _locked_with_order(conn, shipment_id)
    _check_operator(conn, principal, s, at_source=True)
    if s.state != PICKING:
        raise ShipmentStateConflict(f"shipment {shipment_id} is {s.state}, not picking")
    planned = repo.lines_of(conn, shipment_id)
    picked = repo.scans_of(conn, shipment_id, "picked")
    counts = Counter(x.gtin for x in picked)
    short = [
        f"GTIN {g}: {counts[g]} of {n} cases scanned" for g, n in planned.items() if counts[g] != n
    ]
    if short:
        raise ShipmentStateConflict(
            "short pick, nothing dispatched: " + "; ".join(short), code="short_pick"
        )
    codes = get_codes(conn, [x.serial for x in picked])
    held = repo.lock_custody(conn, [c.serial for c in codes])
    if s.kind == "order":
        warehouse = channel.party(conn, s.from_warehouse_id or "", "warehouse")
        for c in codes:
            _check_held_at(c, held.get(c.serial), warehouse)
    else:
        for c in codes:
            row = held.get(c.serial)
            if row is None or row.state != "held" or row.holder_id != s.from_party_id:
                raise ScanRefused(f"{c.serial} is no longer held by {s.from_party_id}")
    if s.kind == "order":
        _check_not_recalled(conn, codes)
    to = channel.party(conn, s.to_party_id)
    payload = _transfer_payload(s, planned)
    entry_ids = record_custody(
        conn,
        "shipped",
        codes,
        kind="transfer.shipped",
        payload=payload,
        region=region_name(conn, to),
        party=s.to_party_id,
        sender=s.from_party_id,
    )
    for entry_id, part in zip(entry_ids, parts(codes), strict=True):
        repo.upsert_custody(conn, projection.apply({}, "transfer.shipped", payload, entry_id, part))
    for gtin, n in sorted(planned.items()):  # stock rows in one order: no deadlocks
        if s.kind == "order":
            stock.dispatch(conn, s.from_warehouse_id or "", gtin, n)
        elif s.from_warehouse_id is not None:
            stock.withdraw(conn, s.from_warehouse_id, gtin, n)
    now = datetime.now(UTC)
    repo.update(conn, shipment_id, state=DISPATCHED, dispatched_at=now, shipped_entries=entry_ids)
    if s.kind == "order":
        for a in order_repo.allocations_of(conn, s.order_id):
            if a.warehouse_id == s.from_warehouse_id and a.reserved:
                order_repo.set_reserved(conn, s.order_id, a.line_no, a.rank, 0)
        _order_progress(conn, orders, s.order_id, principal.key_id)
    else:
        returns.shipment_moved(conn, s.return_id or "", DISPATCHED)
    return shipment_out(conn, _get(conn, shipment_id))


def _transfer_payload(s: ShipmentRow, planned: dict[str, int]) -> dict[str, Any]:
    return {
        "shipment": s.shipment_id,
        "order": s.order_id,
        "return": s.return_id,
        "from": s.from_party_id,
        "from_warehouse": s.from_warehouse_id,
        "to": s.to_party_id,
        "to_warehouse": s.to_warehouse_id,
        "lines": [{"gtin": g, "cases": n} for g, n in sorted(planned.items())],
    }


def parts(codes: Sequence[Code]) -> list[Sequence[Code]]:
    """How ``record_custody`` splits a list over entries (one per ``MAX_ITEMS`` codes)."""
    from api.trace import merkle_list

    size = merkle_list.MAX_ITEMS
    return [codes[i : i + size] for i in range(0, len(codes), size)]


# --- receipt ---------------------------------------------------------------------------------


def receive(
    conn: Connection, principal: Principal, shipment_id: str, texts: Sequence[str]
) -> ShipmentOut:
    """Scan in what arrived. Codes of the shipment are received; shipped codes not scanned are
    recorded missing (they stay in transit); scanned codes not in it are recorded extra."""
    from api.orders import service as orders
    from api.returns import service as returns

    s = _locked_with_order(conn, shipment_id)
    _check_operator(conn, principal, s, at_source=False)
    if s.state != DISPATCHED:
        raise ShipmentStateConflict(
            f"shipment {shipment_id} is {s.state}; only a dispatched one is received"
        )
    scanned = get_codes(conn, texts)
    shipped = {x.serial for x in repo.scans_of(conn, shipment_id, "picked")}
    arrived = [c for c in scanned if c.serial in shipped]
    extra = [c for c in scanned if c.serial not in shipped]
    missing_serials = sorted(shipped - {c.serial for c in arrived})
    missing = get_codes(conn, missing_serials) if missing_serials else []
    to = channel.party(conn, s.to_party_id)
    payload = {
        **_transfer_payload(s, repo.lines_of(conn, shipment_id)),
        "received_count": len(arrived),
        **_discrepancy("missing", missing),
        **_discrepancy("extra", extra),
    }
    if arrived:
        entry_ids = record_custody(
            conn,
            "received",
            arrived,
            kind="transfer.received",
            payload=payload,
            location=s.to_warehouse_id or s.to_party_id,
            region=region_name(conn, to),
            party=s.to_party_id,
            sender=s.from_party_id,
            holder_kind=_holder_kind(to),
        )
        for entry_id, part in zip(entry_ids, parts(arrived), strict=True):
            repo.upsert_custody(
                conn, projection.apply({}, "transfer.received", payload, entry_id, part)
            )
    else:
        # Nothing of the shipment arrived: the receipt still goes on the ledger, listing no code.
        from api.log.outbox import stage_entry

        entry_ids = [
            stage_entry(
                conn,
                "transfer.received",
                {**payload, "codes_root": projection.codes_root_hex([]), "codes_count": 0},
            )
        ]
    if s.to_warehouse_id is not None:
        for gtin, n in sorted(Counter(c.gtin for c in arrived).items()):
            stock.arrive(conn, s.to_warehouse_id, gtin, n)
    repo.insert_scans(
        conn, shipment_id, "received", [(c.serial, c.id, c.gtin) for c in arrived], principal.key_id
    )
    repo.insert_scans(
        conn, shipment_id, "extra", [(c.serial, c.id, c.gtin) for c in extra], principal.key_id
    )
    repo.update(
        conn,
        shipment_id,
        state=RECEIVED,
        received_at=datetime.now(UTC),
        received_entries=entry_ids,
        missing_count=len(missing),
        extra_count=len(extra),
    )
    if s.kind == "order":
        _order_progress(conn, orders, s.order_id, principal.key_id)
    else:
        returns.shipment_moved(conn, s.return_id or "", RECEIVED)
    return shipment_out(conn, _get(conn, shipment_id))


def _discrepancy(name: str, codes: Sequence[Code]) -> dict[str, Any]:
    out: dict[str, Any] = {f"{name}_count": len(codes)}
    if codes:
        out[f"{name}_root"] = projection.codes_root_hex(codes)
        if len(codes) <= LISTED_DISCREPANCIES:
            out[name] = [code_key(c) for c in codes]
    return out


def _order_progress(conn: Connection, orders: Any, order_id: str, actor: str) -> None:
    live = [x for x in repo.for_order(conn, order_id) if x.state != CANCELLED]
    orders.shipment_progress(
        conn,
        order_id,
        actor,
        all_dispatched=all(x.state in (DISPATCHED, RECEIVED) for x in live),
        all_received=all(x.state == RECEIVED for x in live),
    )


# --- reading ---------------------------------------------------------------------------------


def get_shipment(conn: Connection, principal: Principal, shipment_id: str) -> ShipmentOut:
    return shipment_out(conn, access.check_read(principal, _get(conn, shipment_id)))


def list_shipments(
    conn: Connection,
    principal: Principal,
    *,
    warehouse_id: str | None,
    state: str | None,
    after: str | None,
    limit: int,
) -> list[ShipmentOut]:
    if principal.role.value == "device":
        if warehouse_id not in (None, principal.scope):
            raise Forbidden(f"this device scans for {principal.scope}, not {warehouse_id}")
        filters: dict[str, str] | None = {}
        warehouse_id = principal.scope
    else:
        filters = access.tenancy(principal)
    if filters is None:
        raise Forbidden(f"a {principal.role.value} has no shipments to list")
    rows = repo.list_shipments(
        conn, tenancy=filters, warehouse_id=warehouse_id, state=state, after=after, limit=limit
    )
    return [shipment_out(conn, r) for r in rows]


def shipment_out(conn: Connection, s: ShipmentRow) -> ShipmentOut:
    planned = repo.lines_of(conn, s.shipment_id)
    scans = repo.scans_of(conn, s.shipment_id)
    picked = Counter(x.gtin for x in scans if x.phase == "picked")
    received = Counter(x.gtin for x in scans if x.phase == "received")
    got = {x.serial for x in scans if x.phase == "received"}
    missing = (
        sorted(x.serial for x in scans if x.phase == "picked" and x.serial not in got)
        if s.state == RECEIVED
        else []
    )
    extra = sorted(x.serial for x in scans if x.phase == "extra")
    return ShipmentOut(
        id=s.shipment_id,
        kind=s.kind,
        order_id=s.order_id,
        return_id=s.return_id,
        state=s.state,
        from_party_id=s.from_party_id,
        from_warehouse_id=s.from_warehouse_id,
        to_party_id=s.to_party_id,
        to_warehouse_id=s.to_warehouse_id,
        lines=[
            ShipmentLineOut(gtin=g, cases=n, picked=picked[g], received=received[g])
            for g, n in planned.items()
        ],
        shipped_entry_ids=s.shipped_entries,
        received_entry_ids=s.received_entries,
        missing=missing,
        extra=extra,
        wrong_destination=_bound_elsewhere(conn, extra, s.to_party_id),
        created_at=s.created_at,
        dispatched_at=s.dispatched_at,
        received_at=s.received_at,
    )


def _bound_elsewhere(conn: Connection, serials: Sequence[str], destination: str) -> list[str]:
    """The codes among ``serials`` that are in transit to a party other than ``destination``."""
    custody = repo.custody_of(conn, serials)
    return [
        s
        for s in serials
        if (row := custody.get(s)) is not None
        and row.state == "in_transit"
        and row.to_id != destination
    ]


def _check_operator(
    conn: Connection, principal: Principal, s: ShipmentRow, *, at_source: bool
) -> PartyRow:
    """The warehouse (or store) where the principal scans, if they may scan there."""
    if principal.role.value != "device":
        access.check_read(principal, s)
    if at_source:
        if s.from_warehouse_id is None:
            # A return from a store: the store's people or its dealer hand the cases over.
            store = channel.party(conn, s.from_party_id, "store")
            if not access.can_receive_at_store(principal, store):
                raise Forbidden(f"you may not hand over cases for store {store.code}")
            return store
        place = channel.party(conn, s.from_warehouse_id, "warehouse")
        if not access.can_operate(principal, place):
            raise Forbidden(f"you may not scan cases out of {place.code}")
        return place
    if s.to_warehouse_id is None:
        store = channel.party(conn, s.to_party_id, "store")
        if not access.can_receive_at_store(principal, store):
            raise Forbidden(f"you may not receive for store {store.code}")
        return store
    place = channel.party(conn, s.to_warehouse_id, "warehouse")
    if not access.can_operate(principal, place):
        raise Forbidden(f"you may not receive into {place.code}")
    return place


def region_name(conn: Connection, party: PartyRow) -> str:
    """What the public lookup may show about a place: its region's name, never the party."""
    if party.kind == "region":
        return party.name
    region = parties.get_party(conn, party.region_id) if party.region_id else None
    return region.name if region is not None else channel.ensure_hq(conn).name


def _holder_kind(party: PartyRow) -> str:
    return {"dealer": "dealer", "store": "store"}.get(party.kind, "producer")


def _get(conn: Connection, shipment_id: str) -> ShipmentRow:
    s = repo.get(conn, shipment_id)
    if s is None:
        raise NotFound(f"no shipment {shipment_id!r}")
    return s


def _locked_with_order(conn: Connection, shipment_id: str) -> ShipmentRow:
    """Lock the shipment's order, then the shipment: the order cancellation's lock order, so a
    dispatch racing a cancellation waits instead of deadlocking."""
    order_repo.get(conn, _get(conn, shipment_id).order_id, for_update=True)
    return _locked(conn, shipment_id)


def _locked(conn: Connection, shipment_id: str) -> ShipmentRow:
    s = repo.get(conn, shipment_id, for_update=True)
    if s is None:
        raise NotFound(f"no shipment {shipment_id!r}")
    return s
