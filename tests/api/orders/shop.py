"""The test channel with a catalogue: two SKUs priced for dealers (tier gold) and for dealer
D-A's stores (tier standard)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from api.catalogue import repository as prices
from api.stock import repository as stock
from tests.api.channel.world import World
from tests.api.orders.production import make_sku

HQ_PRICE = 1_788_000  # fen per case
STORE_PRICE = 2_100_000


@dataclass
class Shop:
    world: World
    sku1: str
    sku2: str

    def stock(self, warehouse: str, gtin: str, cases: int) -> None:
        """Test set-up: cases on hand without codes (orders never look at codes)."""
        with self.world.db.writer.begin() as conn:
            stock.add(conn, self.world.ids[warehouse], gtin, cases)

    def level(self, warehouse: str, gtin: str) -> tuple[int, int]:
        with self.world.db.engine.connect() as conn:
            rows = stock.read(conn, [self.world.ids[warehouse]], [gtin])
        return (rows[0].on_hand, rows[0].reserved) if rows else (0, 0)

    def order(self, who: str, buyer: str, key: str, *lines: tuple[str, int]):  # type: ignore[no-untyped-def]
        body = {
            "buyer_id": self.world.ids[buyer],
            "client_key": key,
            "lines": [{"gtin": g, "cases": n} for g, n in lines],
        }
        return self.world.post(who, "/v1/orders", body)


def build_shop(world: World) -> Shop:
    from datetime import UTC, datetime

    with world.db.writer.begin() as conn:
        sku1, sku2 = make_sku(conn, 1), make_sku(conn, 2, case_size=12)
        now = datetime.now(UTC)
        for gtin in (sku1, sku2):
            prices.upsert_price(conn, world.ids["hq"], "gold", gtin, HQ_PRICE, now, "test")
            prices.upsert_price(conn, world.ids["D-A"], "standard", gtin, STORE_PRICE, now, "t")
    return Shop(world, sku1, sku2)


@pytest.fixture
def shop(world: World) -> Shop:
    return build_shop(world)
