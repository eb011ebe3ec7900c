"""A store's till for tests: the real services in real transactions, one POS number per call.

Also the independent rebuild of balances from the ledger alone: it reads ``ledger_entries``,
decodes each entry's stored canonical bytes and sums the postings, using nothing of the
stored-value package.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, text

from api.auth.service import Principal, Role
from api.channel import service as channel
from api.channel.schemas import DealerIn, Location, RegionIn, StoreIn
from api.db import Database
from api.stored_value import members, operations, promotions
from api.stored_value.counter import counter_at
from api.stored_value.idempotency import Replayable, RequestKey
from api.stored_value.privacy import MemberKeys
from api.stored_value.rules import Rules
from api.stored_value.schemas import (
    CashRefundIn,
    GiftIn,
    MemberCreated,
    MemberIn,
    OperationOut,
    PromotionIn,
    PromotionOut,
    RefundIn,
    SpendIn,
    TopUpIn,
    VoidIn,
)
from api.stored_value.transactions import atomically, optimistically

ROOT = Principal("test-root", Role.ADMIN)
T = TypeVar("T")


def tasting_offer(owner_id: str) -> PromotionIn:
    """Top up 1,000.00, get 100.00 and a tasting bottle (a goods promotion at cost)."""
    return PromotionIn(
        owner_id=owner_id,
        name="充1000送100加品鉴酒",
        min_paid_fen=100_000,
        bonus_fen=10_000,
        gift=GiftIn(sku="TASTING-100ML", name="品鉴酒 100ml", qty=1, cost_fen=3_500),
    )


def tasting_promotion(db: Database, owner_id: str) -> PromotionOut:
    """:func:`tasting_offer`, created."""
    with db.engine.begin() as conn:
        return promotions.create(conn, ROOT, tasting_offer(owner_id))


def _at(admin_code: str, lat: float, lon: float) -> Location:
    return Location(
        admin_code=admin_code, address="测试地址", lat_e6=round(lat * 1e6), lon_e6=round(lon * 1e6)
    )


@dataclass
class Shop:
    """A dealer with two stores, and a second dealer with one."""

    dealer: str
    store: str
    sister: str
    other_dealer: str
    other_store: str


def make_shop(db: Database) -> Shop:
    """Once per database: the region claims Sichuan."""
    tag = secrets.token_hex(3)
    with db.engine.begin() as conn:
        channel.ensure_hq(conn)
        region = channel.create_region(
            conn, RegionIn(code=f"R{tag}", name="四川大区", admin_codes=["510000"])
        ).id
        where = _at("510104", 30.657, 104.081)
        ids = []
        for d in ("A", "B"):
            body = DealerIn(
                code=f"D{d}{tag}",
                name=f"dealer {d}",
                region_id=region,
                tier="gold",
                credit_limit_fen=0,
                location=where,
            )
            ids.append(channel.create_dealer(conn, ROOT, body).id)
        stores = [
            channel.create_store(
                conn, ROOT, dealer, StoreIn(code=f"S{i}{tag}", name=f"store {i}", location=where)
            ).id
            for i, dealer in enumerate([ids[0], ids[0], ids[1]])
        ]
    return Shop(ids[0], stores[0], stores[1], ids[1], stores[2])


@dataclass
class Till:
    db: Database
    keys: MemberKeys
    rules: Rules
    store_id: str
    now: datetime | None = None
    _txns: itertools.count[int] = field(default_factory=itertools.count)

    def key(self, txn: str | None = None) -> RequestKey:
        return RequestKey(self.store_id, txn or f"T{secrets.token_hex(4)}-{next(self._txns)}")

    def run(self, work: Callable[[Connection], T]) -> T:
        return atomically(self.db, work)

    def register(
        self, phone: str | None = None, *, txn: str | None = None, **extra: Any
    ) -> MemberCreated:
        body = MemberIn(store_id=self.store_id, phone=phone or random_phone(), **extra)
        key = self.key(txn)
        return self.run(
            lambda c: members.register(
                c, self.keys, self.rules, counter_at(c, self.store_id, self.now), key, body
            )
        ).result

    def top_up(
        self,
        member_id: str,
        paid_fen: int,
        method: str = "cash",
        promotion_id: str | None = None,
        *,
        txn: str | None = None,
    ) -> Replayable[OperationOut]:
        body = TopUpIn(
            store_id=self.store_id,
            member_id=member_id,
            paid_fen=paid_fen,
            payment_method=method,  # type: ignore[arg-type]
            promotion_id=promotion_id,
        )
        return self._op(operations.top_up, body, txn)

    def spend(self, member_id: str, amount_fen: int, *, txn: str | None = None):  # type: ignore[no-untyped-def]
        body = SpendIn(store_id=self.store_id, member_id=member_id, amount_fen=amount_fen)
        return self._op(operations.spend, body, txn)

    def refund(self, spend_id: str, amount_fen: int, *, txn: str | None = None):  # type: ignore[no-untyped-def]
        body = RefundIn(store_id=self.store_id, spend_id=spend_id, amount_fen=amount_fen)
        return self._op(operations.refund, body, txn)

    def cash_refund(self, member_id: str, *, txn: str | None = None):  # type: ignore[no-untyped-def]
        body = CashRefundIn(store_id=self.store_id, member_id=member_id)
        return self._op(operations.cash_refund, body, txn)

    def void(self, top_up_id: str, *, txn: str | None = None):  # type: ignore[no-untyped-def]
        body = VoidIn(store_id=self.store_id, top_up_id=top_up_id)
        return self._op(operations.void, body, txn)

    def _op(self, operation: Any, body: Any, txn: str | None) -> Replayable[OperationOut]:
        key = self.key(txn)
        return optimistically(
            self.db,
            lambda c: operation(
                c, self.keys, self.rules, counter_at(c, self.store_id, self.now), key, body
            ),
        )


def random_phone() -> str:
    return f"13{secrets.randbelow(10**9):09d}"


def now() -> datetime:
    return datetime.now(UTC)


# --- the independent rebuild from the ledger --------------------------------------------------


def ledger_payloads(
    conn: Connection, prefix: str = "stored_value.", after_seq: int = -1
) -> list[tuple[int, dict[str, Any]]]:
    """(seq, payload) of each sequenced entry of ``prefix`` kinds after ``after_seq``,
    decoded from the entry's stored canonical bytes."""
    rows = conn.execute(
        text(
            "SELECT seq, kind, data FROM ledger_entries "
            "WHERE seq > :s AND kind LIKE :p ORDER BY seq"
        ),
        {"s": after_seq, "p": prefix + "%"},
    )
    out = []
    for seq, kind, data in rows:
        entry = json.loads(bytes(data))
        assert entry["kind"] == kind and entry["seq"] == seq
        out.append((seq, {"kind": kind, **entry["payload"], "_id": entry["id"]}))
    return out


