"""HTTP endpoints of members: the clerk's (register, look up, real name, erase) and the
member's own (``/v1/members/me…`` with the member token as ``Authorization: Bearer mt.…``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection

from api.auth.dependencies import current_principal
from api.auth.service import Principal
from api.deps import get_conn
from api.errors import Unauthorized
from api.stored_value import access, members, reports
from api.stored_value.context import StoredValueContext, stored_value_context
from api.stored_value.endpoints import ERRORS, IdempotencyKey
from api.stored_value.idempotency import parse_key
from api.stored_value.member_repository import MemberRow
from api.stored_value.schemas import (
    ErasedOut,
    HistoryOut,
    IdentityProof,
    LookupIn,
    MemberCreated,
    MemberIn,
    MemberOut,
    MemberTokenOut,
    QrOut,
    RealNameIn,
    StoreRef,
)

router = APIRouter(prefix="/v1/members", tags=["members"])

_member_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="MemberToken",
    description="the member token (`mt.…`) the store handed the member",
)
HistoryLimit = Query(50, ge=1, le=500)
Before = Query(None, description="a journal id from next_before: lines older than it")


def current_member(
    bearer: HTTPAuthorizationCredentials | None = Depends(_member_bearer),
    ctx: StoredValueContext = Depends(stored_value_context),
    conn: Connection = Depends(get_conn, scope="function"),
) -> MemberRow:
    if bearer is None or not bearer.credentials.startswith("mt."):
        raise Unauthorized(
            "send your member token: Authorization: Bearer mt.…",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return access.member_from_token(conn, ctx.keys, bearer.credentials)


# --- the member's own ------------------------------------------------------------------------


@router.get("/me", response_model=MemberOut, summary="My card")
def me(
    member: MemberRow = Depends(current_member),
    ctx: StoredValueContext = Depends(stored_value_context),
    conn: Connection = Depends(get_conn, scope="function"),
) -> MemberOut:
    return members.view(conn, ctx.keys, ctx.rules, member.member_id)


@router.get("/me/history", response_model=HistoryOut, summary="My history")
def my_history(
    limit: int = HistoryLimit,
    before: str | None = Before,
    member: MemberRow = Depends(current_member),
    ctx: StoredValueContext = Depends(stored_value_context),
    conn: Connection = Depends(get_conn, scope="function"),
) -> HistoryOut:
    """Newest first; each line names its ledger entry (`ledger_seq`), whose inclusion proof
    `GET /v1/entries/{seq}?proof=true` gives against a signed checkpoint."""
    return reports.history(conn, ctx.rules, member, limit=limit, before=before)


@router.get("/me/qr", response_model=QrOut, summary="A QR code for the counter")
def my_qr(
    member: MemberRow = Depends(current_member),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> QrOut:
    """Short-lived (`member_qr_lifetime_s`, default 60 s) and new on every call; the clerk scans
    it instead of asking for the phone number."""
    return members.qr(ctx.keys, member.member_id, ctx.settings.member_qr_lifetime_s)


@router.get("/me/identity-proof", response_model=IdentityProof, summary="Open my commitments")
def my_identity_proof(
    member: MemberRow = Depends(current_member),
    ctx: StoredValueContext = Depends(stored_value_context),
    conn: Connection = Depends(get_conn, scope="function"),
) -> IdentityProof:
    """Your phone, name and ID as stored, with the salt that opens the commitments to them in
    your `member.registered` / `member.real_name` ledger entries."""
    return members.identity_proof(conn, ctx.keys, member.member_id)


@router.post("/me/erasure", response_model=ErasedOut, summary="Erase me (PIPL)")
def erase_me(
    member: MemberRow = Depends(current_member),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> ErasedOut:
    """Deletes your phone, name, ID number and the salt of their commitments; the card must be
    empty (ask the store for a cash refund first). Your token stops working."""
    return ctx.run(
        lambda conn: members.erase(conn, ctx.keys, member.member_id, datetime.now(UTC), None)
    )


# --- the clerk's -----------------------------------------------------------------------------


@router.post(
    "",
    response_model=MemberCreated,
    status_code=201,
    summary="Register a member",
    responses=ERRORS,
)
def register(
    body: MemberIn,
    idempotency_key: str | None = IdempotencyKey,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> JSONResponse:
    """The phone number is the identity (stored encrypted, found by keyed hash); name and ID
    number make it a real-name card. The answer carries the member token for the member."""
    key = parse_key(idempotency_key, body.store_id)

    def work(conn: Connection) -> Any:
        counter = access.clerk_counter(conn, principal, body.store_id)
        return members.register(conn, ctx.keys, ctx.rules, counter, key, body)

    return ctx.write(work)


@router.post("/lookup", response_model=MemberOut, summary="Find a member at the counter")
def lookup(
    body: LookupIn,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
    conn: Connection = Depends(get_conn, scope="function"),
) -> MemberOut:
    """By the member's QR code, or by phone number (sent in the body, never in a URL)."""
    counter = access.clerk_counter(conn, principal, body.store_id)
    return members.lookup(conn, ctx.keys, ctx.rules, counter, body)


