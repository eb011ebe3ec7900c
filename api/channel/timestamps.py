"""Times as the channel's people see them: stored in UTC, shown in Asia/Shanghai (+08:00)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

SHANGHAI = ZoneInfo("Asia/Shanghai")


def in_shanghai(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are UTC, as everything stored is."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(SHANGHAI)


LocalTime = Annotated[datetime, AfterValidator(in_shanghai)]
"""A timestamp field of a response: any datetime in, Asia/Shanghai out."""
