"""The chart of accounts: what each account code names, and which side it normally sits on.

Codes are plain strings so that a ledger entry's postings can be summed by anyone:

- ``liability:{issuer}:{member}:principal`` / ``…:bonus`` — the member's principal and bonus
  accounts: sub-accounts of the issuer's prepaid liability (the issuer is the store, or the
  dealer for a chain programme). Credit balances; the member's balance is their negation.
- ``store:{store}:clearing:{method}`` — money received or paid out at the counter, per means of
  payment (the cash drawer, WeChat Pay, …): what the day's settlement is reconciled against.
- ``store:{store}:promotion`` — promotion expense of bonus value granted.
- ``store:{store}:goods_promotion`` — promotion expense of gifts handed out (tasting bottles).
- ``store:{store}:gift_stock`` — the stock those gifts leave (credited at cost).
- ``store:{store}:revenue`` — sales paid for with stored value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from api.errors import Unprocessable


class PaymentMethod(StrEnum):
    """How money came in or went out. Credit cards are absent on purpose: the PBoC and the
    State Council's 2011 opinion on prepaid cards forbid buying prepaid value on credit."""

    CASH = "cash"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    DEBIT_CARD = "debit_card"
    BANK_TRANSFER = "bank_transfer"


_METHODS = frozenset(m.value for m in PaymentMethod)

MemberPart = Literal["principal", "bonus"]
StoreAccount = Literal["promotion", "goods_promotion", "gift_stock", "revenue"]


def member_account(issuer_id: str, member_id: str, part: MemberPart) -> str:
    return f"liability:{issuer_id}:{member_id}:{part}"


def member_prefix(issuer_id: str, member_id: str) -> str:
    return f"liability:{issuer_id}:{member_id}:"


def store_account(store_id: str, name: StoreAccount) -> str:
    return f"store:{store_id}:{name}"


def clearing(store_id: str, method: PaymentMethod) -> str:
    return f"store:{store_id}:clearing:{method.value}"


@dataclass(frozen=True, slots=True)
class AccountCode:
    """A parsed code: ``owner`` is the issuer (liability) or the store; ``member`` and
    ``part`` name a member account; ``name`` a store account (``clearing:wechat`` …)."""

    kind: Literal["liability", "store"]
    owner: str
    name: str
    member: str | None = None

    @property
    def part(self) -> str | None:
        return self.name if self.kind == "liability" else None


def parse(code: str) -> AccountCode:
    pieces = code.split(":")
    if pieces[0] == "liability" and len(pieces) == 4 and pieces[3] in ("principal", "bonus"):
        return AccountCode("liability", pieces[1], pieces[3], member=pieces[2])
    if pieces[0] == "store" and len(pieces) in (3, 4):
        name = ":".join(pieces[2:])
        if name in ("promotion", "goods_promotion", "gift_stock", "revenue") or (
            pieces[2] == "clearing" and len(pieces) == 4 and pieces[3] in _METHODS
        ):
            return AccountCode("store", pieces[1], name)
    raise Unprocessable(f"{code!r} is not a stored-value account code")
