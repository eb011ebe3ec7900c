"""Scan and transfer times become whole seconds the same way on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, literal, select

from api.compliance.alerts.sources import epoch
from api.db import Database


def test_epoch_truncates_fractional_seconds(db: Database) -> None:
    late_in_second = datetime(2026, 11, 25, 8, 30, 15, 700_000, tzinfo=UTC)
    with db.engine.connect() as conn:
        got = conn.execute(select(epoch(conn, literal(late_in_second, DateTime(timezone=True)))))
        # int() truncates, as the resolver's verdict does; PostgreSQL's cast alone would round up
        assert got.scalar_one() == int(late_in_second.timestamp())