@router.get("/{member_id}", response_model=MemberOut, summary="A member's card")
def get_member(
    member_id: str,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
    conn: Connection = Depends(get_conn, scope="function"),
) -> MemberOut:
    access.readable_member(conn, principal, member_id)
    return members.view(conn, ctx.keys, ctx.rules, member_id)


@router.get("/{member_id}/history", response_model=HistoryOut, summary="A member's history")
def history(
    member_id: str,
    limit: int = HistoryLimit,
    before: str | None = Before,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
    conn: Connection = Depends(get_conn, scope="function"),
) -> HistoryOut:
    member = access.readable_member(conn, principal, member_id)
    return reports.history(conn, ctx.rules, member, limit=limit, before=before)


@router.put(
    "/{member_id}/real-name",
    response_model=MemberOut,
    summary="Record real-name details",
    responses=ERRORS,
)
def set_real_name(
    member_id: str,
    body: RealNameIn,
    idempotency_key: str | None = IdempotencyKey,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> JSONResponse:
    """Name and resident ID number (check digit verified): the card becomes a real-name card
    with the higher cap. The ledger gets new commitments, never the values."""
    key = parse_key(idempotency_key, body.store_id)

    def work(conn: Connection) -> Any:
        counter = access.clerk_counter(conn, principal, body.store_id)
        return members.set_real_name(conn, ctx.keys, ctx.rules, counter, key, member_id, body)

    return ctx.write(work)


@router.post(
    "/{member_id}/token",
    response_model=MemberTokenOut,
    status_code=201,
    summary="Issue a new member token",
    responses=ERRORS,
)
def reissue_token(
    member_id: str,
    body: StoreRef,
    idempotency_key: str | None = IdempotencyKey,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> JSONResponse:
    """For a lost or shared phone: every earlier token of the member stops working."""
    key = parse_key(idempotency_key, body.store_id)

    def work(conn: Connection) -> Any:
        counter = access.clerk_counter(conn, principal, body.store_id)
        return members.reissue_token(conn, ctx.keys, counter, key, member_id)

    return ctx.write(work)


@router.post("/{member_id}/erasure", response_model=ErasedOut, summary="Erase a member (PIPL)")
def erase(
    member_id: str,
    body: StoreRef,
    idempotency_key: str | None = IdempotencyKey,
    principal: Principal = Depends(current_principal),
    ctx: StoredValueContext = Depends(stored_value_context),
) -> ErasedOut:
    """On the member's request at the counter. The card must be empty. Deletes phone, name,
    ID number and the commitments' salt; the books keep the pseudonymous amounts. Erasing an
    erased member answers as the first time."""
    parse_key(idempotency_key, body.store_id)

    def work(conn: Connection) -> ErasedOut:
        counter = access.clerk_counter(conn, principal, body.store_id)
        members.member_here_or_erased(conn, counter, member_id)
        return members.erase(conn, ctx.keys, member_id, datetime.now(UTC), body.store_id)

    return ctx.run(work)
