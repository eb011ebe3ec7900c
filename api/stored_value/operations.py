"""The clerk's operations on a member's stored value: each one balanced journal entry, written
with the balance rows and staged as one ledger entry in the same transaction.

Every operation locks the member's account row before it reads the balance it decides on, and
moves the balance with an UPDATE that itself refuses to go below zero (repository lock order).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from api.errors import AppError, Conflict, NotFound
from api.log.outbox import stage_entry
from api.stored_value import journal, promotions, views
from api.stored_value import member_repository as members
from api.stored_value import repository as repo
from api.stored_value.counter import Counter
from api.stored_value.idempotency import Replayable, RequestKey, once
from api.stored_value.journal import Card, JournalEntry, Operation
from api.stored_value.member_repository import MemberRow
from api.stored_value.privacy import MemberKeys
from api.stored_value.repository import AccountRow, JournalRow
from api.stored_value.rules import InsufficientBalance, Rules, refund_split, spend_split
from api.stored_value.schemas import CashRefundIn, OperationOut, RefundIn, SpendIn, TopUpIn, VoidIn
from ledger.canonical import format_ts


class MemberErased(AppError):
    status_code = 410
    code = "member_erased"


class NotVoidable(Conflict):
    code = "not_voidable"


class NothingToRefund(Conflict):
    code = "nothing_to_refund"


def member_here(conn: Connection, counter: Counter, member_id: str) -> MemberRow:
    """The member, if this store accepts their card; erased members are gone (410)."""
    return _accepted(counter, member_id, members.get_member(conn, member_id))


def card_here(conn: Connection, counter: Counter, member_id: str) -> tuple[MemberRow, AccountRow]:
    """Like :func:`member_here`, with the member's account row, locked."""
    found = repo.lock_card(conn, member_id)
    member = _accepted(counter, member_id, found[0] if found else None)
    assert found is not None
    return member, found[1]


def _accepted(counter: Counter, member_id: str, member: MemberRow | None) -> MemberRow:
    if member is None or member.issuer_id not in counter.programmes:
        raise NotFound(f"no member {member_id} in the programmes store {counter.store_id} accepts")
    if member.erased:
        raise MemberErased(f"member {member_id} was erased at their request; the card is closed")
    return member


@dataclass(frozen=True, slots=True)
class Desk:
    """One operation in progress: its transaction, the rules, the counter and its key."""

    conn: Connection
    rules: Rules
    counter: Counter
    key: RequestKey

    def card(self, member_id: str) -> tuple[MemberRow, AccountRow, Card]:
        """The member, their locked account, and the accounts this counter posts to."""
        member, account = card_here(self.conn, self.counter, member_id)
        return member, account, Card(member.issuer_id, member.member_id, self.counter.store_id)

    def referenced(
        self, journal_id: str, operation: Operation, what: str
    ) -> tuple[MemberRow, AccountRow, Card, JournalRow]:
        """An earlier operation of this store that a refund or a void undoes, locked after the
        member's account (the lock order)."""
        found = repo.get_journal(self.conn, journal_id)
        if found is None or found.operation != operation or found.store_id != self.counter.store_id:
            raise NotFound(f"no {what} {journal_id} at store {self.counter.store_id}")
        member, account, card = self.card(found.member_id)
        locked = repo.get_journal(self.conn, journal_id, for_update=True)
        assert locked is not None
        return member, account, card, locked

    def book(
        self,
        member: MemberRow,
        account: AccountRow,
        entry: JournalEntry,
        *,
        ledger: dict[str, Any],
        **columns: Any,
    ) -> OperationOut:
        """Move the balance, write the journal entry and stage its ledger entry."""
        counter = self.counter
        principal, bonus = entry.member_change(member.member_id)
        debit = entry.operation in (Operation.SPEND, Operation.CASH_REFUND)
        moved = repo.move_balance(
            self.conn, member.member_id, principal, bonus, debit=debit, now=counter.now
        )
        if not moved:  # the lock makes this unreachable; the UPDATE's own guard is the last word
            raise InsufficientBalance(f"member {member.member_id}'s balance changed; retry")
        journal_id = str(uuid.uuid4())
        values: dict[str, Any] = {
            "journal_id": journal_id,
            "operation": entry.operation.value,
            "store_id": counter.store_id,
            "issuer_id": member.issuer_id,
            "member_id": member.member_id,
            "pos_txn": self.key.pos_txn,
            "business_day": counter.business_day,
            "created_at": counter.now,
            "principal_fen": principal,
            "bonus_fen": bonus,
            "principal_after_fen": account.principal_fen + principal,
            "bonus_after_fen": account.bonus_fen + bonus,
            "payment_method": None,
            "promotion_id": None,
            "gift_sku": None,
            "gift_name": None,
            "gift_qty": None,
            "gift_cost_fen": None,
            "ref_journal_id": None,
            "refunded_principal_fen": 0,
            "refunded_bonus_fen": 0,
            "voided_by": None,
            "debit_count_at": account.debit_count + (1 if debit else 0),
            **columns,
        }
        repo.insert_journal(self.conn, entry.lines, **values)
        payload = {
            "issuer": member.issuer_id,
            "member": member.member_id,
            "store": counter.store_id,
            "pos_txn": self.key.pos_txn,
            "business_day": counter.business_day.isoformat(),
            "at": format_ts(counter.now),
            "postings": entry.as_payload(),
            **ledger,
        }
        stage_entry(self.conn, entry.operation.ledger_kind, payload, entry_id=journal_id)
        return views.operation_out(JournalRow(**values), entry.lines, self.rules, member.real_name)


