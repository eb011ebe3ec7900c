"""100 concurrent orders for the last 10 cases: exactly 10 reserved, 90 clear refusals; and
100 for more cases than a warehouse has, spread over many stock stripes: none oversold.

Real threads against the real service (HTTP through the app, its request transactions, the
database's locks), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from api.auth.service import Role
from api.channel import service as channel
from api.channel.schemas import DealerIn, WarehouseIn
from api.orders.models import OrderAllocation
from api.stock.models import StockLevel
from tests.api.channel.world import ROOT, loc
from tests.api.orders.shop import Shop

DEALERS = 25
ORDERS = 100


def _rush_dealers(shop: Shop) -> None:
    w = shop.world
    with w.db.writer.begin() as conn:
        for i in range(DEALERS):
            dealer = channel.create_dealer(
                conn,
                ROOT,
                DealerIn(
                    code=f"D-RUSH-{i}",
                    name=f"rush {i}",
                    region_id=w.ids["R-SC"],
                    tier="gold",
                    credit_limit_fen=10**12,
                    location=loc("510104", 30.6 + i / 1000, 104.0),
                ),
            ).id
            w.ids[f"D-RUSH-{i}"] = dealer
            channel.create_warehouse(
                conn,
                ROOT,
                WarehouseIn(
                    code=f"WH-RUSH-{i}",
                    name="仓",
                    kind="dealer",
                    dealer_id=dealer,
                    location=loc("510104", 30.6, 104.0),
                ),
            )
    for i in range(DEALERS):
        w.add_user(f"rush{i}", Role.DEALER_STAFF, w.ids[f"D-RUSH-{i}"])


def test_the_last_ten_cases_are_never_oversold(shop: Shop) -> None:
    w = shop.world
    _rush_dealers(shop)
    shop.stock("WH-CENTRAL", shop.sku1, 7)
    shop.stock("WH-GZ", shop.sku1, 3)

    def place(n: int) -> tuple[int, str]:
        dealer = n % DEALERS
        r = shop.order(f"rush{dealer}", f"D-RUSH-{dealer}", f"RUSH-{n}", (shop.sku1, 1))
        return r.status_code, r.json().get("error", {}).get("code", "")

    with ThreadPoolExecutor(max_workers=ORDERS) as pool:
        outcomes = list(pool.map(place, range(ORDERS)))

    assert Counter(outcomes) == {(201, ""): 10, (409, "insufficient_stock"): 90}
    assert shop.level("WH-CENTRAL", shop.sku1) == (7, 7)
    assert shop.level("WH-GZ", shop.sku1) == (3, 3)
    with w.db.engine.connect() as conn:
        allocated = conn.execute(
            select(func.sum(OrderAllocation.__table__.c.reserved))
        ).scalar_one()
    assert allocated == 10
    refusal = shop.order("rush0", "D-RUSH-0", "RUSH-late", (shop.sku1, 1)).json()["error"]
    assert refusal["message"] == (
        f"line 1: 1 cases of GTIN {shop.sku1} wanted, only 0 available across 3 warehouse(s); "
        "nothing was reserved"
    )


def test_striped_stock_is_never_oversold(shop: Shop) -> None:
    """1,000 cases spread over stripes of 100, 100 orders of 13 (and a line of a plentiful
    SKU each): 7 fit in a stripe, the last ones split over what the stripes have left, and
    exactly 76 (988 cases) are placed."""
    _rush_dealers(shop)
    shop.stock("WH-CENTRAL", shop.sku1, 1_000)
    shop.stock("WH-CENTRAL", shop.sku2, 5_000)

    def place(n: int) -> tuple[int, str]:
        dealer = n % DEALERS
        lines = ((shop.sku1, 13), (shop.sku2, 1 + n % 3))
        r = shop.order(f"rush{dealer}", f"D-RUSH-{dealer}", f"STRIPED-{n}", *lines)
        return r.status_code, r.json().get("error", {}).get("code", "")

    with ThreadPoolExecutor(max_workers=ORDERS) as pool:
        outcomes = list(pool.map(place, range(ORDERS)))

    assert Counter(outcomes) == {(201, ""): 76, (409, "insufficient_stock"): 24}
    assert shop.level("WH-CENTRAL", shop.sku1) == (1_000, 988)
    placed = [n for n, o in enumerate(outcomes) if o[0] == 201]
    assert shop.level("WH-CENTRAL", shop.sku2) == (5_000, sum(1 + n % 3 for n in placed))
    with shop.world.db.engine.connect() as conn:
        allocated = conn.execute(
            select(func.sum(OrderAllocation.__table__.c.reserved))
        ).scalar_one()
        stripes = conn.execute(
            select(StockLevel.__table__.c.stripe).where(StockLevel.__table__.c.gtin == shop.sku1)
        ).all()
    assert allocated == 988 + sum(1 + n % 3 for n in placed)
    assert len(stripes) > 1
