"""A seeded stateful simulation against a plain in-memory model, checked after every step.

Top-ups (with and without a promotion, by cash or not), spends, refunds, cash refunds, voids,
real-name upgrades, retries of earlier requests, reused keys with other bodies and the clock
moving to the next day, at two stores of one dealer with store and chain cards. After every
step: balances equal the model's, no balance is negative, and the balances rebuilt from the
ledger alone (every entry's postings summing to zero) equal the stored ones.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import text

from api.db import Database
from api.errors import AppError
from api.log.service import LogService
from api.stored_value import members, promotions
from api.stored_value.counter import counter_at
from api.stored_value.privacy import MemberKeys
from api.stored_value.rules import Rules
from api.stored_value.schemas import PromotionIn, RealNameIn
from api.trace.common import SHANGHAI
from tests.api.stored_value.till import (
    ROOT,
    LedgerProjection,
    Shop,
    Till,
    stored_member_balances,
)

RULES = Rules(
    named_cap_fen=80_000,
    anonymous_cap_fen=30_000,
    real_name_purchase_fen=40_000,
    non_cash_purchase_fen=60_000,
)
PROMO_MIN, PROMO_BONUS = 10_000, 1_500
# Mostly at the card's home store; sometimes at the dealer's other store.
ELSEWHERE = st.sampled_from([False, False, False, True])
ID_NUMBER = "11010519491231002X"


@dataclass
class Card:
    member_id: str
    chain: bool
    real_name: bool = False
    principal: int = 0
    bonus: int = 0
    debits: int = 0


@dataclass
class Spend:
    journal_id: str
    card: Card
    store: str
    principal: int
    bonus: int
    refunded_principal: int = 0
    refunded_bonus: int = 0


@dataclass
class TopUp:
    journal_id: str
    card: Card
    store: str
    principal: int
    bonus: int
    debits_at: int
    day: Any
    voided: bool = False


@dataclass
class Sent:
    """A request that succeeded: how to send it again, and what it answered."""

    resend: Callable[[], Any]
    reuse_with_other_body: Callable[[], Any]
    answer: Any


def simulation(
    db: Database, keys: MemberKeys, shop: Shop, log: LogService, seen: Counter[str]
) -> type:
    start = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    home = Till(db, keys, RULES, shop.store, start)
    sister = Till(db, keys, RULES, shop.sister, start)
    with db.engine.begin() as conn:
        promo = promotions.create(
            conn,
            ROOT,
            PromotionIn(
                owner_id=shop.dealer,
                name="充100送15",
                min_paid_fen=PROMO_MIN,
                bonus_fen=PROMO_BONUS,
            ),
        ).promotion_id

    projection = LedgerProjection()

    class StoredValueSimulation(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.mine: list[Card] = []
            self.spends: list[Spend] = []
            self.top_ups: list[TopUp] = []
            self.sent: list[Sent] = []

        # --- helpers -------------------------------------------------------------------------

        def expect(self, what: str, code: str | None, call: Callable[[], Any]) -> Any:
            """Run ``call``: it must succeed when ``code`` is None, else fail with ``code``."""
            try:
                outcome = call()
            except AppError as exc:
                assert exc.code == code, f"{what}: expected {code}, got {exc.code}: {exc.message}"
                seen[exc.code] += 1
                return None
            assert code is None, f"{what}: expected {code}, but it succeeded"
            seen[what] += 1
            return outcome

        def till(self, at_sister: bool) -> Till:
            return sister if at_sister else home

        def day(self) -> Any:
            assert home.now is not None
            return home.now.astimezone(SHANGHAI).date()

        def pick(self, data: st.DataObject, likely: list[Any], anything: list[Any]) -> Any:
            """Mostly one of ``likely`` (those the operation can succeed on), sometimes any."""
            if likely and data.draw(st.integers(0, 4), "likely"):
                return data.draw(st.sampled_from(likely))
            return data.draw(st.sampled_from(anything))

        def funded(self) -> list[Card]:
            return [c for c in self.mine if c.principal + c.bonus > 0]

        # --- rules ---------------------------------------------------------------------------

        @precondition(lambda self: len(self.mine) < 3)
        @rule(chain=st.booleans(), real_name=st.booleans())
        def register(self, chain: bool, real_name: bool) -> None:
            extra: dict[str, Any] = {"programme": "dealer" if chain else "store"}
            if real_name:
                extra.update(name="赵六", id_number=ID_NUMBER)
            created = home.register(**extra)
            self.mine.append(Card(created.member_id, chain, real_name))

        @precondition(lambda self: any(not c.real_name for c in self.mine))
        @rule(data=st.data())
        def upgrade_to_real_name(self, data: st.DataObject) -> None:
            card = data.draw(st.sampled_from([c for c in self.mine if not c.real_name]))
            body = RealNameIn(store_id=home.store_id, name="赵六", id_number=ID_NUMBER)
            key = home.key()
            home.run(
                lambda c: members.set_real_name(
                    c,
                    keys,
                    RULES,
                    counter_at(c, home.store_id, home.now),
                    key,
                    card.member_id,
                    body,
                )
            )
            card.real_name = True

        @precondition(lambda self: bool(self.mine))
        @rule(
            at_sister=ELSEWHERE,
            with_promo=st.booleans(),
            method=st.sampled_from(["cash", "wechat", "bank_transfer"]),
            data=st.data(),
        )
        def top_up(
            self, at_sister: bool, with_promo: bool, method: str, data: st.DataObject
        ) -> None:
            card = data.draw(st.sampled_from(self.mine))
            till = self.till(at_sister)
            bonus = PROMO_BONUS if with_promo else 0
            cap = RULES.named_cap_fen if card.real_name else RULES.anonymous_cap_fen
            room = max(1, cap - card.principal - card.bonus - bonus)
            paid = data.draw(
                st.one_of(
                    st.integers(1, room),
                    st.integers(room, room + 9_000),
                    st.integers(30_000, 70_000),
                ),
                "paid",
            )
            code = None
            if at_sister and not card.chain:
                code = "not_found"
            elif with_promo and paid < PROMO_MIN:
                code = "promotion_not_applicable"
            elif paid >= RULES.real_name_purchase_fen and not card.real_name:
                code = "real_name_required"
            elif paid >= RULES.non_cash_purchase_fen and method == "cash":
                code = "non_cash_required"
            elif card.principal + card.bonus + paid + bonus > cap:
                code = "cap_exceeded"
            txn = home.key().pos_txn
            promo_id = promo if with_promo else None

            def send(amount: int = paid) -> Any:
                return till.top_up(card.member_id, amount, method, promo_id, txn=txn)

            outcome = self.expect("top_up", code, send)
            if outcome is None:
                return
            card.principal += paid
            card.bonus += bonus
            self.remember(send, lambda: send(paid + 1), outcome)
            journal_id = outcome.result.journal_id
            self.top_ups.append(
                TopUp(journal_id, card, till.store_id, paid, bonus, card.debits, self.day())
            )

        @precondition(lambda self: any(c.principal + c.bonus for c in self.mine))
        @rule(at_sister=ELSEWHERE, data=st.data())
        def spend(self, at_sister: bool, data: st.DataObject) -> None:
            card = self.pick(data, self.funded(), self.mine)
            till = self.till(at_sister)
            total = card.principal + card.bonus
            amount = data.draw(
                st.one_of(st.integers(1, max(1, total)), st.integers(total, total + 99)), "amount"
            )
            code = None
            if at_sister and not card.chain:
                code = "not_found"
            elif amount > total:
                code = "insufficient_balance"
            txn = home.key().pos_txn

            def send(value: int = amount) -> Any:
                return till.spend(card.member_id, value, txn=txn)

            outcome = self.expect("spend", code, send)
            if outcome is None:
                return
            bonus = math.ceil(Fraction(amount * card.bonus, total))
            principal = amount - bonus
            assert (-outcome.result.principal_fen, -outcome.result.bonus_fen) == (principal, bonus)
            card.principal -= principal
            card.bonus -= bonus
            card.debits += 1
            self.remember(send, lambda: send(amount + 1), outcome)
            journal_id = outcome.result.journal_id
            self.spends.append(Spend(journal_id, card, till.store_id, principal, bonus))

        @precondition(lambda self: bool(self.spends))
        @rule(at_sister=ELSEWHERE, data=st.data())
        def refund(self, at_sister: bool, data: st.DataObject) -> None:
            open_ = [
                s
                for s in self.spends
                if s.refunded_principal + s.refunded_bonus < s.principal + s.bonus
            ]
            spend = self.pick(data, open_, self.spends)
            till = self.till(at_sister)
            spent = spend.principal + spend.bonus
            refunded = spend.refunded_principal + spend.refunded_bonus
            left = max(1, spent - refunded)
            amount = data.draw(
                st.one_of(st.integers(1, left), st.integers(left, left + 99)), "amount"
            )
            code = None
            if till.store_id != spend.store:
                code = "not_found"
            elif refunded + amount > spent:
                code = "refund_exceeds_spend"
            txn = home.key().pos_txn

            def send(value: int = amount) -> Any:
                return till.refund(spend.journal_id, value, txn=txn)

            outcome = self.expect("refund", code, send)
            if outcome is None:
                return
            bonus_after = Fraction((refunded + amount) * spend.bonus, spent).__floor__()
            bonus = bonus_after - spend.refunded_bonus
            principal = amount - bonus
            assert (outcome.result.principal_fen, outcome.result.bonus_fen) == (principal, bonus)
            assert spend.refunded_principal + principal <= spend.principal
            assert spend.refunded_bonus + bonus <= spend.bonus
            spend.refunded_principal += principal
            spend.refunded_bonus += bonus
            spend.card.principal += principal
            spend.card.bonus += bonus
            self.remember(send, lambda: send(amount + 1), outcome)

        @precondition(lambda self: bool(self.funded()))
        @rule(at_sister=ELSEWHERE, data=st.data())
        def cash_refund(self, at_sister: bool, data: st.DataObject) -> None:
            card = self.pick(data, self.funded(), self.mine)
            till = self.till(at_sister)
            code = None
            if at_sister and not card.chain:
                code = "not_found"
            elif card.principal + card.bonus == 0:
                code = "nothing_to_refund"
            txn = home.key().pos_txn

            def send() -> Any:
                return till.cash_refund(card.member_id, txn=txn)

            outcome = self.expect("cash_refund", code, send)
            if outcome is None:
                return
            assert outcome.result.principal_fen == -card.principal
            card.principal = card.bonus = 0
            card.debits += 1
            self.remember(send, None, outcome)

        @precondition(lambda self: bool(self.top_ups))
        @rule(at_sister=ELSEWHERE, data=st.data())
        def void(self, at_sister: bool, data: st.DataObject) -> None:
            today = self.day()
            voidable = [
                t
                for t in self.top_ups
                if not t.voided and t.day == today and t.card.debits == t.debits_at
            ]
            top = self.pick(data, voidable, self.top_ups)
            till = self.till(at_sister)
            code = None
            if till.store_id != top.store:
                code = "not_found"
            elif top.voided or top.day != today or top.card.debits != top.debits_at:
                code = "not_voidable"
            txn = home.key().pos_txn

            def send() -> Any:
                return till.void(top.journal_id, txn=txn)

            outcome = self.expect("void", code, send)
            if outcome is None:
                return
            top.voided = True
            top.card.principal -= top.principal
            top.card.bonus -= top.bonus
            self.remember(send, None, outcome)

        @precondition(lambda self: len(self.sent) % 3 == 1)
        @rule(data=st.data())
        def resend_an_earlier_request(self, data: st.DataObject) -> None:
            sent = data.draw(st.sampled_from(self.sent))
            before = self.journal_size()
            again = sent.resend()
            assert again.replayed and again.result == sent.answer.result
            assert self.journal_size() == before
            seen["replay"] += 1

        @precondition(lambda self: len(self.sent) % 3 == 2)
        @rule(data=st.data())
        def reuse_a_key_with_another_body(self, data: st.DataObject) -> None:
            changed = [s for s in self.sent if s.reuse_with_other_body]
            if not changed:
                return
            sent = data.draw(st.sampled_from(changed))
            before = self.journal_size()
            self.expect("reuse", "idempotency_key_reused", sent.reuse_with_other_body)
            assert self.journal_size() == before

        @precondition(lambda self: len(self.sent) % 5 == 4)
        @rule(hours=st.integers(1, 16))
        def later(self, hours: int) -> None:
            for till in (home, sister):
                assert till.now is not None
                till.now += timedelta(hours=hours)

        def remember(self, resend: Callable[[], Any], other: Any, answer: Any) -> None:
            self.sent.append(Sent(resend, other, answer))

        def journal_size(self) -> int:
            with db.engine.connect() as conn:
                return int(
                    conn.execute(text("SELECT count(*) FROM stored_value_journal")).scalar_one()
                )

        # --- after every step ----------------------------------------------------------------

        @invariant()
        def books_match_the_model_and_the_ledger(self) -> None:
            log.relay()
            with db.engine.connect() as conn:
                stored = stored_member_balances(conn)
                from_ledger = projection.update(conn).members()
                unbalanced = conn.execute(
                    text(
                        "SELECT journal_id FROM stored_value_postings GROUP BY journal_id "
                        "HAVING sum(amount_fen) <> 0"
                    )
                ).all()
            assert unbalanced == []
            for card in self.mine:
                assert card.principal >= 0 and card.bonus >= 0
                assert stored[card.member_id] == (card.principal, card.bonus)
                assert from_ledger.get(card.member_id, (0, 0)) == (card.principal, card.bonus)

    return StoredValueSimulation


def test_stored_value_simulation(
    db: Database, keys: MemberKeys, shop: Shop, log: LogService
) -> None:
    seen: Counter[str] = Counter()
    machine = simulation(db, keys, shop, log, seen)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=16,
            stateful_step_count=25,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    # The simulation must have done what it claims, not only registered members.
    assert {"top_up", "spend", "refund", "cash_refund", "void", "replay"} <= set(seen), seen
    assert {
        "insufficient_balance",
        "cap_exceeded",
        "not_voidable",
        "idempotency_key_reused",
        "refund_exceeds_spend",
    } <= set(seen), seen
