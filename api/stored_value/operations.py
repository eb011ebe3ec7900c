"""The clerk's operations on a member's stored value: each one balanced journal entry, written
with the balance rows and staged as one ledger entry in the same transaction.

A top-up, a spend or a cash refund reads the card and whether its idempotency key was used in
one statement, without a lock, decides, and books with an UPDATE that applies only if the
account's version is still the one it read (and that itself refuses to go below zero); the
same statement writes the journal entry, the staged ledger entry and the key with its answer.
On PostgreSQL that runs without a transaction (``transactions.optimistically``): the booking
statement is its own, so a hot member's row is locked only while it and its commit run, not
while Python decides. If another operation moved the card in between, it decides once more
on the card as the failed booking found it; if that misses too, it begins a transaction on
the same connection that locks the card, decides under the lock and books with the commit
(a concurrent retry of the same request has committed by then: its key stops the booking,
and a refusal looks the key up). The operations of one process on one card take turns, so
that only another process's booking can make one miss.
A refund or a void also depends on the journal row it undoes, so it always runs in a
transaction and locks the account, then that row, from the start (repository lock order).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from api.db import is_sqlite
from api.errors import AppError, Conflict, NotFound
from api.stored_value import journal, promotions, views
from api.stored_value import member_repository as members
from api.stored_value import repository as repo
from api.stored_value.counter import Counter
from api.stored_value.idempotency import Replayable, RequestKey, digest, replay
from api.stored_value.journal import Card, JournalEntry, Operation
from api.stored_value.member_repository import MemberRow
from api.stored_value.privacy import MemberKeys
from api.stored_value.repository import AccountRow, Booking, CardRow, JournalRow, RequestRow
from api.stored_value.rules import Rules, refund_split, spend_split
from api.stored_value.schemas import CashRefundIn, OperationOut, RefundIn, SpendIn, TopUpIn, VoidIn
from api.stored_value.transactions import NeedsTransaction, autocommits
from ledger.canonical import canonical_json, format_ts

log = logging.getLogger(__name__)


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


def card_here(
    conn: Connection, counter: Counter, member_id: str, *, lock: bool = True
) -> tuple[MemberRow, AccountRow]:
    """Like :func:`member_here`, with the member's account row (locked unless ``lock`` is
    false)."""
    return _card_accepted(counter, member_id, repo.read_card(conn, member_id, lock=lock))


def _card_accepted(
    counter: Counter, member_id: str, found: CardRow | None
) -> tuple[MemberRow, AccountRow]:
    member = _accepted(counter, member_id, found[0] if found else None)
    assert found is not None
    return member, found[1]


def _accepted(counter: Counter, member_id: str, member: MemberRow | None) -> MemberRow:
    if member is None or member.issuer_id not in counter.programmes:
        raise NotFound(f"no member {member_id} in the programmes store {counter.store_id} accepts")
    if member.erased:
        raise MemberErased(f"member {member_id} was erased at their request; the card is closed")
    return member


Decide = Callable[[MemberRow, AccountRow, Card], OperationOut]


class CardMoved(Exception):
    """The card changed between the read an operation decided on and its booking; ``card``
    is the card as the booking found it, if it had it."""

    def __init__(self, member_id: str, card: CardRow | None) -> None:
        super().__init__(member_id)
        self.card = card


@dataclass(frozen=True, slots=True)
class Desk:
    """One operation in progress: its connection, the rules, the counter, its key and what a
    retry must match."""

    conn: Connection
    rules: Rules
    counter: Counter
    key: RequestKey
    operation: Operation
    request_digest: bytes

    def card(self, member_id: str, *, lock: bool = True) -> tuple[MemberRow, AccountRow, Card]:
        """The member, their account (locked unless ``lock`` is false), and the accounts this
        counter posts to."""
        member, account = card_here(self.conn, self.counter, member_id, lock=lock)
        return member, account, self._card(member)

    def settle(self, member_id: str, decide: Decide) -> Replayable[OperationOut]:
        """The key's first answer if it was used, else ``decide`` (which books).

        Without a transaction (or on SQLite, whose transaction holds the database) on the card
        and key as read together without a lock, the operations of this process on the card
        taking turns; if the card moved before the booking, decided again
        (``OPTIMISTIC_ATTEMPTS`` in all), then on the card locked (:meth:`_locked`; on SQLite:
        once more on the card as it is now). In a transaction on PostgreSQL, on the card
        locked first, then the key: a concurrent attempt with the same key held the card, so
        it has committed by now."""
        if not autocommits(self.conn):
            return self._settle(member_id, decide, autocommitting=False)
        with _turn_of(member_id):
            return self._settle(member_id, decide, autocommitting=True)

    def _settle(
        self, member_id: str, decide: Decide, *, autocommitting: bool
    ) -> Replayable[OperationOut]:
        conn = self.conn
        optimistic = autocommitting or is_sqlite(conn)
        # Without a transaction a moved card is decided on again: cheaper than a transaction
        # that holds the hot row's lock across round trips, unless the card keeps moving.
        newer: CardRow | None = None  # a later card than the last decision's, from its booking
        read: CardRow | None
        for _ in range(OPTIMISTIC_ATTEMPTS if autocommitting else 1):
            if newer is not None:
                read = newer
            else:
                if optimistic:
                    found, read = repo.look_up(conn, self.key.text, member_id)
                else:
                    read = repo.read_card(conn, member_id, lock=True)
                    found = repo.get_request(conn, self.key.text)
                if found is not None:
                    return self.replay(found)
            member, account = _card_accepted(self.counter, member_id, read)
            try:
                return _created(decide(member, account, self._card(member)))
            except CardMoved as moved:
                seen = moved.card
                newer = seen if seen is not None and seen[1].version > account.version else None
        if autocommitting:
            return self._locked(member_id, decide)
        return _created(decide(*self.card(member_id, lock=True)))

    def _locked(self, member_id: str, decide: Decide) -> Replayable[OperationOut]:
        """``decide`` on the card locked in a transaction that the booking commits (on
        PostgreSQL, where the card kept moving under the optimistic attempts): two round
        trips, the row locked from the first one's answer to the second's. The key is read
        only if the operation is refused: a concurrent attempt with the same key held the
        card, so it has committed by now, and a booking with its key fails on the key's
        unique index (the caller runs the request again and replays it)."""
        log.debug("a stored-value operation runs with the card locked: %s", member_id)
        conn = self.conn
        try:
            member, account = _card_accepted(
                self.counter, member_id, repo.lock_card(conn, member_id)
            )
            return _created(decide(member, account, self._card(member)))
        except AppError:
            repo.release_card(conn)
            if (used := self.used()) is not None:
                return used
            raise
        except CardMoved as moved:  # not while the row is locked; but never book on a guess
            repo.release_card(conn)
            raise NeedsTransaction(f"member {member_id}'s card moved under its lock") from moved
        except BaseException:
            repo.release_card(conn)
            raise

    def replay(self, found: RequestRow) -> Replayable[OperationOut]:
        return replay(found, self.key, self.operation.value, self.request_digest, OperationOut)

    def used(self) -> Replayable[OperationOut] | None:
        """The key's first answer, if it was used."""
        found = repo.get_request(self.conn, self.key.text)
        return None if found is None else self.replay(found)

    def _card(self, member: MemberRow) -> Card:
        return Card(member.issuer_id, member.member_id, self.counter.store_id)

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
        """Move the balance, write the journal entry, stage its ledger entry and store the
        request's key with its answer, provided the account is still as read (else
        :class:`CardMoved`)."""
        counter = self.counter
        principal, bonus = entry.member_change(self._card(member))
        debit = entry.operation in (Operation.SPEND, Operation.CASH_REFUND)
        journal_id = str(uuid.uuid4())
        day = counter.business_day
        values: dict[str, Any] = {
            "journal_id": journal_id,
            "operation": entry.operation.value,
            "store_id": counter.store_id,
            "issuer_id": member.issuer_id,
            "member_id": member.member_id,
            "pos_txn": self.key.pos_txn,
            "business_day": day,
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
        payload = {
            "issuer": member.issuer_id,
            "member": member.member_id,
            "store": counter.store_id,
            "pos_txn": self.key.pos_txn,
            "business_day": day.isoformat(),
            "at": format_ts(counter.now),
            "postings": entry.as_payload(),
            **ledger,
        }
        out = views.operation_out(JournalRow(**values), entry.lines, self.rules, member.real_name)
        booking = Booking(
            member_id=member.member_id,
            version=account.version,
            principal_delta=principal,
            bonus_delta=bonus,
            debit=debit,
            now=counter.now,
            journal=values,
            lines=entry.lines,
            ledger_kind=entry.operation.ledger_kind,
            # canonicalised now, as stage_entry does: a bad value fails this transaction
            ledger_payload=canonical_json(payload).decode(),
            request_key=self.key.text,
            operation=self.operation.value,
            request_digest=self.request_digest,
            status_code=CREATED,
            response=out.model_dump_json(),
        )
        booked, card = repo.book(self.conn, booking)
        if not booked:
            raise CardMoved(member.member_id, card)
        return out


# Operations of this process on one card take turns (a lock per stripe of member ids): two
# threads that read the same card and book one after the other would make the second one's
# booking miss and decide again. Across processes the card's version still decides.
_TURNS = tuple(threading.Lock() for _ in range(1024))


def _turn_of(member_id: str) -> threading.Lock:
    return _TURNS[hash(member_id) % len(_TURNS)]


Body = TopUpIn | SpendIn | RefundIn | CashRefundIn | VoidIn
CREATED = 201
OPTIMISTIC_ATTEMPTS = 2


def _created(out: OperationOut) -> Replayable[OperationOut]:
    return Replayable(out, CREATED, False)


def _desk(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    operation: Operation,
    body: Body,
) -> Desk:
    request_digest = digest(keys, operation.value, body.model_dump(mode="json"))
    return Desk(conn, rules, counter, key, operation, request_digest)


def _undoing(desk: Desk, run: Callable[[], Replayable[OperationOut]]) -> Replayable[OperationOut]:
    """A refund or a void: the key's first answer if it was used, else ``run`` (which locks,
    then looks at the key again, then books); always in a transaction."""
    if autocommits(desk.conn):
        raise NeedsTransaction(f"a {desk.operation.value} locks what it undoes")
    return desk.used() or run()


def top_up(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: TopUpIn,
) -> Replayable[OperationOut]:
    desk = _desk(conn, keys, rules, counter, key, Operation.TOP_UP, body)

    def decide(member: MemberRow, account: AccountRow, card: Card) -> OperationOut:
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

    return desk.settle(body.member_id, decide)


def spend(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: SpendIn,
) -> Replayable[OperationOut]:
    desk = _desk(conn, keys, rules, counter, key, Operation.SPEND, body)

    def decide(member: MemberRow, account: AccountRow, card: Card) -> OperationOut:
        principal, bonus = spend_split(body.amount_fen, account.principal_fen, account.bonus_fen)
        return desk.book(member, account, journal.spend(card, principal, bonus), ledger={})

    return desk.settle(body.member_id, decide)


def refund(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: RefundIn,
) -> Replayable[OperationOut]:
    desk = _desk(conn, keys, rules, counter, key, Operation.REFUND, body)

    def run() -> Replayable[OperationOut]:
        member, account, card, spent = desk.referenced(body.spend_id, Operation.SPEND, "spend")
        if (used := desk.used()) is not None:  # a concurrent retry held the account
            return used
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
        return _created(out)

    return _undoing(desk, run)


def cash_refund(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: CashRefundIn,
) -> Replayable[OperationOut]:
    desk = _desk(conn, keys, rules, counter, key, Operation.CASH_REFUND, body)

    def decide(member: MemberRow, account: AccountRow, card: Card) -> OperationOut:
        if account.total_fen == 0:
            raise NothingToRefund(f"member {member.member_id}'s balance is 0.00 CNY")
        method = body.payment_method
        entry = journal.cash_refund(card, method, account.principal_fen, account.bonus_fen)
        return desk.book(
            member, account, entry, ledger={"payment": method.value}, payment_method=method.value
        )

    return desk.settle(body.member_id, decide)


def void(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: VoidIn,
) -> Replayable[OperationOut]:
    desk = _desk(conn, keys, rules, counter, key, Operation.VOID, body)

    def run() -> Replayable[OperationOut]:
        member, account, _, top = desk.referenced(body.top_up_id, Operation.TOP_UP, "top-up")
        if (used := desk.used()) is not None:  # a concurrent retry held the account
            return used
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
        return _created(out)

    return _undoing(desk, run)
