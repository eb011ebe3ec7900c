"""SQL of the lookup: ledger entries by id, scans, the device-hash salt."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from api.log.repository import as_utc
from api.models import LedgerEntry
from api.trace.resolver.models import Scan, TraceSecret

entries = LedgerEntry.__table__
scans = Scan.__table__
secrets_table = TraceSecret.__table__


@dataclass(frozen=True, slots=True)
class StoredEntry:
    seq: int
    entry_id: str
    kind: str
    ts: datetime
    data: bytes
    leaf_hash: bytes
    chain_hash: bytes


def entries_by_ids(conn: Connection, ids: Sequence[str]) -> dict[str, StoredEntry]:
    if not ids:
        return {}
    query = select(
        entries.c.seq,
        entries.c.entry_id,
        entries.c.kind,
        entries.c.ts,
        entries.c.data,
        entries.c.leaf_hash,
        entries.c.chain_hash,
    ).where(entries.c.entry_id.in_(list(ids)))
    return {
        r.entry_id: StoredEntry(
            r.seq,
            r.entry_id,
            r.kind,
            as_utc(r.ts),
            bytes(r.data),
            bytes(r.leaf_hash),
            bytes(r.chain_hash),
        )
        for r in conn.execute(query)
    }


def secret(conn: Connection, name: str) -> bytes:
    """The secret ``name``, made (32 random bytes) the first time anyone asks."""
    found = conn.execute(select(secrets_table.c.value).where(secrets_table.c.name == name)).scalar()
    if found is not None:
        return bytes(found)
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    conn.execute(
        insert(secrets_table)
        .values(name=name, value=secrets.token_bytes(32))
        .on_conflict_do_nothing()
    )
    return bytes(
        conn.execute(select(secrets_table.c.value).where(secrets_table.c.name == name)).scalar_one()
    )


def insert_scan(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(scans.insert().values(**row))


def scans_of(conn: Connection, code_id: int, limit: int = 200) -> list[RowMapping]:
    """The code's most recent scans, oldest first."""
    query = select(scans).where(scans.c.code_id == code_id).order_by(scans.c.at.desc()).limit(limit)
    return list(reversed(list(conn.execute(query).mappings())))


def scan_stats(conn: Connection, code_id: int) -> tuple[int, datetime | None, int]:
    """(count, first scan time, distinct devices)."""
    row = conn.execute(
        select(
            func.count(),
            func.min(scans.c.at),
            func.count(func.distinct(scans.c.device_hash)),
        ).where(scans.c.code_id == code_id)
    ).one()
    return int(row[0]), as_utc(row[1]) if row[1] is not None else None, int(row[2])
