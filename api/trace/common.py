"""Small pieces every traceability area shares: time, identifiers, staging ledger entries."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from api.log.outbox import stage_entry
from api.log.repository import as_utc
from ledger.canonical import format_ts

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

# Lots, blend numbers, tanks: printable, URL-safe and within GS1 AI (10)'s 20 characters.
LOT_PATTERN: Final = r"^[0-9A-Za-z][0-9A-Za-z\-]{0,19}$"
_LOT: Final = re.compile(LOT_PATTERN)


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """The calendar date where the brand works (Asia/Shanghai): what a record dated by a
    cellar master or a bottling line may not lie beyond."""
    return now().astimezone(SHANGHAI).date()


def utc(value: datetime) -> datetime:
    """An aware UTC datetime from the database (SQLite returns naive ones)."""
    return as_utc(value)


def ts_text(value: datetime) -> str:
    """The ledger's timestamp form (UTC, microseconds, Z)."""
    return format_ts(as_utc(value))


def local_text(value: datetime) -> str:
    """How a time is shown to people: Asia/Shanghai, ISO 8601 with its +08:00 offset."""
    return as_utc(value).astimezone(SHANGHAI).isoformat(timespec="seconds")


def date_text(value: date) -> str:
    return value.isoformat()


def is_lot(text: str) -> bool:
    return _LOT.fullmatch(text) is not None


def random_id(prefix: str) -> str:
    """An identifier that leaves the system: 128 random bits."""
    return f"{prefix}_{secrets.token_hex(16)}"


def stage(conn: Connection, kind: str, payload: Mapping[str, Any]) -> str:
    """Stage a ledger entry in the caller's transaction; return its id."""
    return stage_entry(conn, kind, payload)
