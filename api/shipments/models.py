"""Shipment and custody tables (migration 0303)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base

PARTY = "parties.party_id"


class Shipment(Base):
    """Cases moving from one warehouse to a party: an order's delivery or a return.

    ``region_id``, ``dealer_id`` and ``store_id`` are the tenancy keys of the order (or return)
    it serves, so the same people see the shipment as see the order.
    """

    __tablename__ = "shipments"

    shipment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # order | return
    order_id: Mapped[str] = mapped_column(String(40), ForeignKey("orders.order_id"), index=True)
    return_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    from_party_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY))
    from_warehouse_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey(PARTY), nullable=True, index=True
    )
    to_party_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY))
    to_warehouse_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey(PARTY), nullable=True, index=True
    )
    region_id: Mapped[str] = mapped_column(String(40), index=True)
    dealer_id: Mapped[str] = mapped_column(String(40), index=True)
    store_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    shipped_entries: Mapped[str] = mapped_column(Text)  # JSON list of ledger entry ids
    received_entries: Mapped[str] = mapped_column(Text)
    missing_count: Mapped[int] = mapped_column(Integer)
    extra_count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ShipmentLine(Base):
    """Cases of one SKU the shipment must carry."""

    __tablename__ = "shipment_lines"

    shipment_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("shipments.shipment_id"), primary_key=True
    )
    gtin: Mapped[str] = mapped_column(String(14), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)


class ShipmentScan(Base):
    """A case code scanned for a shipment: ``picked`` at the sending warehouse, then
    ``received`` or ``extra`` (scanned on arrival but not in the shipment) at the other end."""

    __tablename__ = "shipment_scans"

    shipment_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("shipments.shipment_id"), primary_key=True
    )
    phase: Mapped[str] = mapped_column(String(8), primary_key=True)
    serial: Mapped[str] = mapped_column(String(20), primary_key=True, index=True)
    code_id: Mapped[int] = mapped_column(BigInteger)
    gtin: Mapped[str] = mapped_column(String(14))
    scanned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scanned_by: Mapped[str] = mapped_column(String(40))


class Custody(Base):
    """Who has each case code now: the projection of ``stock.putaway``, ``transfer.shipped``
    and ``transfer.received`` entries (``api.shipments.custody`` rebuilds it from the ledger).

    ``held``: ``holder_id`` has it (in ``warehouse_id``, or at a store when that is None);
    ``in_transit``: ``holder_id`` sent it to ``to_id`` and nobody has received it yet.
    """

    __tablename__ = "custody"

    serial: Mapped[str] = mapped_column(String(20), primary_key=True)
    code_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    gtin: Mapped[str] = mapped_column(String(14))
    state: Mapped[str] = mapped_column(String(12))
    holder_id: Mapped[str] = mapped_column(String(40), index=True)
    warehouse_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    to_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    entry_id: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
