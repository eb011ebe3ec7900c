"""API keys and the principal model.

API keys: ``jy_<key id>_<secret>``; the secret has 256 bits of entropy and only its SHA-256
is stored, so a stolen database does not yield usable keys (a slow hash adds nothing at that
entropy, and would cost every request). People log in with a password and get a bearer token
(``api.auth.users``); both end as a :class:`Principal` with a role and, for the roles that act
for one party, that party's id as ``scope``.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from hashlib import sha256
from typing import Literal

from sqlalchemy import Connection

from api.auth import repository as repo
from api.errors import Forbidden, Unauthorized, Unprocessable


class Role(StrEnum):
    """``writer`` appends to the log; ``admin`` (a machine key) may do everything.

    The channel's people: ``hq_admin`` runs the channel; ``region_manager`` acts for one region,
    ``dealer_staff`` for one dealer, ``store_clerk`` for one store; ``compliance_officer`` reads
    and audits everything and writes nothing; ``device`` is a scanner key of one warehouse.
    """

    WRITER = "writer"
    ADMIN = "admin"
    HQ_ADMIN = "hq_admin"
    REGION_MANAGER = "region_manager"
    DEALER_STAFF = "dealer_staff"
    STORE_CLERK = "store_clerk"
    COMPLIANCE_OFFICER = "compliance_officer"
    DEVICE = "device"


# The kind of party each scoped role acts for; the other roles take no scope.
SCOPE_KIND: dict[Role, str] = {
    Role.REGION_MANAGER: "region",
    Role.DEALER_STAFF: "dealer",
    Role.STORE_CLERK: "store",
    Role.DEVICE: "warehouse",
}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an API key (``key_id``) or a user (``key_id`` is the user id)."""

    key_id: str
    role: Role
    scope: str | None = None
    kind: Literal["api_key", "user"] = "api_key"

    def require(self, *roles: Role) -> None:
        if self.role is not Role.ADMIN and self.role not in roles:
            wanted = " or ".join(r.value for r in roles)
            who = "this API key" if self.kind == "api_key" else "your account"
            raise Forbidden(f"{who} has role {self.role.value}; this needs {wanted}")

    @property
    def sees_everything(self) -> bool:
        """Channel-wide readers: the admins and compliance."""
        return self.role in (Role.ADMIN, Role.HQ_ADMIN, Role.COMPLIANCE_OFFICER)

    @property
    def runs_channel(self) -> bool:
        """Channel-wide writers."""
        return self.role in (Role.ADMIN, Role.HQ_ADMIN)


def parse_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise Unprocessable(f"unknown role {role!r}; choose one of {allowed}") from None


def check_scope(conn: Connection, role: Role, scope: str | None) -> str | None:
    """The scope a principal of ``role`` must carry: a party of the matching kind, or none."""
    from api.channel import repository as parties

    kind = SCOPE_KIND.get(role)
    if kind is None:
        if scope is not None:
            raise Unprocessable(f"role {role.value} is channel-wide and takes no scope")
        return None
    if not scope:
        raise Unprocessable(f"role {role.value} needs a scope: the id of its {kind}")
    party = parties.get_party(conn, scope)
    if party is None or party.kind != kind:
        raise Unprocessable(f"scope {scope!r} is not a {kind}; role {role.value} acts for a {kind}")
    return scope


def create_api_key(conn: Connection, role: str, name: str, scope: str | None = None) -> str:
    """Create a key and return its full text (shown once, never stored)."""
    parsed = parse_role(role)
    if parsed not in (Role.WRITER, Role.ADMIN, Role.DEVICE):
        raise Unprocessable(
            f"API keys are for machines (writer, admin, device); {parsed.value} is a person's "
            "role: create a user with `jiuyuan users create`"
        )
    checked = check_scope(conn, parsed, scope)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    repo.insert_key(conn, key_id, _digest(secret), parsed.value, name, datetime.now(UTC), checked)
    return f"jy_{key_id}_{secret}"


def authenticate(conn: Connection, token: str) -> Principal:
    prefix, _, rest = token.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != "jy" or not key_id or not secret:
        raise Unauthorized("malformed API key; expected jy_<id>_<secret>")
    found = repo.find_active(conn, key_id)
    if found is None or not hmac.compare_digest(found[0], _digest(secret)):
        raise Unauthorized("unknown or revoked API key")
    return Principal(key_id, Role(found[1]), found[2])


def _digest(secret: str) -> bytes:
    return sha256(secret.encode()).digest()
