"""Price list tables (migration 0302)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base


class PriceListItem(Base):
    """The case price ``seller_id`` charges buyers of ``tier`` for the SKU ``gtin``.

    The seller is HQ (for dealers, by dealer tier) or a dealer (for its stores, by store tier).
    SKUs are the traceability catalogue's products (``trace_products``), named by GTIN.
    """

    __tablename__ = "price_list_items"
    __table_args__ = (CheckConstraint("case_price_fen > 0", name="price_positive"),)

    seller_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("parties.party_id"), primary_key=True
    )
    tier: Mapped[str] = mapped_column(String(32), primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    case_price_fen: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(40))
