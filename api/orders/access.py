"""Who may see an order, act as its buyer, or act as its seller."""

from __future__ import annotations

from api.auth.service import Principal, Role
from api.errors import Forbidden
from api.orders.repository import OrderRow


def tenancy(principal: Principal) -> dict[str, str] | None:
    """Column filters for listing orders; None when the principal may list none."""
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


def can_read(principal: Principal, order: OrderRow) -> bool:
    filters = tenancy(principal)
    if filters is None:
        return False
    return all(getattr(order, column) == value for column, value in filters.items())


def is_buyer_side(principal: Principal, order: OrderRow) -> bool:
    if principal.runs_channel:
        return True
    if order.kind == "dealer":
        return principal.role is Role.DEALER_STAFF and principal.scope == order.buyer_id
    return principal.role is Role.STORE_CLERK and principal.scope == order.buyer_id


def is_seller_side(principal: Principal, order: OrderRow) -> bool:
    if principal.runs_channel:
        return True
    if principal.role is Role.REGION_MANAGER:
        return principal.scope == order.region_id
    if order.kind == "store":
        return principal.role is Role.DEALER_STAFF and principal.scope == order.seller_id
    return False


def check_read(principal: Principal, order: OrderRow) -> OrderRow:
    if not can_read(principal, order):
        raise Forbidden(f"order {order.order_id} is outside your scope")
    return order


def check_seller(principal: Principal, order: OrderRow, action: str) -> None:
    check_read(principal, order)
    if not is_seller_side(principal, order):
        seller = "HQ or the region's manager" if order.kind == "dealer" else "the dealer"
        raise Forbidden(f"only {seller} may {action} order {order.order_id}")
