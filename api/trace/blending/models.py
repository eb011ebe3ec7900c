"""Tables of base-liquor lots (基酒) and blend records (勾调记录)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base


class BaseLiquor(Base):
    """A lot of base liquor in a tank, with what is left of it after blending."""

    __tablename__ = "trace_base_liquors"

    lot: Mapped[str] = mapped_column(String(20), primary_key=True)
    tank: Mapped[str] = mapped_column(String(40))
    distillery: Mapped[str] = mapped_column(String(200))
    vintage: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(40))
    abv_permille: Mapped[int] = mapped_column(Integer)
    volume_ml: Mapped[int] = mapped_column(BigInteger)
    remaining_ml: Mapped[int] = mapped_column(BigInteger)
    zone_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    stored_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    entry_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Blend(Base):
    """The output of one blending: base-liquor lots in, one blend out."""

    __tablename__ = "trace_blends"

    blend_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    blender: Mapped[str] = mapped_column(String(100))
    blended_on: Mapped[date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text)
    abv_permille: Mapped[int] = mapped_column(Integer)
    volume_ml: Mapped[int] = mapped_column(BigInteger)
    remaining_ml: Mapped[int] = mapped_column(BigInteger)
    entry_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class BlendInput(Base):
    __tablename__ = "trace_blend_inputs"

    blend_no: Mapped[str] = mapped_column(
        String(20), ForeignKey("trace_blends.blend_no"), primary_key=True
    )
    lot: Mapped[str] = mapped_column(
        String(20), ForeignKey("trace_base_liquors.lot"), primary_key=True, index=True
    )
    volume_ml: Mapped[int] = mapped_column(BigInteger)
    share_bp: Mapped[int] = mapped_column(Integer)
