"""API keys: ``jy_<key id>_<secret>``; the secret has 256 bits of entropy and only its SHA-256
is stored, so a stolen database does not yield usable keys (a slow hash adds nothing at that
entropy, and would cost every request)."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from hashlib import sha256

from sqlalchemy import Connection

from api.auth import repository as repo
from api.errors import Forbidden, Unauthorized, Unprocessable


class Role(StrEnum):
    """Machine roles. ``writer`` appends to the log; ``admin`` may do everything."""

    WRITER = "writer"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    key_id: str
    role: Role

    def require(self, *roles: Role) -> None:
        if self.role is not Role.ADMIN and self.role not in roles:
            wanted = " or ".join(r.value for r in roles)
            raise Forbidden(f"this API key has role {self.role.value}; this needs {wanted}")


def create_api_key(conn: Connection, role: str, name: str) -> str:
    """Create a key and return its full text (shown once, never stored)."""
    try:
        parsed = Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise Unprocessable(f"unknown role {role!r}; choose one of {allowed}") from None
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    repo.insert_key(conn, key_id, _digest(secret), parsed.value, name, datetime.now(UTC))
    return f"jy_{key_id}_{secret}"


def authenticate(conn: Connection, token: str) -> Principal:
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != "jy" or not key_id or not secret:
        raise Unauthorized("malformed API key; expected jy_<id>_<secret>")
    found = repo.find_active(conn, key_id)
    if found is None or not hmac.compare_digest(found[0], _digest(secret)):
        raise Unauthorized("unknown or revoked API key")
    return Principal(key_id, Role(found[1]))


def _digest(secret: str) -> bytes:
    return sha256(secret.encode()).digest()
