"""Times that clients send: each must have a place in UTC, where everything is stored."""

from __future__ import annotations

from datetime import UTC, datetime


def in_utc(value: datetime) -> datetime:
    """``value`` (aware) in UTC; a ``ValueError`` — a 422 from a request model — when it has
    none: year 1 east of Greenwich, year 9999 west of it."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is outside the calendar once in UTC") from None
