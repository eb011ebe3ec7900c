"""Tables of codes (一物一码), their custody events and the code index.

``trace_code_events`` holds one row per ledger entry that stands for a list of codes, with the
list's Merkle root (also in the entry) and its packed subtrees (``api.trace.merkle_list``);
``trace_code_index`` says which codes each such entry lists and where, so membership of any
one code is provable.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base

# SQLite only auto-numbers an INTEGER PRIMARY KEY.
CodeId = BigInteger().with_variant(Integer, "sqlite")


class CodeBatch(Base):
    """Codes generated together for the printing plant."""

    __tablename__ = "trace_code_batches"

    batch_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    lot: Mapped[str] = mapped_column(String(20), ForeignKey("trace_batches.lot"), index=True)
    gtin: Mapped[str] = mapped_column(String(14))
    kind: Mapped[str] = mapped_column(String(8))
    count: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    caps_issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class Code(Base):
    """One printed code: a bottle, a case, with its state and custody."""

    __tablename__ = "trace_codes"
    __table_args__ = (Index("ix_trace_codes_lot_state", "lot", "state"),)

    id: Mapped[int] = mapped_column(CodeId, primary_key=True, autoincrement=True)
    serial: Mapped[str] = mapped_column(String(20), unique=True)
    gtin: Mapped[str] = mapped_column(String(14))
    lot: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(8))
    batch_id: Mapped[str] = mapped_column(String(40), index=True)
    state: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    packed_in: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    """The case a bottle was last packed in, kept when it is unpacked (``parent_id`` is not)."""
    location: Mapped[str | None] = mapped_column(String(60), nullable=True)
    region: Mapped[str | None] = mapped_column(String(60), nullable=True)
    holder_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    cap_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    cap_redeemed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    replaced_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    replacements: Mapped[int] = mapped_column(SmallInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CodeEvent(Base):
    """A ledger entry that lists codes: commissioning, packing, custody, replacement."""

    __tablename__ = "trace_code_events"

    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lot: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    location: Mapped[str | None] = mapped_column(String(60), nullable=True)
    region: Mapped[str | None] = mapped_column(String(60), nullable=True)
    party: Mapped[str | None] = mapped_column(String(60), nullable=True)
    sender: Mapped[str | None] = mapped_column(String(60), nullable=True)
    """A transfer's from party (``party`` is its to party), as the entry's payload says."""
    parent_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    count: Mapped[int] = mapped_column(Integer)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    nodes: Mapped[bytes] = mapped_column(LargeBinary)


class CaseMove(Base):
    """A case changing place, kept as its entry is written: shipped or received by a transfer
    (``party`` the receiver, ``sender`` the party it came from), or opened (``unpacked``;
    ``party`` where). Read whole by compliance's batch detection instead of joining every
    transfer event to the code index and the codes (``trace_code_events`` and
    ``trace_code_index`` stay the record; this table repeats what they say)."""

    __tablename__ = "trace_case_moves"

    case_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event: Mapped[str] = mapped_column(String(20))
    gtin: Mapped[str] = mapped_column(String(14))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    party: Mapped[str] = mapped_column(String(60))
    sender: Mapped[str | None] = mapped_column(String(60), nullable=True)


class CodeIndex(Base):
    """Code ``code_id`` is item ``position`` of the list entry ``entry_id`` stands for."""

    __tablename__ = "trace_code_index"

    code_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
