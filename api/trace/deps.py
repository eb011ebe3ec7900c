"""The transaction of traceability writes.

On SQLite a write request runs on the writer engine (``BEGIN IMMEDIATE``), taking the write
lock before its first read: a deferred transaction that read first would fail with "database
is locked" when it upgrades to write while the log worker commits. On PostgreSQL it is the
ordinary request transaction; conditional UPDATEs and unique keys keep concurrent writers apart.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy import Connection

from api.deps import writer_transaction


def write_conn(request: Request) -> Iterator[Connection]:
    with writer_transaction(request) as conn:
        yield conn
