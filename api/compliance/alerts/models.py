"""Tables of compliance (migration 0700)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base


class Alert(Base):
    """A suspected diversion of one case by one dealer, or a suspected clone of one code.

    ``signals`` and ``observations`` are JSON (what the latest ``compliance.alert.raised`` or
    ``compliance.alert.updated`` entry carries); ``entry_ids`` lists every ledger entry the
    alert itself wrote, oldest first. ``allocation_month`` (Asia/Shanghai) and ``region_id``
    (the dealer's home region) are what the diversion-rate report groups by.
    """

    __tablename__ = "compliance_alerts"

    alert_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    alert_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(12))
    strength: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16), index=True)
    dealer_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    region_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    code_id: Mapped[int] = mapped_column(BigInteger, index=True)
    code_key: Mapped[str] = mapped_column(String(120))
    gtin: Mapped[str | None] = mapped_column(String(14), nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    signals: Mapped[str] = mapped_column(Text)
    observations: Mapped[str] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(String(6), nullable=True)
    to_region_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    allocated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    allocation_month: Mapped[str | None] = mapped_column(String(7), nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revision: Mapped[int] = mapped_column(Integer)
    evidence_digest: Mapped[str] = mapped_column(String(64))
    entry_ids: Mapped[str] = mapped_column(Text)
    appeal_state: Mapped[str | None] = mapped_column(String(8), nullable=True)
    appeal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class AlertEvent(Base):
    """One step of an alert's life (raised, updated, a decision, an appeal) and its entry."""

    __tablename__ = "compliance_alert_events"

    alert_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("compliance_alerts.alert_id"), primary_key=True
    )
    n: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(16))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    entry_id: Mapped[str] = mapped_column(String(36))


class CaseAllocation(Base):
    """A case allotted to a dealer by a transfer from HQ: the denominator of diversion rates.

    Replaced wholesale by every full run, so it has no index beyond its key (0703).
    """

    __tablename__ = "compliance_allocations"

    case_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dealer_id: Mapped[str] = mapped_column(String(40))
    region_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    gtin: Mapped[str] = mapped_column(String(14))
    allocated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    month: Mapped[str] = mapped_column(String(7))


class DetectionRun(Base):
    __tablename__ = "compliance_runs"

    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    mode: Mapped[str] = mapped_column(String(12))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    scans: Mapped[int] = mapped_column(BigInteger)
    movements: Mapped[int] = mapped_column(BigInteger)
    signals: Mapped[str] = mapped_column(Text)
    alerts_raised: Mapped[int] = mapped_column(Integer)
    alerts_updated: Mapped[int] = mapped_column(Integer)
    thresholds: Mapped[str] = mapped_column(Text)
