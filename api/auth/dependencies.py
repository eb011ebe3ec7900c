"""Authentication dependencies for endpoints.

One ``Authorization: Bearer`` header carries either an API key (``jy_…``, machines) or a
JWT from ``POST /v1/auth/token`` (people); ``X-API-Key`` is also accepted for keys.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.auth.service import Principal, Role, authenticate
from api.auth.tokens import TokenIssuer, issuer_for
from api.auth.users import principal_from_token
from api.config import Settings
from api.deps import get_db
from api.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(
    auto_error=False,
    description="API key (`jy_...`) or a bearer token from `POST /v1/auth/token`",
)
_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def token_issuer(request: Request) -> TokenIssuer:
    settings: Settings = request.app.state.settings
    return issuer_for(settings.resolved_token_secret_file, settings.token_lifetime_s)


def current_principal(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
    header: str | None = Depends(_header),
) -> Principal:
    token = bearer.credentials if bearer is not None else header
    if not token:
        raise Unauthorized(
            "this endpoint needs credentials: Authorization: Bearer <token from "
            "POST /v1/auth/token, or an API key>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with get_db(request).engine.begin() as conn:
        if token.startswith("jy_"):
            return authenticate(conn, token)
        return principal_from_token(conn, token_issuer(request), token)


def require_role(*roles: Role) -> Callable[..., Principal]:
    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        principal.require(*roles)
        return principal

    return dependency


def require_scope(role: Role, param: str) -> Callable[..., Principal]:
    """A principal of ``role`` whose scope is the path parameter ``param``; HQ admins pass.

    For example ``require_scope(Role.STORE_CLERK, "store_id")`` on
    ``/v1/stores/{store_id}/...`` lets in the clerks of that store (and HQ), nobody else.
    """

    def dependency(
        request: Request, principal: Principal = Depends(current_principal)
    ) -> Principal:
        principal.require(role, Role.HQ_ADMIN)
        if principal.runs_channel:
            return principal
        wanted = request.path_params.get(param)
        if principal.scope != wanted:
            raise Forbidden(f"you act for {principal.scope}, not {wanted}")
        return principal

    return dependency


store_clerk_of = require_scope(Role.STORE_CLERK, "store_id")
"""Dependency: a clerk of the store named by the ``{store_id}`` path parameter (or HQ)."""
