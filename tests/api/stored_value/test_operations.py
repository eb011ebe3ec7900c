"""The clerk's operations through the real service, in real transactions, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from api.db import Database
from api.errors import AppError
from api.log.service import LogService
from api.stored_value import promotions
from api.stored_value.schemas import PromotionIn
from tests.api.stored_value.till import (
    ROOT,
    Shop,
    Till,
    member_balances_from_ledger,
    rebuild_balances,
    stored_member_balances,
    tasting_promotion,
)


def code_of(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(AppError) as info:
        call()
    return info.value.code


def test_top_up_spend_refund_cash_refund_keep_the_books_balanced(
    till: Till, db: Database, log: LogService
) -> None:
    m = till.register().member_id
    top = till.top_up(m, 100_000).result
    assert top.balance.total_fen == 100_000 and top.principal_fen == 100_000
    sale = till.spend(m, 38_800).result
    assert (sale.principal_fen, sale.bonus_fen) == (-38_800, 0)
    back = till.refund(sale.journal_id, 10_000).result
    assert back.balance.principal_fen == 71_200
    out = till.cash_refund(m).result
    assert out.principal_fen == -71_200 and out.balance.total_fen == 0
    for op in (top, sale, back, out):
        assert sum(p.amount_fen for p in op.postings) == 0
    log.relay()
    with db.engine.connect() as conn:
        assert member_balances_from_ledger(conn)[m] == (0, 0)
        books = rebuild_balances(conn)
    store = till.store_id
    assert books[f"store:{store}:clearing:cash"] == 100_000 - 71_200
    assert books[f"store:{store}:revenue"] == -(38_800 - 10_000)


def test_promotion_bonus_and_gift_spend_pro_rata_and_refund_in_the_original_split(
    till: Till, db: Database, shop: Shop, log: LogService
) -> None:
    promo = tasting_promotion(db, shop.dealer)
    m = till.register(name="王五", id_number="11010519491231002X").member_id
    top = till.top_up(m, 100_000, "wechat", promo.promotion_id).result
    assert (top.balance.principal_fen, top.balance.bonus_fen) == (100_000, 10_000)
    assert top.gift is not None and top.gift.cost_fen == 3_500
    accounts = {p.account: p.amount_fen for p in top.postings}
    assert accounts[f"store:{till.store_id}:goods_promotion"] == 3_500
    assert accounts[f"store:{till.store_id}:gift_stock"] == -3_500
    assert not any(a.startswith("liability") and v == -3_500 for a, v in accounts.items())
    # 11,000 fen drawn pro rata from 100,000 : 10,000 -> 10,000 principal, 1,000 bonus.
    sale = till.spend(m, 11_000).result
    assert (sale.principal_fen, sale.bonus_fen) == (-10_000, -1_000)
    # An odd amount: the rounding fen comes from bonus (ceil), never from paid money.
    odd = till.spend(m, 1).result
    assert (odd.principal_fen, odd.bonus_fen) == (0, -1)
    # Refunds return the spend's own split, cumulatively exact, never more than spent.
    first = till.refund(sale.journal_id, 5_001).result
    second = till.refund(sale.journal_id, 5_999).result
    assert first.principal_fen + second.principal_fen == 10_000
    assert first.bonus_fen + second.bonus_fen == 1_000
    assert code_of(lambda: till.refund(sale.journal_id, 1)) == "refund_exceeds_spend"
    # A cash refund pays out the principal; the bonus lapses back to promotion expense.
    out = till.cash_refund(m).result
    assert out.principal_fen == -100_000 and out.bonus_fen == -(10_000 - 1)
    log.relay()
    with db.engine.connect() as conn:
        assert member_balances_from_ledger(conn)[m] == (0, 0)


def test_cash_refund_is_paid_times_paid_over_paid_plus_bonus(till: Till, db: Database) -> None:
    with db.engine.begin() as conn:
        promo = promotions.create(
            conn,
            ROOT,
            PromotionIn(
                owner_id=till.store_id, name="充500送50", min_paid_fen=50_000, bonus_fen=5_000
            ),
        )
    m = till.register().member_id
    till.top_up(m, 50_000, promotion_id=promo.promotion_id)
    for amount in (1_234, 9_999, 333):
        till.spend(m, amount)
    remaining = 55_000 - 1_234 - 9_999 - 333
    out = till.cash_refund(m).result
    # The court's rule on this card: remaining × 50,000 / 55,000; pro-rata spending keeps
    # the unspent principal within the rounding fen of each spend (drawn from bonus).
    court = remaining * 50_000 / 55_000
    assert court <= -out.principal_fen <= court + 3


def test_caps_and_real_name(till: Till) -> None:
    anon = till.register().member_id
    till.top_up(anon, 100_000)  # exactly the anonymous cap
    assert code_of(lambda: till.top_up(anon, 1)) == "cap_exceeded"
    named = till.register(name="张三", id_number="11010519491231002X").member_id
    till.top_up(named, 500_000)
    assert code_of(lambda: till.top_up(named, 1)) == "cap_exceeded"
    till.spend(named, 1)
    till.top_up(named, 1)


def test_real_name_threshold_and_non_cash_rule_when_caps_allow(
    db: Database,
    keys,
    shop: Shop,  # type: ignore[no-untyped-def]
) -> None:
    from api.stored_value.rules import Rules

    rules = Rules(named_cap_fen=10_000_000, anonymous_cap_fen=10_000_000)
    till = Till(db, keys, rules, shop.store)
    anon = till.register().member_id
    assert code_of(lambda: till.top_up(anon, 1_000_000)) == "real_name_required"
    till.top_up(anon, 999_999)
    named = till.register(name="李四", id_number="11010519491231002X").member_id
    till.top_up(named, 1_000_000)
    assert code_of(lambda: till.top_up(named, 5_000_000)) == "non_cash_required"
    till.top_up(named, 5_000_000, "bank_transfer")


def test_spend_more_than_the_balance_is_refused_and_writes_nothing(
    till: Till, db: Database
) -> None:
    m = till.register().member_id
    till.top_up(m, 1_000)
    with db.engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM ledger_outbox")).scalar_one()
    assert code_of(lambda: till.spend(m, 1_001)) == "insufficient_balance"
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM ledger_outbox")).scalar_one() == before
        assert stored_member_balances(conn)[m] == (1_000, 0)


def test_idempotency_replay_conflict_and_rejections_do_not_pin_the_key(
    till: Till, db: Database
) -> None:
    m = till.register().member_id
    first = till.top_up(m, 5_000, txn="POS1-0001")
    again = till.top_up(m, 5_000, txn="POS1-0001")
    assert not first.replayed and again.replayed
    assert again.result == first.result
    assert code_of(lambda: till.top_up(m, 6_000, txn="POS1-0001")) == "idempotency_key_reused"
    assert code_of(lambda: till.spend(m, 5_000, txn="POS1-0001")) == "idempotency_key_reused"
    # A refused spend stores nothing: the same POS number works once the balance allows it.
    assert code_of(lambda: till.spend(m, 9_000, txn="POS1-0002")) == "insufficient_balance"
    till.top_up(m, 5_000)
    assert not till.spend(m, 9_000, txn="POS1-0002").replayed
    with db.engine.connect() as conn:
        assert stored_member_balances(conn)[m] == (1_000, 0)
        n = conn.execute(text("SELECT count(*) FROM stored_value_journal")).scalar_one()
    assert n == 3


def test_void_same_day_unused_top_up_only(till: Till) -> None:
    m = till.register().member_id
    kept = till.top_up(m, 2_000).result
    voided = till.top_up(m, 3_000).result
    undo = till.void(voided.journal_id).result
    assert undo.principal_fen == -3_000 and undo.refers_to == voided.journal_id
    assert [p.amount_fen for p in undo.postings] == [-p.amount_fen for p in voided.postings]
    assert code_of(lambda: till.void(voided.journal_id)) == "not_voidable"
    till.spend(m, 100)
    assert code_of(lambda: till.void(kept.journal_id)) == "not_voidable"
    tomorrow = Till(
        till.db, till.keys, till.rules, till.store_id, datetime.now(UTC) + timedelta(days=1)
    )
    late = till.top_up(m, 1_000).result
    assert code_of(lambda: tomorrow.void(late.journal_id)) == "not_voidable"


def test_clerks_act_only_within_their_stores_programmes(
    db: Database, keys, rules, shop: Shop
) -> None:  # type: ignore[no-untyped-def]
    home = Till(db, keys, rules, shop.store)
    sister = Till(db, keys, rules, shop.sister)
    stranger = Till(db, keys, rules, shop.other_store)
    own = home.register().member_id
    chain = home.register(programme="dealer").member_id
    home.top_up(own, 1_000)
    home.top_up(chain, 1_000)
    # The dealer's card works in its sister store; the store's own card does not.
    sister.spend(chain, 500)
    assert code_of(lambda: sister.spend(own, 500)) == "not_found"
    assert code_of(lambda: stranger.spend(chain, 500)) == "not_found"
    # A refund happens where the sale was.
    sale = home.spend(own, 100).result
    assert code_of(lambda: sister.refund(sale.journal_id, 100)) == "not_found"
