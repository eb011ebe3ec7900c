"""Authentication dependencies for endpoints."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.auth.service import Principal, Role, authenticate
from api.deps import get_db
from api.errors import Unauthorized

_bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer jy_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def current_principal(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),
    header: str | None = Depends(_header),
) -> Principal:
    token = bearer.credentials if bearer is not None else header
    if not token:
        raise Unauthorized(
            "this endpoint needs an API key (Authorization: Bearer <key> or X-API-Key)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with get_db(request).engine.begin() as conn:
        return authenticate(conn, token)


def require_role(*roles: Role) -> Callable[..., Principal]:
    def dependency(principal: Principal = Depends(current_principal)) -> Principal:
        principal.require(*roles)
        return principal

    return dependency
