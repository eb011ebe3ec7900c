"""Tables of members and their stored value (migrations 0500 to 0502).

Personal data lives only in ``member_personal_data``: erasing a member deletes that row (phone,
name and ID ciphertexts, the lookup hash and the commitment salt) and nothing else, so the
journal and the ledger keep every fen while no longer pointing at a person.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.models import Base

PARTY = "parties.party_id"


class Member(Base):
    """A member of one issuer's programme: a store, or a dealer whose stores all accept it."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    issuer_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY), index=True)
    home_store_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY))
    real_name: Mapped[bool] = mapped_column(Boolean)
    # Bumped to revoke every member token issued so far.
    token_generation: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The ledger entries holding the member's current commitments (see IdentityProof).
    registered_entry_id: Mapped[str] = mapped_column(String(36))
    real_name_entry_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class MemberPersonalData(Base):
    """Everything that identifies the person; deleted as a whole on erasure."""

    __tablename__ = "member_personal_data"
    __table_args__ = (UniqueConstraint("issuer_id", "phone_hmac"),)

    member_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("members.member_id", ondelete="CASCADE"), primary_key=True
    )
    issuer_id: Mapped[str] = mapped_column(String(40))
    phone_hmac: Mapped[bytes] = mapped_column(LargeBinary(32))
    phone_ct: Mapped[bytes] = mapped_column(LargeBinary)
    name_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    id_number_ct: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StoredValueAccount(Base):
    """A member's principal and bonus balances: the projection the hot path locks and checks.

    ``debit_count`` counts spends and cash refunds; a top-up can be voided only while it has not
    moved since the top-up (nothing was drawn from the card in between).
    """

    __tablename__ = "stored_value_accounts"
    __table_args__ = (
        CheckConstraint("principal_fen >= 0", name="principal_not_negative"),
        CheckConstraint("bonus_fen >= 0", name="bonus_not_negative"),
        # Room on each page for heap-only updates of the balances (migration 0503).
        {"postgresql_with": {"fillfactor": 70}},
    )

    member_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("members.member_id"), primary_key=True
    )
    issuer_id: Mapped[str] = mapped_column(String(40), index=True)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    bonus_fen: Mapped[int] = mapped_column(BigInteger)
    debit_count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Bumped by every write to the row (migration 0502): operations decide on an unlocked
    # read and book with ``WHERE version = :read``, retrying under the row lock if it moved.
    version: Mapped[int] = mapped_column(BigInteger, server_default="0")


class JournalRecord(Base):
    """One operation: one balanced journal entry, and one ledger entry with the same id."""

    __tablename__ = "stored_value_journal"
    __table_args__ = (
        Index("ix_stored_value_journal_store_day", "store_id", "business_day"),
        Index("ix_stored_value_journal_member", "member_id", "created_at"),
    )

    journal_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    operation: Mapped[str] = mapped_column(String(16))
    store_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY))
    issuer_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY))
    member_id: Mapped[str] = mapped_column(String(40), ForeignKey("members.member_id"))
    pos_txn: Mapped[str] = mapped_column(String(64))
    business_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Signed change of the member's principal and bonus; and the balances after it.
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    bonus_fen: Mapped[int] = mapped_column(BigInteger)
    principal_after_fen: Mapped[int] = mapped_column(BigInteger)
    bonus_after_fen: Mapped[int] = mapped_column(BigInteger)
    payment_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    promotion_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    gift_sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    gift_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    gift_qty: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gift_cost_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # A refund's spend, a void's top-up.
    ref_journal_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # On a spend: how much of it was refunded so far. On a top-up: the void that undid it.
    refunded_principal_fen: Mapped[int] = mapped_column(BigInteger)
    refunded_bonus_fen: Mapped[int] = mapped_column(BigInteger)
    voided_by: Mapped[str | None] = mapped_column(String(36), nullable=True)
    debit_count_at: Mapped[int] = mapped_column(Integer)


class Posting(Base):
    """One line of a journal entry (debit positive, credit negative); lines sum to zero."""

    __tablename__ = "stored_value_postings"

    journal_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("stored_value_journal.journal_id"), primary_key=True
    )
    line: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    # Not indexed (migration 0503): postings are read by journal entry, or all summed.
    account: Mapped[str] = mapped_column(String(120))
    amount_fen: Mapped[int] = mapped_column(BigInteger)


class RequestRecord(Base):
    """An idempotency key (store + POS transaction number) and the answer it got."""

    __tablename__ = "stored_value_requests"
    # Only member-data requests name a member (migration 0503): operations add no entry.
    __table_args__ = (
        Index(
            "ix_stored_value_requests_member_id",
            "member_id",
            postgresql_where=text("member_id IS NOT NULL"),
            sqlite_where=text("member_id IS NOT NULL"),
        ),
    )

    idempotency_key: Mapped[str] = mapped_column(String(120), primary_key=True)
    operation: Mapped[str] = mapped_column(String(32))
    # HMAC (keyed like the phone lookup): a plain hash of a body holding a phone number could
    # be reversed by trying every number.
    request_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The member a member-data request was about, so erasure can blank its stored answer.
    member_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Promotion(Base):
    """A top-up promotion of a store or of a dealer (then valid in all its stores)."""

    __tablename__ = "stored_value_promotions"

    promotion_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    owner_id: Mapped[str] = mapped_column(String(40), ForeignKey(PARTY), index=True)
    name: Mapped[str] = mapped_column(String(200))
    min_paid_fen: Mapped[int] = mapped_column(BigInteger)
    bonus_fen: Mapped[int] = mapped_column(BigInteger)
    gift_sku: Mapped[str | None] = mapped_column(String(64), nullable=True)
    gift_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    gift_qty: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gift_cost_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
