"""Pydantic models of the members and stored-value API. Money is integer fen throughout."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.stored_value.accounts import PaymentMethod
from api.times import in_utc

MAX_FEN = 10**12  # ten billion yuan: far above any cap, far below JSON's exact-integer limit

PartyId = Annotated[str, Field(min_length=1, max_length=40, examples=["st_5e1f0c2a9b7d4e6f8a10"])]
MemberId = Annotated[
    str, Field(min_length=1, max_length=40, examples=["mb_9f2c4e6a8b0d1f3e5a7c9e1b3d5f7a9c"])
]
JournalId = Annotated[
    str, Field(min_length=36, max_length=36, examples=["0b6f3c1e-2d4a-4c8e-9f1a-3b5d7e9f1a2c"])
]
Programme = Literal["store", "dealer"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- members ---------------------------------------------------------------------------------


class MemberIn(Strict):
    """Register a member at the clerk's store. Name and ID number together make the card a
    real-name (记名) card with the higher cap; without them it is anonymous (不记名)."""

    store_id: PartyId
    phone: str = Field(min_length=11, max_length=24, examples=["138 0013 8000"])
    programme: Programme = Field(
        default="store",
        description="store: this store's card; dealer: a card of the store's dealer, "
        "accepted in all of that dealer's stores",
    )
    name: str | None = Field(default=None, max_length=50, examples=["张三"])
    id_number: str | None = Field(default=None, max_length=18, examples=["11010519491231002X"])

    @model_validator(mode="after")
    def _both_or_neither(self) -> MemberIn:
        if (self.name is None) != (self.id_number is None):
            raise ValueError("give both name and id_number for a real-name card, or neither")
        return self


class RealNameIn(Strict):
    store_id: PartyId
    name: str = Field(min_length=1, max_length=50, examples=["张三"])
    id_number: str = Field(min_length=18, max_length=18, examples=["11010519491231002X"])


class LookupIn(Strict):
    """Find a member by the QR code on their phone, or by the phone number they tell you."""

    store_id: PartyId
    qr: str | None = Field(default=None, max_length=200, examples=["mq.mb_9f2c….1764050460.Xx"])
    phone: str | None = Field(default=None, min_length=11, max_length=24)

    @model_validator(mode="after")
    def _one_of(self) -> LookupIn:
        if (self.qr is None) == (self.phone is None):
            raise ValueError("give exactly one of qr and phone")
        return self


class StoreRef(Strict):
    store_id: PartyId


class Balance(BaseModel):
    principal_fen: int = Field(description="paid-in value not yet spent")
    bonus_fen: int = Field(description="promotional value not yet spent")
    total_fen: int
    cap_fen: int = Field(description="the most this card may hold (see GET /v1/stored-value/rules)")
    cash_refundable_fen: int = Field(
        description="what a cash refund pays out now: the principal; the bonus lapses"
    )


class MemberOut(BaseModel):
    member_id: str
    issuer_id: str = Field(description="the store, or the dealer of a chain programme")
    programme: Programme
    home_store_id: str
    real_name: bool
    phone: str = Field(description="masked", examples=["138****8000"])
    name: str | None = Field(default=None, description="masked", examples=["张*"])
    token_generation: int
    created_at: datetime
    balance: Balance


class MemberCreated(MemberOut):
    member_token: str = Field(
        default="",
        description="hand this to the member (for example as a link): it lets them read their "
        "own balance and history under /v1/members/me",
    )


class MemberTokenOut(BaseModel):
    member_id: str
    token_generation: int
    member_token: str = ""


class QrOut(BaseModel):
    qr: str = Field(description="show as a QR code at the counter")
    expires_at: datetime


class ErasedOut(BaseModel):
    member_id: str
    erased_at: datetime
    ledger_entry_id: str


class CommitmentOpening(BaseModel):
    field: Literal["phone", "name", "id_number"]
    value: str
    commitment: str = Field(description="hex SHA-256; appears in the member's ledger entries")


class IdentityProof(BaseModel):
    """What a member needs to find their commitments in the ledger and check them."""

    member_id: str
    salt: str = Field(description="hex; keep it private, it opens your commitments")
    openings: list[CommitmentOpening]
    ledger_entry_ids: list[str]
    formula: str = (
        "commitment = SHA-256(b'jiuyuan/member-commitment/v1\\x00' || field || b'\\x00' || salt "
        "|| utf8(value))"
    )


# --- operations ------------------------------------------------------------------------------

Fen = Annotated[int, Field(strict=True, gt=0, le=MAX_FEN)]


class TopUpIn(Strict):
    store_id: PartyId
    member_id: MemberId
    paid_fen: Fen = Field(examples=[100_000])
    payment_method: PaymentMethod = Field(examples=["wechat"])
    promotion_id: str | None = Field(
        default=None, max_length=40, description="a promotion of the store or its dealer"
    )


class SpendIn(Strict):
    store_id: PartyId
    member_id: MemberId
    amount_fen: Fen = Field(examples=[38_800])


class RefundIn(Strict):
    store_id: PartyId
    spend_id: JournalId
    amount_fen: Fen = Field(examples=[38_800])


class CashRefundIn(Strict):
    store_id: PartyId
    member_id: MemberId
    payment_method: PaymentMethod = Field(default=PaymentMethod.CASH)


class VoidIn(Strict):
    store_id: PartyId
    top_up_id: JournalId


class PostingOut(BaseModel):
    account: str
    amount_fen: int = Field(description="debit positive, credit negative")


class Gift(BaseModel):
    sku: str
    name: str
    qty: int
    cost_fen: int


class OperationOut(BaseModel):
    journal_id: str = Field(description="also the id of its ledger entry")
    operation: Literal["top_up", "spend", "refund", "cash_refund", "void"]
    store_id: str
    issuer_id: str
    member_id: str
    pos_txn: str
    created_at: datetime
    business_day: date = Field(description="the day in Asia/Shanghai")
    principal_fen: int = Field(description="signed change of the member's principal")
    bonus_fen: int = Field(description="signed change of the member's bonus")
    balance: Balance
    payment_method: PaymentMethod | None = None
    promotion_id: str | None = None
    gift: Gift | None = None
    refers_to: str | None = Field(default=None, description="a refund's spend, a void's top-up")
    postings: list[PostingOut]


class HistoryLine(OperationOut):
    ledger_seq: int | None = Field(
        default=None, description="its seq in the ledger, once sequenced (GET /v1/entries/{seq})"
    )
    refunded_fen: int = Field(default=0, description="a spend: how much was refunded since")
    voided_by: str | None = Field(default=None, description="a top-up: the void that undid it")


class HistoryOut(BaseModel):
    member_id: str
    lines: list[HistoryLine]
    next_before: str | None = Field(
        default=None, description="pass as ?before= for older lines; null at the end"
    )


# --- promotions ------------------------------------------------------------------------------


class GiftIn(Strict):
    sku: str = Field(min_length=1, max_length=64, examples=["TASTING-100ML"])
    name: str = Field(min_length=1, max_length=200, examples=["品鉴酒 100ml"])
    qty: int = Field(strict=True, ge=1, le=100, examples=[1])
    cost_fen: int = Field(
        strict=True, ge=0, le=MAX_FEN, description="booked as goods promotion", examples=[3_500]
    )


class PromotionIn(Strict):
    """ "Top up 1,000, get 100 and a tasting bottle": min_paid_fen 100000, bonus_fen 10000."""

    owner_id: str = Field(description="a store, or a dealer (then valid in all its stores)")
    name: str = Field(min_length=1, max_length=200, examples=["充1000送100加品鉴酒"])
    min_paid_fen: Fen = Field(examples=[100_000])
    bonus_fen: int = Field(strict=True, ge=0, le=MAX_FEN, examples=[10_000])
    gift: GiftIn | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    @model_validator(mode="after")
    def _window(self) -> PromotionIn:
        for value in (self.starts_at, self.ends_at):
            if value is not None and value.tzinfo is None:
                raise ValueError("starts_at and ends_at need a UTC offset (e.g. +08:00)")
            if value is not None:
                in_utc(value)
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.bonus_fen == 0 and self.gift is None:
            raise ValueError("a promotion grants bonus_fen, a gift, or both")
        return self


class PromotionOut(BaseModel):
    promotion_id: str
    owner_id: str
    name: str
    min_paid_fen: int
    bonus_fen: int
    gift: Gift | None
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    retired_at: datetime | None


# --- reports ---------------------------------------------------------------------------------


class OperationTotal(BaseModel):
    operation: str
    count: int
    principal_fen: int
    bonus_fen: int


class AccountTotal(BaseModel):
    account: str
    debit_fen: int
    credit_fen: int
    net_fen: int


class ZReport(BaseModel):
    """A store's day: every operation made at its counter, and the books they moved."""

    store_id: str
    business_day: date
    operations: list[OperationTotal]
    accounts: list[AccountTotal]
    debit_fen: int
    credit_fen: int
    balanced: bool = Field(description="debits equal credits")
    clearing_net_fen: dict[str, int] = Field(
        description="money in minus money out per means of payment: what the drawer and the "
        "payment providers' settlements must show"
    )
    journal_ids: list[str]


class Outstanding(BaseModel):
    issuer_id: str
    issuer_kind: str
    members_with_balance: int
    principal_fen: int
    bonus_fen: int
    total_fen: int
    custody_permille: int
    custody_fen: int = Field(
        description="total × custody_permille / 1000, rounded up: the least to keep in custody"
    )


class OutstandingOut(BaseModel):
    as_of: datetime
    issuers: list[Outstanding]


class RulesOut(BaseModel):
    named_cap_fen: int
    anonymous_cap_fen: int
    real_name_purchase_fen: int
    non_cash_purchase_fen: int
    cap_counts_bonus: bool
    custody_permille: int
    spend_order: str
    cash_refund: str
