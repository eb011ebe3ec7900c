"""The prepaid-card rules and the arithmetic of splitting amounts between principal and bonus.

Defaults follow MOFCOM's 2012 单用途商业预付卡管理办法（试行） (docs/stored-value.md cites the
articles); each is a setting, since a province or a later rule may differ.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.config import Settings
from api.errors import Conflict, Unprocessable
from api.stored_value.accounts import PaymentMethod


class CapExceeded(Conflict):
    code = "cap_exceeded"


class RealNameRequired(Conflict):
    code = "real_name_required"


class NonCashRequired(Unprocessable):
    code = "non_cash_required"


class InsufficientBalance(Conflict):
    code = "insufficient_balance"


class RefundExceedsSpend(Conflict):
    code = "refund_exceeds_spend"


def yuan(fen: int) -> str:
    """Fen as yuan for messages people read: 123456 -> '1,234.56'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


@dataclass(frozen=True, slots=True)
class Rules:
    """Caps on a card's balance, when real-name details are needed, how money may come in."""

    named_cap_fen: int = 500_000
    anonymous_cap_fen: int = 100_000
    real_name_purchase_fen: int = 1_000_000
    non_cash_purchase_fen: int = 5_000_000
    cap_counts_bonus: bool = True
    custody_permille: int = 400

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(
            named_cap_fen=settings.stored_value_named_cap_fen,
            anonymous_cap_fen=settings.stored_value_anonymous_cap_fen,
            real_name_purchase_fen=settings.stored_value_real_name_purchase_fen,
            non_cash_purchase_fen=settings.stored_value_non_cash_purchase_fen,
            cap_counts_bonus=settings.stored_value_cap_counts_bonus,
            custody_permille=settings.stored_value_custody_permille,
        )

    def cap_fen(self, real_name: bool) -> int:
        return self.named_cap_fen if real_name else self.anonymous_cap_fen

    def capped_balance(self, principal_fen: int, bonus_fen: int) -> int:
        """The part of a balance the cap limits."""
        return principal_fen + (bonus_fen if self.cap_counts_bonus else 0)

    def check_top_up(
        self,
        *,
        real_name: bool,
        principal_fen: int,
        bonus_fen: int,
        paid_fen: int,
        granted_bonus_fen: int,
        method: PaymentMethod,
    ) -> None:
        """Refuse a top-up the rules forbid, saying which rule and what would be allowed."""
        if paid_fen >= self.real_name_purchase_fen and not real_name:
            raise RealNameRequired(
                f"a single purchase of {yuan(self.real_name_purchase_fen)} CNY or more needs "
                "the member's real name and ID number (PUT /v1/members/{id}/real-name)"
            )
        if paid_fen >= self.non_cash_purchase_fen and method is PaymentMethod.CASH:
            raise NonCashRequired(
                f"a single purchase of {yuan(self.non_cash_purchase_fen)} CNY or more must be "
                "paid by bank transfer or another non-cash means, not cash"
            )
        cap = self.cap_fen(real_name)
        before = self.capped_balance(principal_fen, bonus_fen)
        after = self.capped_balance(principal_fen + paid_fen, bonus_fen + granted_bonus_fen)
        if after > cap:
            kind = "a real-name card" if real_name else "an anonymous card (no real name)"
            room = max(0, cap - before)
            hint = "" if real_name else "; registering the real name raises the cap"
            raise CapExceeded(
                f"the balance of {kind} may not exceed {yuan(cap)} CNY"
                f"{' counting bonus' if self.cap_counts_bonus else ''}: it is {yuan(before)}, "
                f"this top-up would make it {yuan(after)} (room left: {yuan(room)}){hint}"
            )


def spend_split(amount_fen: int, principal_fen: int, bonus_fen: int) -> tuple[int, int]:
    """How a spend draws on the card: in proportion to its principal : bonus split.

    The bonus part is rounded up, so a rounding fen is never taken from paid-in money.
    Drawing pro rata keeps the unspent principal equal to remaining × paid ÷ (paid + bonus),
    the proportional rule courts apply to a cash refund.
    """
    total = principal_fen + bonus_fen
    if amount_fen > total:
        raise InsufficientBalance(
            f"the balance is {yuan(total)} CNY; this spend needs {yuan(amount_fen)} CNY"
        )
    bonus_part = -(-amount_fen * bonus_fen // total) if total else 0
    return amount_fen - bonus_part, bonus_part


def refund_split(
    spent_principal_fen: int,
    spent_bonus_fen: int,
    refunded_principal_fen: int,
    refunded_bonus_fen: int,
    amount_fen: int,
) -> tuple[int, int]:
    """The principal and bonus a refund of ``amount_fen`` returns, in the spend's own split.

    Computed on the running total, so successive partial refunds add up to exactly the
    spend's principal and bonus; a rounding fen goes to principal (the member's favour).
    """
    spent = spent_principal_fen + spent_bonus_fen
    refunded = refunded_principal_fen + refunded_bonus_fen
    if refunded + amount_fen > spent:
        raise RefundExceedsSpend(
            f"the spend was {yuan(spent)} CNY and {yuan(refunded)} CNY of it is already "
            f"refunded; at most {yuan(spent - refunded)} CNY can still be refunded"
        )
    bonus_after = (refunded + amount_fen) * spent_bonus_fen // spent
    bonus_part = bonus_after - refunded_bonus_fen
    return amount_fen - bonus_part, bonus_part
