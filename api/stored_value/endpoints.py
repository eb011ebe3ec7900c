"""HTTP endpoints of stored value: the clerk's operations, promotions and the reports.

Every write takes an ``Idempotency-Key`` header: ``<store id>:<POS transaction number>``.
A retry with the same key and body gets the first answer (with ``Idempotent-Replayed: true``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from api.auth.dependencies import current_principal
from api.auth.service import Principal, Role
from api.deps import get_conn
from api.errors import Forbidden
from api.stored_value import access, operations, promotions, reports
from api.stored_value.context import StoredValueContext, stored_value_context
from api.stored_value.counter import Counter
from api.stored_value.idempotency import HEADER, Replayable, RequestKey, parse_key
from api.stored_value.privacy import MemberKeys
from api.stored_value.rules import Rules
from api.stored_value.schemas import (
    CashRefundIn,
    OperationOut,
    OutstandingOut,
    PromotionIn,
    PromotionOut,
    RefundIn,
    RulesOut,
    SpendIn,
    TopUpIn,
    VoidIn,
    ZReport,
)

router = APIRouter(prefix="/v1/stored-value", tags=["stored value"])

IdempotencyKey = Header(
    None,
    alias=HEADER,
    description="`<store id>:<POS transaction number>`; a retry with the same key and body "
    "returns the first answer, the same key with another body is a 409",
    examples=["st_5e1f0c2a9b7d4e6f8a10:POS1-20261125-000123"],
)
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "not a clerk of this store"},
    404: {"description": "no such member, spend or top-up in this store's programmes"},
    409: {"description": "a rule refused it (cap, balance, refund, void) or the key was reused"},
    410: {"description": "the member was erased"},
    422: {"description": "malformed body or Idempotency-Key"},
}

# The operations module's functions share this shape.
Operation = Callable[
    [Connection, MemberKeys, Rules, Counter, RequestKey, Any], Replayable[OperationOut]
]


def _operate(
    ctx: StoredValueContext,
    principal: Principal,
    header: str | None,
    store_id: str,
    operation: Operation,
    body: Any,
) -> JSONResponse:
    key = parse_key(header, store_id)

    def work(conn: Connection) -> Any:
        counter = access.clerk_counter(conn, principal, store_id)
        return operation(conn, ctx.keys, ctx.rules, counter, key, body)

    return ctx.operate(work)


@router.post(
    "/top-ups", response_model=OperationOut, status_code=201, summary="Top up", responses=ERRORS
)
def top_up(
    body: TopUpIn,
    idempotency_key: str | None = IdempotencyKey,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> JSONResponse:
    """Money in: the paid amount becomes principal; a promotion adds bonus (promotion expense)
    and may hand out a gift (booked as goods promotion, not as stored value). Refused past the
    card's cap, or without real-name details at or above the real-name purchase threshold."""
    return _operate(ctx, principal, idempotency_key, body.store_id, operations.top_up, body)


