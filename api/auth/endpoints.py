"""HTTP endpoints for logging in and managing people's accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import Connection

from api.auth import repository as repo
from api.auth import users
from api.auth.dependencies import current_principal, token_issuer
from api.auth.models import User
from api.auth.schemas import PrincipalOut, TokenOut, UserIn, UserOut
from api.auth.service import Principal, Role
from api.auth.tokens import TokenIssuer
from api.channel.transactions import writing
from api.deps import get_conn
from api.errors import AppError

router = APIRouter(prefix="/v1", tags=["auth"])


class BadGrant(AppError):
    status_code = 400
    code = "unsupported_grant_type"


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Log in (OAuth2 password flow)",
    responses={401: {"description": "wrong username or password"}},
)
def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    conn: Connection = Depends(get_conn, scope="function"),
    issuer: TokenIssuer = Depends(token_issuer),
) -> TokenOut:
    """Send `username`, `password` (and `grant_type=password`) as a form; use the returned
    `access_token` as `Authorization: Bearer <token>`."""
    if form.grant_type not in (None, "password"):
        raise BadGrant("only grant_type=password is supported")
    user = users.login(conn, form.username, form.password)
    token = issuer.issue(user.user_id, user.role, user.scope)
    return TokenOut(
        access_token=token, expires_in=issuer.lifetime_s, role=user.role, scope=user.scope
    )


@router.get("/auth/me", response_model=PrincipalOut, summary="Who am I")
def me(principal: Principal = Depends(current_principal)) -> PrincipalOut:
    return PrincipalOut(
        id=principal.key_id, kind=principal.kind, role=principal.role, scope=principal.scope
    )


@router.post("/users", response_model=UserOut, status_code=201, summary="Create an account")
def create_user(
    request: Request,
    body: UserIn,
    principal: Principal = Depends(current_principal),
) -> UserOut:
    """HQ creates any account; a region manager creates dealer staff and store clerks in its
    region; dealer staff create clerks of their own stores."""
    principal.require(Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER_STAFF)
    with writing(request) as conn:
        user = users.create_user(
            conn,
            body.username,
            body.role,
            body.password,
            scope=body.scope,
            display_name=body.display_name,
            creator=principal,
        )
    return _out(user)


@router.get("/users", response_model=list[UserOut], summary="List accounts")
def list_users(
    after: str | None = Query(None, description="username to continue after"),
    limit: int = Query(100, ge=1, le=1000),
    principal: Principal = Depends(current_principal),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[UserOut]:
    """HQ and compliance see every account; others see the accounts scoped to their own party."""
    principal.require(
        Role.HQ_ADMIN, Role.COMPLIANCE_OFFICER, Role.REGION_MANAGER, Role.DEALER_STAFF
    )
    scopes = None if principal.sees_everything else [principal.scope or ""]
    return [_out(u) for u in repo.list_users(conn, scopes, limit, after)]


def _out(user: User) -> UserOut:
    return UserOut(
        id=user.user_id,
        username=user.username,
        role=user.role,
        scope=user.scope,
        display_name=user.display_name,
        created_at=user.created_at,
        disabled=user.disabled_at is not None,
    )
