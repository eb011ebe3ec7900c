"""Tables of the channel's parties (migration 0301)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base


class Party(Base):
    """One party of the channel. ``kind`` says which of the optional columns apply.

    ``region_id`` and ``dealer_id`` are the tenancy keys every scoped read filters on: a
    dealer's and its stores' and warehouses' ``dealer_id`` is the dealer; their ``region_id`` is
    the dealer's home region. Coordinates are integer micro-degrees (WGS-84), so they can go on
    the ledger, which refuses floats.
    """

    __tablename__ = "parties"

    party_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("parties.party_id"), nullable=True, index=True
    )
    dealer_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("parties.party_id"), nullable=True, index=True
    )
    tier: Mapped[str | None] = mapped_column(String(32), nullable=True)
    credit_limit_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    share_permille: Mapped[int | None] = mapped_column(Integer, nullable=True)
    warehouse_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    admin_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    lat_e6: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lon_e6: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RegionArea(Base):
    """A province or prefecture-level city (GB/T 2260 code) that belongs to one region."""

    __tablename__ = "region_areas"

    admin_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    region_id: Mapped[str] = mapped_column(String(40), ForeignKey("parties.party_id"), index=True)


class DealerRegion(Base):
    """A region a dealer is authorized to sell in."""

    __tablename__ = "dealer_regions"

    dealer_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("parties.party_id"), primary_key=True
    )
    region_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("parties.party_id"), primary_key=True
    )