@router.post(
    "/spends", response_model=OperationOut, status_code=201, summary="Spend", responses=ERRORS
)
def spend(
    body: SpendIn,
    idempotency_key: str | None = IdempotencyKey,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> JSONResponse:
    """Pay for goods from the card. Principal and bonus are drawn in proportion to the card's
    current split (the bonus part rounded up); never more than the balance."""
    return _operate(ctx, principal, idempotency_key, body.store_id, operations.spend, body)


@router.post(
    "/refunds",
    response_model=OperationOut,
    status_code=201,
    summary="Refund a spend",
    responses=ERRORS,
)
def refund(
    body: RefundIn,
    idempotency_key: str | None = IdempotencyKey,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> JSONResponse:
    """Goods returned: value goes back to the card in the spend's own principal : bonus split,
    at the store of the sale; all refunds of a spend together never exceed it."""
    return _operate(ctx, principal, idempotency_key, body.store_id, operations.refund, body)


@router.post(
    "/cash-refunds",
    response_model=OperationOut,
    status_code=201,
    summary="Pay out the balance",
    responses=ERRORS,
)
def cash_refund(
    body: CashRefundIn,
    idempotency_key: str | None = IdempotencyKey,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> JSONResponse:
    """The member leaves: the remaining balance × paid ÷ (paid + bonus) is paid out (that is
    the unspent principal), the remaining bonus lapses."""
    return _operate(ctx, principal, idempotency_key, body.store_id, operations.cash_refund, body)


@router.post(
    "/voids",
    response_model=OperationOut,
    status_code=201,
    summary="Void a top-up (same day, unused)",
    responses=ERRORS,
)
def void(
    body: VoidIn,
    idempotency_key: str | None = IdempotencyKey,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> JSONResponse:
    """Undo a top-up made at this store today (Asia/Shanghai) when nothing was spent or paid
    out from the card since: the exact reverse entry, gift included (it comes back)."""
    return _operate(ctx, principal, idempotency_key, body.store_id, operations.void, body)


@router.get("/operations/{journal_id}", response_model=OperationOut, summary="One operation")
def get_operation(
    journal_id: str,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
    conn: Connection = Depends(get_conn, scope="function"),
) -> OperationOut:
    found = reports.journal_row(conn, journal_id)
    member = access.readable_member(conn, principal, found.member_id)
    return reports.operation(conn, ctx.rules, journal_id, member.real_name)


@router.get("/stores/{store_id}/z-report", response_model=ZReport, summary="A store's day")
def z_report(
    store_id: str,
    day: date | None = Query(None, description="YYYY-MM-DD in Asia/Shanghai; default today"),
    principal: Principal = Depends(current_principal),
    conn: Connection = Depends(get_conn, scope="function"),
) -> ZReport:
    """Operations and the books they moved at this store's counter on one business day:
    the daily reconciliation of the drawer and the payment providers' settlements."""
    access.readable_party(conn, principal, store_id, ("store",))
    return reports.z_report(conn, store_id, day or reports.today())


@router.get(
    "/outstanding", response_model=OutstandingOut, summary="What each issuer owes its members"
)
def outstanding(
    issuer_id: str | None = Query(None, description="one store or dealer; default all you see"),
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
    conn: Connection = Depends(get_conn, scope="function"),
) -> OutstandingOut:
    """Per issuer (a store, or a dealer running a chain programme): the stored value owed now
    and the custody it requires (custody_permille of it)."""
    if issuer_id is not None:
        access.readable_party(conn, principal, issuer_id, ("store", "dealer"))
        return reports.outstanding(conn, ctx.rules, [issuer_id])
    return reports.outstanding(conn, ctx.rules, access.readable_issuers(conn, principal))


@router.get("/rules", response_model=RulesOut, summary="The card rules in force")
def card_rules(ctx: StoredValueContext = Depends(stored_value_context)) -> RulesOut:
    r = ctx.rules
    return RulesOut(
        named_cap_fen=r.named_cap_fen,
        anonymous_cap_fen=r.anonymous_cap_fen,
        real_name_purchase_fen=r.real_name_purchase_fen,
        non_cash_purchase_fen=r.non_cash_purchase_fen,
        cap_counts_bonus=r.cap_counts_bonus,
        custody_permille=r.custody_permille,
        spend_order="pro rata: principal and bonus in proportion to the card's current split, "
        "the bonus part rounded up",
        cash_refund="remaining balance × paid ÷ (paid + bonus) = the unspent principal; the "
        "unspent bonus lapses",
    )


@router.post(
    "/promotions", response_model=PromotionOut, status_code=201, summary="Create a promotion"
)
def create_promotion(
    body: PromotionIn,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> PromotionOut:
    """HQ, a region manager or the dealer's staff offer a top-up promotion for a store or for
    all of a dealer's stores; clerks then name it in a top-up."""
    return ctx.run(lambda conn: promotions.create(conn, principal, body))


@router.get("/promotions", response_model=list[PromotionOut], summary="Promotions of a store")
def list_promotions(
    owner_id: str = Query(description="a store (its own and its dealer's) or a dealer"),
    principal: Principal = Depends(current_principal),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[PromotionOut]:
    if principal.role in (Role.WRITER, Role.DEVICE):
        raise Forbidden("promotions are for the channel's people")
    return promotions.listed(conn, principal, owner_id)


@router.post(
    "/promotions/{promotion_id}/end", response_model=PromotionOut, summary="End a promotion"
)
def end_promotion(
    promotion_id: str,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> PromotionOut:
    return ctx.run(lambda conn: promotions.retire(conn, principal, promotion_id))