class LedgerProjection:
    """Account balances summed from the ledger's postings, read incrementally; checks that
    every entry's postings sum to zero."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = defaultdict(int)
        self.seen = -1

    def update(self, conn: Connection) -> LedgerProjection:
        for seq, payload in ledger_payloads(conn, after_seq=self.seen):
            self.seen = seq
            postings = payload.get("postings")
            if postings is None:
                continue
            assert sum(p["fen"] for p in postings) == 0, payload
            for p in postings:
                self.balances[p["account"]] += p["fen"]
        return self

    def members(self) -> dict[str, tuple[int, int]]:
        """member id -> (principal, bonus): the negated liability sub-accounts."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for account, amount in self.balances.items():
            kind, _issuer, member, part = [*account.split(":"), "", "", ""][:4]
            if kind == "liability":
                out[member][0 if part == "principal" else 1] -= amount
        return {m: (p, b) for m, (p, b) in out.items()}


def rebuild_balances(conn: Connection) -> dict[str, int]:
    return dict(LedgerProjection().update(conn).balances)


def member_balances_from_ledger(conn: Connection) -> dict[str, tuple[int, int]]:
    return LedgerProjection().update(conn).members()


def stored_member_balances(conn: Connection) -> dict[str, tuple[int, int]]:
    rows = conn.execute(
        text("SELECT member_id, principal_fen, bonus_fen FROM stored_value_accounts")
    )
    return {m: (int(p), int(b)) for m, p, b in rows}