Body = TopUpIn | SpendIn | RefundIn | CashRefundIn | VoidIn


def _once(
    desk: Desk, keys: MemberKeys, operation: Operation, body: Body, run: Callable[[], OperationOut]
) -> Replayable[OperationOut]:
    request = body.model_dump(mode="json")
    now = desk.counter.now
    return once(desk.conn, keys, desk.key, operation.value, request, OperationOut, run, now=now)


def top_up(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: TopUpIn,
) -> Replayable[OperationOut]:
    desk = Desk(conn, rules, counter, key)

    def run() -> OperationOut:
        member, account, card = desk.card(body.member_id)
        promotion = promotions.applicable(conn, counter, body.promotion_id, body.paid_fen)
        bonus = promotion.bonus_fen if promotion else 0
        gift_cost = (promotion.gift_cost_fen or 0) if promotion else 0
        rules.check_top_up(
            real_name=member.real_name,
            principal_fen=account.principal_fen,
            bonus_fen=account.bonus_fen,
            paid_fen=body.paid_fen,
            granted_bonus_fen=bonus,
            method=body.payment_method,
        )
        entry = journal.top_up(card, body.payment_method, body.paid_fen, bonus, gift_cost)
        ledger: dict[str, Any] = {"payment": body.payment_method.value}
        columns: dict[str, Any] = {"payment_method": body.payment_method.value}
        if promotion is not None:
            ledger["promotion"] = columns["promotion_id"] = promotion.promotion_id
            if promotion.gift_sku is not None:
                ledger["gift"] = {
                    "sku": promotion.gift_sku,
                    "qty": promotion.gift_qty,
                    "cost_fen": gift_cost,
                }
                columns.update(
                    gift_sku=promotion.gift_sku,
                    gift_name=promotion.gift_name,
                    gift_qty=promotion.gift_qty,
                    gift_cost_fen=gift_cost,
                )
        return desk.book(member, account, entry, ledger=ledger, **columns)

    return _once(desk, keys, Operation.TOP_UP, body, run)


def spend(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: SpendIn,
) -> Replayable[OperationOut]:
    desk = Desk(conn, rules, counter, key)

    def run() -> OperationOut:
        member, account, card = desk.card(body.member_id)
        principal, bonus = spend_split(body.amount_fen, account.principal_fen, account.bonus_fen)
        return desk.book(member, account, journal.spend(card, principal, bonus), ledger={})

    return _once(desk, keys, Operation.SPEND, body, run)


def refund(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: RefundIn,
) -> Replayable[OperationOut]:
    desk = Desk(conn, rules, counter, key)

    def run() -> OperationOut:
        member, account, card, spent = desk.referenced(body.spend_id, Operation.SPEND, "spend")
        principal, bonus = refund_split(
            -spent.principal_fen,
            -spent.bonus_fen,
            spent.refunded_principal_fen,
            spent.refunded_bonus_fen,
            body.amount_fen,
        )
        entry = journal.refund(card, principal, bonus)
        ref = spent.journal_id
        out = desk.book(member, account, entry, ledger={"ref": ref}, ref_journal_id=ref)
        repo.add_refunded(conn, ref, principal, bonus)
        return out

    return _once(desk, keys, Operation.REFUND, body, run)


def cash_refund(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: CashRefundIn,
) -> Replayable[OperationOut]:
    desk = Desk(conn, rules, counter, key)

    def run() -> OperationOut:
        member, account, card = desk.card(body.member_id)
        if account.total_fen == 0:
            raise NothingToRefund(f"member {member.member_id}'s balance is 0.00 CNY")
        method = body.payment_method
        entry = journal.cash_refund(card, method, account.principal_fen, account.bonus_fen)
        return desk.book(
            member, account, entry, ledger={"payment": method.value}, payment_method=method.value
        )

    return _once(desk, keys, Operation.CASH_REFUND, body, run)


def void(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: VoidIn,
) -> Replayable[OperationOut]:
    desk = Desk(conn, rules, counter, key)

    def run() -> OperationOut:
        member, account, _, top = desk.referenced(body.top_up_id, Operation.TOP_UP, "top-up")
        if top.voided_by is not None:
            raise NotVoidable(f"top-up {top.journal_id} was already voided by {top.voided_by}")
        if top.business_day != counter.business_day:
            raise NotVoidable(
                f"top-up {top.journal_id} was made on {top.business_day}; only same-day top-ups "
                "can be voided (refund the balance in cash instead)"
            )
        if account.debit_count != top.debit_count_at:
            raise NotVoidable(
                f"the card was spent from or paid out since top-up {top.journal_id}; only an "
                "unused top-up can be voided"
            )
        entry = journal.void(repo.lines_of(conn, [top.journal_id])[top.journal_id])
        ref = top.journal_id
        out = desk.book(
            member,
            account,
            entry,
            ledger={"ref": ref},
            ref_journal_id=ref,
            payment_method=top.payment_method,
        )
        repo.mark_voided(conn, ref, out.journal_id)
        return out

    return _once(desk, keys, Operation.VOID, body, run)
