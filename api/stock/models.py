"""Stock tables (migrations 0302, 0304)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base


class StockLevel(Base):
    """Cases of one SKU in one warehouse: one stripe of them. ``available = on_hand -
    reserved``; a warehouse × SKU's figures are the sums over its stripes (rows), which let
    concurrent orders reserve without queueing on one row (``api.stock.repository``).

    The check constraint is the last line of defence against overselling: whatever the code
    does, the database refuses a row that reserves more than is on hand.
    """

    __tablename__ = "stock_levels"
    __table_args__ = (
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
    )

    warehouse_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("parties.party_id"), primary_key=True
    )
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True, index=True)
    stripe: Mapped[int] = mapped_column(SmallInteger, primary_key=True, server_default="0")
    on_hand: Mapped[int] = mapped_column(BigInteger)
    reserved: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
