"""The bottling-batch table."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base


class Batch(Base):
    """A bottling batch (lot): one product, filled from one blend on one line."""

    __tablename__ = "trace_batches"

    lot: Mapped[str] = mapped_column(String(20), primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), ForeignKey("trace_products.gtin"), index=True)
    blend_no: Mapped[str] = mapped_column(String(20), ForeignKey("trace_blends.blend_no"))
    line: Mapped[str] = mapped_column(String(100))
    bottled_on: Mapped[date] = mapped_column(Date)
    planned_qty: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    recall_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    recalled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    entry_id: Mapped[str] = mapped_column(String(36))
    recall_entry_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
