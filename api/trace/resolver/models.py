"""Tables of the public lookup: scans, and the secret that salts device ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base

ScanId = BigInteger().with_variant(Integer, "sqlite")


class Scan(Base):
    """One recorded scan: coarse place only, the device as a salted hash, never an IP."""

    __tablename__ = "trace_scans"
    __table_args__ = (Index("ix_trace_scans_code_id_at", "code_id", "at"),)

    id: Mapped[int] = mapped_column(ScanId, primary_key=True, autoincrement=True)
    code_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    device_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    province: Mapped[str | None] = mapped_column(String(20), nullable=True)
    city: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # Coordinates of the city's centre in hundredths of a degree, for the travel check.
    lat_centi: Mapped[int | None] = mapped_column(Integer, nullable=True)
    lon_centi: Mapped[int | None] = mapped_column(Integer, nullable=True)
    case_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The case the code came in when it was scanned (``Code.case_id``): a scan is judged
    under the custody of that case, even once the bottle is packed in another."""
    client_hash: Mapped[bytes | None] = mapped_column(LargeBinary(16), nullable=True)
    """A hash of the client's address under the day's key (``service.client_hash``): one
    client's scans of a code on one day count as one device in one place, however many
    device ids it sends. The day's key is deleted once the next day's is made."""


class TraceSecret(Base):
    """Random secrets made on first use (the salt of device-id hashes)."""

    __tablename__ = "trace_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
