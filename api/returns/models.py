"""Return authorization tables (migration 0303)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base


class ReturnAuthorization(Base):
    """A buyer's request to send cases of a delivered order back, and its outcome."""

    __tablename__ = "returns"

    return_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40), ForeignKey("orders.order_id"), index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text)
    to_warehouse_id: Mapped[str] = mapped_column(String(40), ForeignKey("parties.party_id"))
    shipment_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    region_id: Mapped[str] = mapped_column(String(40), index=True)
    dealer_id: Mapped[str] = mapped_column(String(40), index=True)
    store_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    requested_by: Mapped[str] = mapped_column(String(40))
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decision_note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ReturnCode(Base):
    __tablename__ = "return_codes"

    return_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("returns.return_id"), primary_key=True
    )
    serial: Mapped[str] = mapped_column(String(20), primary_key=True)
    code_id: Mapped[int] = mapped_column(BigInteger)
    gtin: Mapped[str] = mapped_column(String(14))
