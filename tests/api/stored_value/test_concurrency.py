"""Real threads against the real service: no fen created, lost or counted twice."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from api.db import Database
from api.errors import AppError
from api.log.service import LogService
from api.stored_value import operations
from tests.api.stored_value.till import (
    Till,
    member_balances_from_ledger,
    stored_member_balances,
)


@pytest.fixture(autouse=True, params=["one process", "a process each"])
def processes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The racing threads as one server process, whose operations on a card take turns, or
    each as its own process (turns of its own), so that the database alone keeps them apart."""
    if request.param == "a process each":
        monkeypatch.setattr(operations, "_turn_of", lambda _: threading.Lock())
    return str(request.param)


K = 24  # concurrent spends
N = 9  # how many the balance covers
AMOUNT = 1_100


def _race(k: int, attempt) -> list[str]:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(k)

    def one(i: int) -> str:
        barrier.wait()
        try:
            attempt(i)
        except AppError as exc:
            return exc.code
        return "ok"

    with ThreadPoolExecutor(k) as pool:
        return list(pool.map(one, range(k)))


def test_k_concurrent_spends_against_a_balance_covering_n_exactly_n_succeed(
    till: Till, db: Database, log: LogService
) -> None:
    m = till.register().member_id
    till.top_up(m, N * AMOUNT)
    outcomes = Counter(_race(K, lambda i: till.spend(m, AMOUNT)))
    assert outcomes == {"ok": N, "insufficient_balance": K - N}
    log.relay()
    with db.engine.connect() as conn:
        assert stored_member_balances(conn)[m] == (0, 0)
        assert member_balances_from_ledger(conn)[m] == (0, 0)
        spends = conn.execute(
            text("SELECT count(*) FROM stored_value_journal WHERE operation = 'spend'")
        ).scalar_one()
        entries = conn.execute(
            text("SELECT count(*) FROM ledger_entries WHERE kind = 'stored_value.spend'")
        ).scalar_one()
    assert spends == entries == N


def test_concurrent_retries_of_one_pos_transaction_spend_once(
    till: Till, db: Database, log: LogService
) -> None:
    m = till.register().member_id
    till.top_up(m, 10_000)
    results = []
    lock = threading.Lock()

    def retry(_: int) -> None:
        outcome = till.spend(m, 2_500, txn="POS7-000042")
        with lock:
            results.append(outcome)

    assert set(_race(12, retry)) == {"ok"}
    assert len({r.result.journal_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    log.relay()
    with db.engine.connect() as conn:
        assert stored_member_balances(conn)[m] == (7_500, 0)
        assert member_balances_from_ledger(conn)[m] == (7_500, 0)


def test_concurrent_top_ups_never_exceed_the_cap_and_refunds_never_exceed_the_spend(
    till: Till, db: Database, log: LogService
) -> None:
    m = till.register().member_id
    cap = till.rules.anonymous_cap_fen
    outcomes = Counter(_race(16, lambda i: till.top_up(m, cap // 10)))
    assert outcomes == {"ok": 10, "cap_exceeded": 6}
    sale = till.spend(m, 7_000).result
    outcomes = Counter(_race(16, lambda i: till.refund(sale.journal_id, 1_000)))
    assert outcomes == {"ok": 7, "refund_exceeds_spend": 9}
    log.relay()
    with db.engine.connect() as conn:
        assert stored_member_balances(conn)[m] == (cap, 0)
        assert member_balances_from_ledger(conn)[m] == (cap, 0)


def test_concurrent_first_attempts_of_one_key_for_two_cards_book_once(
    till: Till, db: Database, log: LogService
) -> None:
    # Each attempt's booking inserts the key: the losers' bookings wait for the winner's,
    # fail whole on the key, and run again to find its answer (theirs, or another body's).
    a, b = till.register().member_id, till.register().member_id
    till.top_up(a, 10_000)
    till.top_up(b, 10_000)
    results: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        outcome = till.spend(a if i % 2 else b, 1_000, txn="POS9-000007")
        with lock:
            results.append("replayed" if outcome.replayed else "booked")

    outcomes = Counter(_race(12, attempt))
    assert outcomes["ok"] == 6 and outcomes["idempotency_key_reused"] == 6
    assert sorted(results) == ["booked"] + ["replayed"] * 5
    log.relay()
    with db.engine.connect() as conn:
        balances = stored_member_balances(conn)
        assert sorted([balances[a], balances[b]]) == [(9_000, 0), (10_000, 0)]
        assert member_balances_from_ledger(conn)[a] == balances[a]
        spends = conn.execute(
            text("SELECT count(*) FROM stored_value_journal WHERE operation = 'spend'")
        ).scalar_one()
    assert spends == 1
