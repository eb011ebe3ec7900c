"""Tables of the product catalogue."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base


class Product(Base):
    """A trade item (SKU) identified by its GTIN, kept in the 14-digit form."""

    __tablename__ = "trace_products"

    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    volume_ml: Mapped[int] = mapped_column(Integer)
    abv_permille: Mapped[int] = mapped_column(Integer)
    aroma: Mapped[str] = mapped_column(String(16))
    case_size: Mapped[int] = mapped_column(SmallInteger)
    entry_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
