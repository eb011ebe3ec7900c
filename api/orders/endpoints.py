"""HTTP endpoints for orders (rules in the service)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import Connection

from api.auth.service import Principal
from api.channel.endpoints import channel_member
from api.channel.transactions import writing
from api.config import Settings
from api.deps import get_app_settings, get_conn, one_of
from api.orders import service, states
from api.orders.schemas import OrderIn, OrderOut, OrderSummary, Reason

router = APIRouter(prefix="/v1", tags=["orders"])


@router.post(
    "/orders",
    response_model=OrderOut,
    status_code=201,
    summary="Place an order (validate, price, reserve, source)",
    responses={
        200: {"description": "a repeat of an earlier submission (same client_key and body)"},
        403: {"description": "ordering for a party you do not act for"},
        409: {"description": "not enough stock, or client_key reused with a different body"},
        422: {"description": "unknown SKU, bad quantity, not on the price list, over credit"},
    },
)
def place_order(
    request: Request,
    body: OrderIn,
    response: Response,
    principal: Principal = Depends(channel_member),
    settings: Settings = Depends(get_app_settings),
) -> OrderOut:
    """A dealer's staff order from HQ; a store's clerks from the store's dealer (its B2B
    storefront). Stock is reserved at once; each line's allocation says which warehouse
    serves it and why. Resubmitting the same `client_key` returns the original order (200)."""
    with writing(request) as conn:
        order, created = service.place(
            conn, principal, body, settings.sourcing_policy, settings.stock_share_permille
        )
    if not created:
        response.status_code = 200
    return order


@router.get("/orders", response_model=list[OrderSummary], summary="Orders you may see")
def list_orders(
    state: str | None = Query(None, examples=["submitted"], pattern=one_of(states.NEXT)),
    kind: str | None = Query(
        None,
        description="dealer (to HQ) or store (to a dealer)",
        pattern=one_of(("dealer", "store")),
    ),
    after: str | None = Query(None, description="order id to continue after"),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[OrderSummary]:
    return service.list_orders(conn, principal, state=state, kind=kind, after=after, limit=limit)


@router.get("/orders/{order_id}", response_model=OrderOut, summary="One order")
def get_order(
    order_id: str,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> OrderOut:
    return service.get_order(conn, principal, order_id)


def _action(name: str, doc: str):  # type: ignore[no-untyped-def]
    action = getattr(service, name)

    def endpoint(
        request: Request,
        order_id: str,
        body: Reason | None = None,
        principal: Principal = Depends(channel_member),
    ) -> OrderOut:
        with writing(request) as conn:
            return action(conn, principal, order_id, (body or Reason()).reason)  # type: ignore[no-any-return]

    endpoint.__doc__ = doc
    endpoint.__name__ = f"{name}_order"
    router.add_api_route(
        f"/orders/{{order_id}}/{name}",
        endpoint,
        methods=["POST"],
        response_model=OrderOut,
        summary=doc.split(".")[0],
        responses={409: {"description": "not allowed in the order's current state"}},
    )


_action(
    "confirm", "Confirm a submitted order (the seller: HQ or the region; for stores, the dealer)."
)
_action("allocate", "Release a confirmed order to its warehouses: one shipment per warehouse.")
_action("cancel", "Cancel an order. The buyer until confirmation; the seller until dispatch.")
_action("close", "Close a received order.")
