"""Who may see a shipment, scan at its warehouse, or receive it."""

from __future__ import annotations

from api.auth.service import Principal, Role
from api.channel.repository import PartyRow
from api.errors import Forbidden
from api.shipments.repository import ShipmentRow


def tenancy(principal: Principal) -> dict[str, str] | None:
    if principal.sees_everything:
        return {}
    column = {
        Role.REGION_MANAGER: "region_id",
        Role.DEALER_STAFF: "dealer_id",
        Role.STORE_CLERK: "store_id",
    }.get(principal.role)
    if column is None or principal.scope is None:
        return None
    return {column: principal.scope}


def can_read(principal: Principal, s: ShipmentRow) -> bool:
    if principal.role is Role.DEVICE:
        return principal.scope in (s.from_warehouse_id, s.to_warehouse_id)
    filters = tenancy(principal)
    if filters is None:
        return False
    return all(getattr(s, column) == value for column, value in filters.items())


def can_operate(principal: Principal, warehouse: PartyRow) -> bool:
    """Scan cases in or out of ``warehouse``: its devices, its owner's staff, the region."""
    if principal.runs_channel:
        return True
    match principal.role:
        case Role.DEVICE:
            return principal.scope == warehouse.party_id
        case Role.DEALER_STAFF:
            return warehouse.dealer_id is not None and principal.scope == warehouse.dealer_id
        case Role.REGION_MANAGER:
            return principal.scope == warehouse.region_id
        case _:
            return False


def can_receive_at_store(principal: Principal, store: PartyRow) -> bool:
    if principal.runs_channel:
        return True
    if principal.role is Role.STORE_CLERK:
        return principal.scope == store.party_id
    if principal.role is Role.DEALER_STAFF:
        return principal.scope == store.dealer_id
    return False


def check_read(principal: Principal, s: ShipmentRow) -> ShipmentRow:
    if not can_read(principal, s):
        raise Forbidden(f"shipment {s.shipment_id} is outside your scope")
    return s
