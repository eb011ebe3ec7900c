"""Booking on a card read without a lock: a card that moved in between books nothing, and the
operation decides again on the card locked (both databases).

A concurrent transaction that commits between an operation's read and its booking is played
here by the same change made on the operation's own connection, right after the read: on
PostgreSQL that read runs without a transaction, so the change commits at once, as another
clerk's would; on SQLite it joins the operation's transaction. To the booking's
``WHERE version = :read`` the two look the same.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection, text

from api.db import Database, is_sqlite
from api.errors import AppError
from api.stored_value import members, operations, views
from api.stored_value import repository as repo
from api.stored_value.privacy import MemberKeys
from api.stored_value.rules import Rules
from tests.api.stored_value.till import Shop, Till, tasting_promotion


def _between_read_and_booking(
    monkeypatch: pytest.MonkeyPatch, change: Callable[[Connection, str], None]
) -> list[bool]:
    """Run ``change`` right after the first unlocked read of the card of each operation that
    follows; record each booking's outcome, checking that a refused booking wrote nothing."""
    look_up, book = repo.look_up, repo.book
    booked: list[bool] = []
    changed: set[str] = set()

    def look_up_then_change(conn: Connection, key: str, member_id: str | None) -> Any:
        outcome = look_up(conn, key, member_id)
        if outcome[0] is None and member_id is not None and key not in changed:
            changed.add(key)
            change(conn, member_id)
        return outcome

    def book_and_check(conn: Connection, booking: repo.Booking) -> tuple[bool, Any]:
        done, card = book(conn, booking)
        booked.append(done)
        if not done:
            params = {"j": booking.journal["journal_id"], "k": booking.request_key}
            for query in (
                "SELECT count(*) FROM stored_value_journal WHERE journal_id = :j",
                "SELECT count(*) FROM stored_value_postings WHERE journal_id = :j",
                "SELECT count(*) FROM ledger_outbox WHERE entry_id = :j",
                "SELECT count(*) FROM stored_value_requests WHERE idempotency_key = :k",
            ):
                assert conn.execute(text(query), params).scalar_one() == 0, query
        return done, card

    monkeypatch.setattr(repo, "look_up", look_up_then_change)
    monkeypatch.setattr(repo, "book", book_and_check)
    return booked


