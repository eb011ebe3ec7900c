"""SQL for API keys and users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from api.auth.models import User
from api.models import ApiKey

api_keys = ApiKey.__table__
users = User.__table__


def insert_key(
    conn: Connection,
    key_id: str,
    secret_hash: bytes,
    role: str,
    name: str,
    now: datetime,
    scope: str | None = None,
) -> None:
    conn.execute(
        api_keys.insert().values(
            key_id=key_id,
            secret_hash=secret_hash,
            role=role,
            name=name,
            created_at=now,
            scope=scope,
        )
    )


def find_active(conn: Connection, key_id: str) -> tuple[bytes, str, str | None] | None:
    """``(secret_hash, role, scope)`` of a key that exists and is not revoked."""
    row = conn.execute(
        select(api_keys.c.secret_hash, api_keys.c.role, api_keys.c.scope).where(
            api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else (bytes(row[0]), row[1], row[2])


def insert_user(conn: Connection, **values: object) -> None:
    conn.execute(users.insert().values(**values))


def user_by_name(conn: Connection, username: str) -> User | None:
    row = conn.execute(select(users).where(users.c.username == username)).first()
    return None if row is None else User(**row._mapping)


def user_by_id(conn: Connection, user_id: str) -> User | None:
    row = conn.execute(select(users).where(users.c.user_id == user_id)).first()
    return None if row is None else User(**row._mapping)


def set_password_hash(conn: Connection, user_id: str, password_hash: str) -> None:
    conn.execute(
        users.update().where(users.c.user_id == user_id).values(password_hash=password_hash)
    )


def list_users(
    conn: Connection, scopes: list[str] | None, limit: int, after: str | None
) -> list[User]:
    query = select(users).order_by(users.c.username).limit(limit)
    if scopes is not None:
        query = query.where(users.c.scope.in_(scopes))
    if after:
        query = query.where(users.c.username > after)
    return [User(**row._mapping) for row in conn.execute(query)]
