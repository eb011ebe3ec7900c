"""Returns ("HQ accepts, the region executes").

The buyer asks to send back cases it received under an order; the seller decides (HQ for a
dealer's order, the dealer for a store's). Approval creates a return shipment already picked
with the authorized codes; the region (its manager, or the warehouse's devices) dispatches
and receives it like any shipment, so the codes go back on the ledger as ``transfer.shipped``
and ``transfer.received`` entries and return to stock on arrival.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import Connection

from api.auth.service import Principal
from api.channel import service as channel
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.orders import access as order_access
from api.orders import repository as order_repo
from api.orders import states as order_states
from api.orders.repository import OrderRow
from api.returns import repository as repo
from api.returns.repository import ReturnRow
from api.returns.schemas import ReturnIn, ReturnOut
from api.shipments import repository as shipment_repo
from api.shipments import service as shipments
from api.trace.codes.service import get_codes

REQUESTED, APPROVED, REJECTED, IN_TRANSIT, RECEIVED = (
    "requested",
    "approved",
    "rejected",
    "in_transit",
    "received",
)
STATES = (REQUESTED, APPROVED, REJECTED, IN_TRANSIT, RECEIVED)


class ReturnStateConflict(Conflict):
    code = "return_state"


def request(conn: Connection, principal: Principal, body: ReturnIn) -> ReturnOut:
    order = _order(conn, body.order_id)
    order_access.check_read(principal, order)
    if not order_access.is_buyer_side(principal, order):
        raise Forbidden(f"only the buyer of order {order.order_id} asks to return its cases")
    if order.state not in (order_states.RECEIVED, order_states.CLOSED, order_states.SHIPPED):
        raise ReturnStateConflict(
            f"order {order.order_id} is {order.state}; only delivered cases can be returned"
        )
    codes = get_codes(conn, body.codes)
    serials = [c.serial for c in codes]
    delivered = repo.delivered_by(conn, order.order_id, serials)
    held = shipment_repo.custody_of(conn, serials)
    pending = repo.open_returns_of(conn, serials)
    for c in codes:
        if c.serial not in delivered:
            raise Unprocessable(f"{c.serial} was not received under order {order.order_id}")
        row = held.get(c.serial)
        if row is None or row.state != "held" or row.holder_id != order.buyer_id:
            raise Conflict(f"{c.serial} is no longer held by {order.buyer_id}", code="not_held")
        if c.serial in pending:
            raise Conflict(f"{c.serial} is already on return {pending[c.serial]}")
    origins = sorted({delivered[s] or "" for s in serials})
    if len(origins) > 1:
        raise Unprocessable(
            "these cases came from different warehouses "
            f"({', '.join(origins)}); ask for one return per warehouse"
        )
    return_id = f"rma_{secrets.token_hex(10)}"
    repo.insert(
        conn,
        [(c.serial, c.id, c.gtin) for c in codes],
        return_id=return_id,
        order_id=order.order_id,
        state=REQUESTED,
        reason=body.reason,
        to_warehouse_id=origins[0],
        shipment_id=None,
        region_id=order.region_id,
        dealer_id=order.dealer_id,
        store_id=order.store_id,
        requested_by=principal.key_id,
        decided_by=None,
        decision_note="",
        created_at=datetime.now(UTC),
        decided_at=None,
    )
    return return_out(conn, _get(conn, return_id))


def approve(conn: Connection, principal: Principal, return_id: str, note: str) -> ReturnOut:
    ret, order = _decidable(conn, principal, return_id)
    serials = repo.serials_of(conn, return_id)
    codes = get_codes(conn, serials)
    held = shipment_repo.custody_of(conn, serials)
    places = {held[s].warehouse_id for s in serials if s in held}
    if any(held.get(s) is None or held[s].holder_id != order.buyer_id for s in serials):
        raise Conflict("some of these cases are no longer held by the buyer", code="not_held")
    if len(places) != 1:
        raise Unprocessable("the cases sit in different warehouses of the buyer; split the return")
    shipment_id = shipments.create_return(
        conn,
        order=order,
        return_id=return_id,
        codes=codes,
        from_party=channel.party(conn, order.buyer_id),
        from_warehouse_id=places.pop(),
        to_warehouse=channel.party(conn, ret.to_warehouse_id, "warehouse"),
        actor=principal.key_id,
    )
    repo.update(
        conn,
        return_id,
        state=APPROVED,
        shipment_id=shipment_id,
        decided_by=principal.key_id,
        decision_note=note,
        decided_at=datetime.now(UTC),
    )
    return return_out(conn, _get(conn, return_id))


def reject(conn: Connection, principal: Principal, return_id: str, note: str) -> ReturnOut:
    _decidable(conn, principal, return_id)
    if not note:
        raise Unprocessable("say why the return is rejected (note)")
    repo.update(
        conn,
        return_id,
        state=REJECTED,
        decided_by=principal.key_id,
        decision_note=note,
        decided_at=datetime.now(UTC),
    )
    return return_out(conn, _get(conn, return_id))


def shipment_moved(conn: Connection, return_id: str, shipment_state: str) -> None:
    """Called by shipments when a return's shipment is dispatched or received."""
    state = IN_TRANSIT if shipment_state == shipments.DISPATCHED else RECEIVED
    repo.update(conn, return_id, state=state)


def get_return(conn: Connection, principal: Principal, return_id: str) -> ReturnOut:
    ret = _get(conn, return_id)
    order_access.check_read(principal, _order(conn, ret.order_id))
    return return_out(conn, ret)


def list_returns(
    conn: Connection, principal: Principal, state: str | None, limit: int
) -> list[ReturnOut]:
    filters = order_access.tenancy(principal)
    if filters is None:
        raise Forbidden(f"a {principal.role.value} has no returns to list")
    return [return_out(conn, r) for r in repo.list_returns(conn, filters, state, limit)]


def return_out(conn: Connection, r: ReturnRow) -> ReturnOut:
    return ReturnOut(
        id=r.return_id,
        order_id=r.order_id,
        state=r.state,
        reason=r.reason,
        codes=repo.serials_of(conn, r.return_id),
        to_warehouse_id=r.to_warehouse_id,
        shipment_id=r.shipment_id,
        decided_by=r.decided_by,
        decision_note=r.decision_note,
        created_at=r.created_at,
        decided_at=r.decided_at,
    )


def _decidable(
    conn: Connection, principal: Principal, return_id: str
) -> tuple[ReturnRow, OrderRow]:
    ret = _get(conn, return_id, for_update=True)
    order = _order(conn, ret.order_id)
    order_access.check_read(principal, order)
    hq_decides = order.kind == "dealer"
    allowed = principal.runs_channel or (
        not hq_decides and order_access.is_seller_side(principal, order)
    )
    if not allowed:
        who = "HQ" if hq_decides else "the selling dealer"
        raise Forbidden(f"returns of order {order.order_id} are accepted or rejected by {who}")
    if ret.state != REQUESTED:
        raise ReturnStateConflict(f"return {return_id} is {ret.state}; it was already decided")
    return ret, order


def _order(conn: Connection, order_id: str) -> OrderRow:
    order = order_repo.get(conn, order_id)
    if order is None:
        raise NotFound(f"no order {order_id!r}")
    return order


def _get(conn: Connection, return_id: str, *, for_update: bool = False) -> ReturnRow:
    ret = repo.get(conn, return_id, for_update=for_update)
    if ret is None:
        raise NotFound(f"no return {return_id!r}")
    return ret