def test_a_spend_decided_on_a_card_that_moved_is_decided_again_under_the_lock(
    till: Till, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = till.register().member_id
    till.top_up(m, 10_000)
    elsewhere = [7_000]

    def spend_elsewhere(conn: Connection, member_id: str) -> None:
        conn.execute(
            text(
                "UPDATE stored_value_accounts SET principal_fen = principal_fen - :a, "
                "version = version + 1 WHERE member_id = :m"
            ),
            {"a": elsewhere[0], "m": member_id},
        )

    booked = _between_read_and_booking(monkeypatch, spend_elsewhere)
    # Read 100.00 CNY, but 70.00 went meanwhile: booked on the second, locked read of 30.00.
    out = till.spend(m, 2_000).result
    assert booked == [False, True]
    assert out.balance.total_fen == 1_000
    booked.clear()
    # Read 10.00, but 5.00 went meanwhile: the second decision sees 5.00 and refuses.
    elsewhere[0] = 500
    with pytest.raises(AppError) as refused:
        till.spend(m, 800)
    assert refused.value.code == "insufficient_balance"
    assert booked == [False]
    monkeypatch.undo()
    with db.engine.connect() as conn:
        card = repo.read_card(conn, m, lock=False)
        # On SQLite the change made in the refused attempt's transaction rolled back with it.
        assert card is not None and card[1].principal_fen == (
            1_000 if is_sqlite(db.engine) else 500
        )
        journal = "SELECT operation FROM stored_value_journal WHERE member_id = :m"
        # the refused attempt wrote nothing; the other wrote its entry once
        ops = sorted(conn.execute(text(journal), {"m": m}).scalars())
        assert ops == ["spend", "top_up"]


def test_a_top_up_racing_an_erasure_finds_the_member_gone(
    till: Till, db: Database, keys: MemberKeys, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = till.register().member_id  # balance 0: erasable

    def erase(conn: Connection, member_id: str) -> None:
        members.erase(conn, keys, member_id, datetime.now(UTC), till.store_id)

    booked = _between_read_and_booking(monkeypatch, erase)
    with pytest.raises(AppError) as gone:
        till.top_up(m, 10_000)
    assert gone.value.code == "member_erased"
    assert booked == [False]


def test_a_top_up_racing_a_real_name_registration_decides_on_the_new_cap(
    till: Till, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = till.register().member_id
    till.top_up(m, 90_000)

    def bump(conn: Connection, member_id: str) -> None:
        repo.touch_account(conn, member_id)  # what set_real_name does first

    booked = _between_read_and_booking(monkeypatch, bump)
    out = till.top_up(m, 5_000).result
    assert booked == [False, True]
    assert out.balance.total_fen == 95_000


def test_each_booked_journal_row_reads_back_as_the_answer_the_operation_gave(
    till: Till, db: Database, shop: Shop, rules: Rules
) -> None:
    """The booking writes the journal row from what the operation decided (on PostgreSQL as
    one JSON document per row, typed by the server): every column an answer shows comes back
    as it was answered, a gift's name in Chinese and the time to the microsecond included."""
    promo = tasting_promotion(db, shop.dealer)
    m = till.register(name="王五", id_number="11010519491231002X").member_id
    top = till.top_up(m, 100_000, "wechat", promo.promotion_id).result
    sale = till.spend(m, 11_001).result
    back = till.refund(sale.journal_id, 5_001).result
    # voidable only if the booking stored the card's debit count as it was at this top-up
    unused = till.top_up(m, 20_000, "alipay").result
    void = till.void(unused.journal_id).result
    out = till.cash_refund(m).result
    answers = [top, sale, back, unused, void, out]
    with db.engine.connect() as conn:
        lines = repo.lines_of(conn, [a.journal_id for a in answers])
        for answer in answers:
            row = repo.get_journal(conn, answer.journal_id)
            assert row is not None
            assert views.operation_out(row, lines[answer.journal_id], rules, True) == answer


def _moving_before_each_booking(
    monkeypatch: pytest.MonkeyPatch, db: Database, change: Callable[[Connection, str], None]
) -> list[bool]:
    """Run ``change`` right before each booking an operation makes without the card locked
    (on PostgreSQL as many as ``OPTIMISTIC_ATTEMPTS``, on SQLite the one before its decision
    under the lock), so that each of them misses; record each booking's outcome."""
    book = repo.book
    booked: list[bool] = []
    misses = operations.OPTIMISTIC_ATTEMPTS if not is_sqlite(db.engine) else 1

    def change_then_book(conn: Connection, booking: repo.Booking) -> tuple[bool, Any]:
        if len(booked) < misses:
            change(conn, booking.member_id)
        done, card = book(conn, booking)
        booked.append(done)
        return done, card

    monkeypatch.setattr(repo, "book", change_then_book)
    return booked


def _spend_elsewhere(amount: int) -> Callable[[Connection, str], None]:
    def spend(conn: Connection, member_id: str) -> None:
        conn.execute(
            text(
                "UPDATE stored_value_accounts SET principal_fen = principal_fen - :a, "
                "version = version + 1 WHERE member_id = :m"
            ),
            {"a": amount, "m": member_id},
        )

    return spend


@pytest.fixture
def alone(db: Database, keys: MemberKeys, rules: Rules, till: Till) -> Iterator[tuple[Till, str]]:
    """The till on a pool of one connection (every operation gets the same one), and a
    member with 100.00 CNY."""
    one = Database(db.url, pool_size=1, max_overflow=0)
    try:
        at = Till(one, keys, rules, till.store_id)
        member = at.register().member_id
        at.top_up(member, 10_000)
        yield at, member
    finally:
        one.dispose()


def _back_in_transaction_mode(db: Database) -> None:
    if is_sqlite(db.engine):
        return
    with db.engine.connect() as conn:
        driver = conn.connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        assert not driver.autocommit
        assert driver.info.transaction_status == TransactionStatus.IDLE
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_a_card_that_keeps_moving_is_booked_under_its_lock(
    alone: tuple[Till, str], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    till, m = alone
    booked = _moving_before_each_booking(monkeypatch, db, _spend_elsewhere(1_000))
    out = till.spend(m, 2_000).result
    misses = len(booked) - 1
    assert booked == [False] * misses + [True] and misses >= 1
    assert out.balance.total_fen == 10_000 - 1_000 * misses - 2_000
    monkeypatch.undo()
    _back_in_transaction_mode(till.db)
    with till.db.engine.connect() as conn:
        card = repo.read_card(conn, m, lock=False)
        assert card is not None and card[1].total_fen == out.balance.total_fen
        journal = "SELECT count(*) FROM stored_value_journal WHERE member_id = :m"
        assert conn.execute(text(journal), {"m": m}).scalar_one() == 2


def test_a_card_that_keeps_moving_is_refused_under_its_lock_and_nothing_is_written(
    alone: tuple[Till, str], db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    till, m = alone
    booked = _moving_before_each_booking(monkeypatch, db, _spend_elsewhere(4_000))
    misses = 1 if is_sqlite(db.engine) else operations.OPTIMISTIC_ATTEMPTS
    # enough for every card read without the lock, not for the one read under it
    with pytest.raises(AppError) as refused:
        till.spend(m, 10_000 - 4_000 * misses + 1_000)
    assert refused.value.code == "insufficient_balance"
    assert not any(booked)
    monkeypatch.undo()
    _back_in_transaction_mode(till.db)
    with till.db.engine.connect() as conn:
        journal = "SELECT operation FROM stored_value_journal WHERE member_id = :m"
        assert list(conn.execute(text(journal), {"m": m}).scalars()) == ["top_up"]
    till.spend(m, 500)  # the connection still works


def test_an_attempt_refused_under_the_lock_replays_a_retry_of_it_that_committed_meanwhile(
    till: Till, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two attempts with one key: the other one books while this one's card keeps moving;
    this one, refused on the card it then locks, answers with the other's booking."""
    if is_sqlite(db.engine):
        pytest.skip("on SQLite an operation's transaction holds the database: no such race")
    m = till.register().member_id
    till.top_up(m, 10_000)
    txn = "RACE-1"
    done: list[Any] = []

    def then(conn: Connection, member_id: str) -> None:
        if done:  # the second miss: meanwhile the other attempt books
            monkeypatch.setattr(repo, "book", book)
            # from another process, which has turns of its own
            monkeypatch.setattr(operations, "_turn_of", lambda _: threading.Lock())
            done.append(till.spend(member_id, 8_000, txn=txn))
        else:
            _spend_elsewhere(100)(conn, member_id)
            done.append(None)

    book = repo.book
    _moving_before_each_booking(monkeypatch, db, then)
    answer = till.spend(m, 8_000, txn=txn)
    other = done[-1]
    assert not other.replayed and answer.replayed
    assert answer.result == other.result
    with db.engine.connect() as conn:
        journal = "SELECT count(*) FROM stored_value_journal WHERE member_id = :m"
        assert conn.execute(text(journal), {"m": m}).scalar_one() == 2
