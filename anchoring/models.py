"""Anchoring tables: one row per anchored checkpoint, one per transaction sent for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base

# SQLite only auto-increments an INTEGER PRIMARY KEY.
_ID = BigInteger().with_variant(Integer(), "sqlite")

STATES = ("pending", "submitted", "confirmed")


class Anchor(Base):
    """One checkpoint written to one chain, moving pending → submitted → confirmed.

    ``pending``: chosen and given a nonce, nothing acknowledged by the node yet. ``submitted``:
    a transaction is in the node's pool or in a block that is not yet deep enough (``block_*``
    set). ``confirmed``: its block is ``confirmations`` deep; the row no longer changes.
    At most one row per (chain, checkpoint): a checkpoint is never anchored twice.
    """

    __tablename__ = "anchors"
    __table_args__ = (
        UniqueConstraint("chain_id", "tree_size", name="uq_anchors_chain_id_tree_size"),
        CheckConstraint("state IN ('pending', 'submitted', 'confirmed')", name="state"),
        Index("ix_anchors_state_tree_size", "state", "tree_size"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    tree_size: Mapped[int] = mapped_column(BigInteger, ForeignKey("ledger_checkpoints.tree_size"))
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    calldata: Mapped[bytes] = mapped_column(LargeBinary)
    sender: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    confirmations: Mapped[int] = mapped_column(Integer)
    tx_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    effective_gas_price: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reorgs: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AnchorTransaction(Base):
    """One signed transaction sent for an anchor: the first, a fee bump, or a re-send.

    The raw bytes are stored before they are broadcast, so a crash between the two is healed
    by broadcasting the same bytes again, never by signing a second, different transaction.
    """

    __tablename__ = "anchor_transactions"

    tx_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    anchor_id: Mapped[int] = mapped_column(_ID, ForeignKey("anchors.id"), index=True)
    nonce: Mapped[int] = mapped_column(BigInteger)
    max_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    max_priority_fee_per_gas: Mapped[int] = mapped_column(BigInteger)
    gas_limit: Mapped[int] = mapped_column(BigInteger)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    broadcast_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rejected: Mapped[str | None] = mapped_column(Text, nullable=True)


class AnchoringLease(Base):
    """Who may anchor now: one row; a process holds it while ``expires_at`` is ahead."""

    __tablename__ = "anchoring_lease"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
