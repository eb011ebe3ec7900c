"""SQL for API keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from api.models import ApiKey

api_keys = ApiKey.__table__


def insert_key(
    conn: Connection, key_id: str, secret_hash: bytes, role: str, name: str, now: datetime
) -> None:
    conn.execute(
        api_keys.insert().values(
            key_id=key_id, secret_hash=secret_hash, role=role, name=name, created_at=now
        )
    )


def find_active(conn: Connection, key_id: str) -> tuple[bytes, str] | None:
    """``(secret_hash, role)`` of a key that exists and is not revoked."""
    row = conn.execute(
        select(api_keys.c.secret_hash, api_keys.c.role).where(
            api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None)
        )
    ).first()
    return None if row is None else (bytes(row[0]), row[1])
