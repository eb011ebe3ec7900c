"""Booking on a card read without a lock: a card that moved in between books nothing, and the
operation decides again on the card locked (both databases).

A concurrent transaction that commits between an operation's read and its booking is played
here by the same change made on the operation's own connection, right after the read: on
PostgreSQL that read runs without a transaction, so the change commits at once, as another
clerk's would; on SQLite it joins the operation's transaction. To the booking's
``WHERE version = :read`` the two look the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, text

from api.db import Database, is_sqlite
from api.errors import AppError
from api.stored_value import members, views
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
