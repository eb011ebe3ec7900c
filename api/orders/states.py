"""The order life cycle.

submitted → confirmed → allocated → shipped → received → closed, or cancelled before
anything has left a warehouse. Stock is reserved at submission (so a submitted order can
always be served), handed to shipments at allocation, and leaves at dispatch.
"""

from __future__ import annotations

from api.errors import Conflict

SUBMITTED = "submitted"
CONFIRMED = "confirmed"
ALLOCATED = "allocated"
SHIPPED = "shipped"
RECEIVED = "received"
CLOSED = "closed"
CANCELLED = "cancelled"

NEXT: dict[str, frozenset[str]] = {
    SUBMITTED: frozenset({CONFIRMED, CANCELLED}),
    CONFIRMED: frozenset({ALLOCATED, CANCELLED}),
    ALLOCATED: frozenset({SHIPPED, CANCELLED}),
    SHIPPED: frozenset({RECEIVED}),
    RECEIVED: frozenset({CLOSED}),
    CLOSED: frozenset(),
    CANCELLED: frozenset(),
}

OPEN = (SUBMITTED, CONFIRMED, ALLOCATED, SHIPPED, RECEIVED)
"""States in which an order still counts against the buyer's credit limit."""


class InvalidTransition(Conflict):
    code = "invalid_state"


def check(order_id: str, current: str, wanted: str) -> None:
    if wanted not in NEXT[current]:
        allowed = ", ".join(sorted(NEXT[current])) or "nothing (it is final)"
        raise InvalidTransition(
            f"order {order_id} is {current}; it cannot become {wanted} (next: {allowed})"
        )
