"""People: creation (who may create whom), password login, and bearer-token principals."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from sqlalchemy import Connection

from api.auth import repository as repo
from api.auth.models import User
from api.auth.passwords import MIN_PASSWORD_LENGTH, hash_password, needs_rehash, verify_password
from api.auth.service import Principal, Role, check_scope, parse_role
from api.auth.tokens import TokenIssuer
from api.errors import Conflict, Forbidden, Unauthorized, Unprocessable

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
PEOPLE = (
    Role.HQ_ADMIN,
    Role.REGION_MANAGER,
    Role.DEALER_STAFF,
    Role.STORE_CLERK,
    Role.COMPLIANCE_OFFICER,
)

# Who may create accounts of which roles below the HQ (always inside their own scope).
_DELEGATES: dict[Role, tuple[Role, ...]] = {
    Role.REGION_MANAGER: (Role.DEALER_STAFF, Role.STORE_CLERK),
    Role.DEALER_STAFF: (Role.STORE_CLERK,),
}


def create_user(
    conn: Connection,
    username: str,
    role: str,
    password: str,
    *,
    scope: str | None = None,
    display_name: str | None = None,
    creator: Principal | None = None,
) -> User:
    """Create a person's account; ``creator`` None means the command line (trusted)."""
    parsed = parse_role(role)
    if parsed not in PEOPLE:
        allowed = ", ".join(r.value for r in PEOPLE)
        raise Unprocessable(
            f"{parsed.value} is a machine role (use `jiuyuan keys api-key`); people are {allowed}"
        )
    if not USERNAME.match(username):
        raise Unprocessable(
            "username must be 3-64 characters of a-z, 0-9, '.', '_' or '-', starting with a "
            "letter or digit"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    checked = check_scope(conn, parsed, scope)
    if creator is not None:
        _check_delegation(conn, creator, parsed, checked)
    if repo.user_by_name(conn, username) is not None:
        raise Conflict(f"username {username!r} is taken")
    values = {
        "user_id": f"usr_{secrets.token_hex(10)}",
        "username": username,
        "password_hash": hash_password(password),
        "role": parsed.value,
        "scope": checked,
        "display_name": display_name or username,
        "created_at": datetime.now(UTC),
        "disabled_at": None,
    }
    repo.insert_user(conn, **values)
    return User(**values)


def _check_delegation(conn: Connection, creator: Principal, role: Role, scope: str | None) -> None:
    if creator.runs_channel:
        return
    from api.channel import access
    from api.channel import repository as parties

    if role not in _DELEGATES.get(creator.role, ()):
        raise Forbidden(f"a {creator.role.value} may not create {role.value} accounts")
    target = parties.get_party(conn, scope or "")
    if target is None or not access.in_scope(creator, target):
        raise Forbidden(f"{scope} is outside your scope")


def login(conn: Connection, username: str, password: str) -> User:
    """The user whose password this is; the same error whether the name or password is wrong."""
    user = repo.user_by_name(conn, username)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or user.disabled_at is not None:
        raise Unauthorized("wrong username or password, or the account is disabled")
    if needs_rehash(user.password_hash):
        repo.set_password_hash(conn, user.user_id, hash_password(password))
    return user


def principal_from_token(conn: Connection, issuer: TokenIssuer, token: str) -> Principal:
    claims = issuer.verify(token)
    user = repo.user_by_id(conn, claims.user_id)
    if user is None or user.disabled_at is not None:
        raise Unauthorized("this token's account no longer exists or is disabled")
    if user.role != claims.role or user.scope != claims.scope:
        raise Unauthorized("your role or scope changed since this token was issued; log in again")
    return Principal(user.user_id, Role(user.role), user.scope, "user")
