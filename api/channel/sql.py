"""SQL shared by the channel's repositories."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from api.db import is_sqlite


def upsertable_insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_update``/``on_conflict_do_nothing``
    (both SQLite and PostgreSQL spell ``INSERT … ON CONFLICT`` the same way)."""
    return sqlite.insert(table) if is_sqlite(conn) else postgresql.insert(table)
