"""Stored value for ``make run``: a promotion, members and a few days of counter traffic at the
demo clerk's store and its sister stores, through the same services as the HTTP API.

Seeded once (after the channel demo, whose ``clerk.chengdu`` works at the store used here);
then only the demo member's token is shown again. Every operation carries a fixed POS
transaction number, so a seed interrupted half-way is finished by running it again: what was
done is replayed, not repeated. Phone numbers are from the unassigned 1380000xxxx range.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from api.auth.models import User
from api.auth.service import Principal, Role
from api.channel import repository as parties
from api.config import Settings
from api.log.service import LogService
from api.stored_value import members, operations, promotions
from api.stored_value.accounts import PaymentMethod
from api.stored_value.counter import counter_at
from api.stored_value.idempotency import RequestKey
from api.stored_value.privacy import keys_for
from api.stored_value.rules import Rules
from api.stored_value.schemas import (
    GiftIn,
    MemberIn,
    PromotionIn,
    RefundIn,
    SpendIn,
    TopUpIn,
)
from api.stored_value.transactions import atomically

ROOT = Principal("demo", Role.ADMIN)
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强"]
ID_NUMBER = "11010519491231002X"  # GB 11643's own worked example, not a person


def seed(log: LogService, settings: Settings) -> list[str]:
    """Seed once; return lines to print (the demo member's token)."""
    shown = settings.data_dir / "demo-member.txt"
    if shown.exists():
        return shown.read_text().splitlines()
    with log.db.engine.connect() as conn:
        clerk = conn.execute(
            select(User.__table__.c.scope).where(User.__table__.c.username == "clerk.chengdu")
        ).scalar_one_or_none()
        store = parties.get_party(conn, clerk) if clerk else None
    if store is None or store.dealer_id is None:
        return []
    keys = keys_for(settings.resolved_member_key_file)
    rules = Rules.from_settings(settings)
    rng = random.Random(20261125)
    with log.db.engine.connect() as conn:
        sisters = [
            s.party_id
            for s in parties.list_parties(conn, "store", dealer_id=store.dealer_id, limit=3)
            if s.party_id != store.party_id
        ]
    offer = PromotionIn(
        owner_id=store.dealer_id,
        name="充1000送100加品鉴酒",
        min_paid_fen=100_000,
        bonus_fen=10_000,
        gift=GiftIn(sku="TASTING-100ML", name="品鉴酒 100ml", qty=1, cost_fen=3_500),
    )
    with log.db.engine.begin() as conn:
        known = [p for p in promotions.listed(conn, ROOT, store.dealer_id) if p.name == offer.name]
        promo = (known[0] if known else promotions.create(conn, ROOT, offer)).promotion_id
    txn = iter(range(1, 10**6))
    start = datetime.now(UTC) - timedelta(days=3)

    def do(operation: Any, body: Any, store_id: str, when: datetime) -> Any:
        """One operation at a store's counter at a given time, as a clerk's POS sends it."""
        with log.db.engine.connect() as conn:
            counter = counter_at(conn, store_id, when)
        key = RequestKey(store_id, f"DEMO-{next(txn):06d}")
        return atomically(log.db, lambda c: operation(c, keys, rules, counter, key, body)).result

    token = ""
    here = store.party_id
    for n, name in enumerate(NAMES):
        when = start + timedelta(hours=n)
        chain = n % 2 == 1
        body = MemberIn(
            store_id=here,
            phone=f"1380000{n:04d}",
            programme="dealer" if chain else "store",
            name=name if n % 3 else None,
            id_number=ID_NUMBER if n % 3 else None,
        )
        created = do(members.register, body, here, when)
        token = token or created.member_token
        paid = 100_000 if created.real_name else 50_000
        top = TopUpIn(
            store_id=here,
            member_id=created.member_id,
            paid_fen=paid,
            payment_method=rng.choice(list(PaymentMethod)[:3]),
            promotion_id=promo if paid >= 100_000 else None,
        )
        do(operations.top_up, top, here, when + timedelta(minutes=5))
        for day in (1, 2):
            where = sisters[0] if chain and sisters and day == 2 else here
            sale = SpendIn(
                store_id=where,
                member_id=created.member_id,
                amount_fen=rng.randrange(8_800, 18_800, 100),
            )
            spent = do(operations.spend, sale, where, when + timedelta(days=day))
            if n == 0 and day == 1:
                back = RefundIn(store_id=here, spend_id=spent.journal_id, amount_fen=5_000)
                do(operations.refund, back, here, when + timedelta(days=day, minutes=30))
    log.relay()
    log.checkpoint_now()
    lines = [
        f"demo members (stored value at store {store.code}): phones 13800000000 to "
        f"1380000{len(NAMES) - 1:04d} (find one in the clerk app); the first one's own view,",
        f"  GET /v1/members/me with Authorization: Bearer {token}",
    ]
    _write_private(shown, lines)
    return lines


def _write_private(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")
