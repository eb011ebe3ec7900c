"""Order tables (migration 0302)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base

PARTY = "parties.party_id"


class Order(Base):
    """A purchase order. ``region_id``, ``dealer_id`` and ``store_id`` are tenancy keys: the
    buyer's region, the dealer on either side, and the buying store (store orders only)."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("buyer_id", "client_key", name="uq_orders_client_key"),)

    order_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # dealer | store
    buyer_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY))
    seller_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY))
    ship_to_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY))
    region_id: Mapped[str] = mapped_column(String(40), index=True)
    dealer_id: Mapped[str] = mapped_column(String(40), index=True)
    store_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    client_key: Mapped[str] = mapped_column(String(100))
    request_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    state: Mapped[str] = mapped_column(String(16), index=True)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (CheckConstraint("cases > 0", name="cases_positive"),)

    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.order_id"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    gtin: Mapped[str] = mapped_column(String(14))
    cases: Mapped[int] = mapped_column(Integer)
    case_price_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class OrderAllocation(Base):
    """Part of a line sourced from one warehouse, with the reason sourcing gave.

    ``reserved`` is what this allocation still holds in ``stock_levels.reserved``: it falls
    to zero when the cases are dispatched or the order is cancelled.
    """

    __tablename__ = "order_allocations"
    __table_args__ = (CheckConstraint("reserved >= 0 AND reserved <= cases", name="reserved"),)

    order_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("orders.order_id"), primary_key=True
    )
    line_no: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    rank: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    warehouse_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    cases: Mapped[int] = mapped_column(Integer)
    reserved: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(32))
    distance_m: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reason: Mapped[str] = mapped_column(Text)


class OrderEvent(Base):
    """The order's history: each state change, who made it and why."""

    __tablename__ = "order_events"

    event_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(String(40), ForeignKey("orders.order_id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(40))
    note: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
