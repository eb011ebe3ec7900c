"""Journal entries: the postings of each operation, built and checked before anything is stored.

Amounts are signed integer fen, debit positive and credit negative; an entry's lines sum to
zero. The tables of ``docs/stored-value.md`` are these functions written out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from api.stored_value import accounts
from api.stored_value.accounts import PaymentMethod


class Operation(StrEnum):
    TOP_UP = "top_up"
    SPEND = "spend"
    REFUND = "refund"
    CASH_REFUND = "cash_refund"
    VOID = "void"

    @property
    def ledger_kind(self) -> str:
        return f"stored_value.{self.value}"


@dataclass(frozen=True, slots=True)
class Line:
    account: str
    amount_fen: int


class UnbalancedEntry(AssertionError):
    """A bug, never a user error: an operation produced postings that do not sum to zero."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    operation: Operation
    lines: tuple[Line, ...]

    def __post_init__(self) -> None:
        if sum(line.amount_fen for line in self.lines) != 0:
            raise UnbalancedEntry(f"{self.operation} postings do not sum to zero: {self.lines}")

    def member_change(self, card: Card) -> tuple[int, int]:
        """The change of the card's principal and bonus: their accounts' credits."""
        principal_account, bonus_account = card.principal(), card.bonus()
        principal = bonus = 0
        for line in self.lines:
            if line.account == principal_account:
                principal -= line.amount_fen
            elif line.account == bonus_account:
                bonus -= line.amount_fen
        return principal, bonus

    def as_payload(self) -> list[dict[str, object]]:
        return [{"account": x.account, "fen": x.amount_fen} for x in self.lines]


@dataclass(frozen=True, slots=True)
class Card:
    """Whose accounts and which counter an operation touches."""

    issuer_id: str
    member_id: str
    store_id: str

    def principal(self) -> str:
        return accounts.member_account(self.issuer_id, self.member_id, "principal")

    def bonus(self) -> str:
        return accounts.member_account(self.issuer_id, self.member_id, "bonus")

    def store(self, name: accounts.StoreAccount) -> str:
        return accounts.store_account(self.store_id, name)


def _entry(operation: Operation, lines: Iterable[Line]) -> JournalEntry:
    return JournalEntry(operation, tuple(x for x in lines if x.amount_fen != 0))


def top_up(
    card: Card, method: PaymentMethod, paid_fen: int, bonus_fen: int, gift_cost_fen: int
) -> JournalEntry:
    """Money in, owed to the member; bonus granted as promotion expense; a gift is goods."""
    return _entry(
        Operation.TOP_UP,
        [
            Line(accounts.clearing(card.store_id, method), paid_fen),
            Line(card.principal(), -paid_fen),
            Line(card.store("promotion"), bonus_fen),
            Line(card.bonus(), -bonus_fen),
            Line(card.store("goods_promotion"), gift_cost_fen),
            Line(card.store("gift_stock"), -gift_cost_fen),
        ],
    )


def spend(card: Card, principal_fen: int, bonus_fen: int) -> JournalEntry:
    """The member's value pays for goods: liability becomes revenue."""
    return _entry(
        Operation.SPEND,
        [
            Line(card.principal(), principal_fen),
            Line(card.bonus(), bonus_fen),
            Line(card.store("revenue"), -(principal_fen + bonus_fen)),
        ],
    )


def refund(card: Card, principal_fen: int, bonus_fen: int) -> JournalEntry:
    """Goods come back: the sale is reversed and the value returns to the card."""
    return _entry(
        Operation.REFUND,
        [
            Line(card.store("revenue"), principal_fen + bonus_fen),
            Line(card.principal(), -principal_fen),
            Line(card.bonus(), -bonus_fen),
        ],
    )


def cash_refund(
    card: Card, method: PaymentMethod, principal_fen: int, bonus_fen: int
) -> JournalEntry:
    """The card is paid out: principal leaves as money, bonus lapses back to promotion."""
    return _entry(
        Operation.CASH_REFUND,
        [
            Line(card.principal(), principal_fen),
            Line(accounts.clearing(card.store_id, method), -principal_fen),
            Line(card.bonus(), bonus_fen),
            Line(card.store("promotion"), -bonus_fen),
        ],
    )


def void(original: Sequence[Line]) -> JournalEntry:
    """The exact reverse of a top-up: every line negated, in the same order."""
    return _entry(Operation.VOID, [Line(x.account, -x.amount_fen) for x in original])
