"""HTTP endpoints for returns."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection

from api.auth.service import Principal
from api.channel.endpoints import channel_member
from api.channel.transactions import writing
from api.deps import get_conn, one_of
from api.returns import service
from api.returns.schemas import Decision, ReturnIn, ReturnOut

router = APIRouter(prefix="/v1", tags=["returns"])


@router.post("/returns", response_model=ReturnOut, status_code=201, summary="Ask to return cases")
def request_return(
    request: Request,
    body: ReturnIn,
    principal: Principal = Depends(channel_member),
) -> ReturnOut:
    """The buyer of a delivered order lists the case codes it wants to send back."""
    with writing(request) as conn:
        return service.request(conn, principal, body)


@router.get("/returns", response_model=list[ReturnOut], summary="Returns you may see")
def list_returns(
    state: str | None = Query(
        None,
        examples=["requested"],
        pattern=one_of(service.STATES),
    ),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[ReturnOut]:
    return service.list_returns(conn, principal, state, limit)


@router.get("/returns/{return_id}", response_model=ReturnOut, summary="One return")
def get_return(
    return_id: str,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> ReturnOut:
    return service.get_return(conn, principal, return_id)


@router.post("/returns/{return_id}/approve", response_model=ReturnOut, summary="Accept a return")
def approve(
    request: Request,
    return_id: str,
    body: Decision | None = None,
    principal: Principal = Depends(channel_member),
) -> ReturnOut:
    """HQ accepts returns of dealers' orders (the dealer, of its stores'); this creates the
    return shipment, which the region dispatches and receives."""
    with writing(request) as conn:
        return service.approve(conn, principal, return_id, (body or Decision()).note)


@router.post("/returns/{return_id}/reject", response_model=ReturnOut, summary="Reject a return")
def reject(
    request: Request,
    return_id: str,
    body: Decision,
    principal: Principal = Depends(channel_member),
) -> ReturnOut:
    with writing(request) as conn:
        return service.reject(conn, principal, return_id, body.note)
