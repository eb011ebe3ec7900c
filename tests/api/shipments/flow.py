"""Helpers for shipment tests: real case codes put away, orders driven through their states."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from api.models import LedgerEntry
from api.trace.codes.service import Code
from tests.api.orders.production import make_cases
from tests.api.orders.shop import Shop


@dataclass
class Flow:
    shop: Shop
    cases: dict[str, list[Code]] = field(default_factory=dict)

    @property
    def w(self):  # type: ignore[no-untyped-def]
        return self.shop.world

    def codes(self, gtin: str, count: int) -> list[Code]:
        with self.w.db.writer.begin() as conn:
            made = make_cases(conn, gtin, count)
        self.cases.setdefault(gtin, []).extend(made)
        return made

    def putaway(self, who: str, warehouse: str, codes: list[Code] | list[str]) -> Any:
        texts = [c if isinstance(c, str) else c.serial for c in codes]
        return self.w.post(who, f"/v1/warehouses/{self.w.ids[warehouse]}/putaway", {"codes": texts})

    def ok(self, response: Any, status: int = 200) -> Any:
        assert response.status_code == status, response.text
        return response.json()

    def allocated_order(
        self, buyer_who: str, buyer: str, seller_who: str, *lines: tuple[str, int]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Place, confirm and allocate an order; return it and its shipments."""
        key = f"K-{len(self.cases)}-{id(lines)}"
        order = self.ok(self.shop.order(buyer_who, buyer, key, *lines), 201)
        self.ok(self.w.post(seller_who, f"/v1/orders/{order['id']}/confirm"))
        order = self.ok(self.w.post(seller_who, f"/v1/orders/{order['id']}/allocate"))
        return order, [
            self.ok(self.w.get("hq", f"/v1/shipments/{s}")) for s in order["shipment_ids"]
        ]

    def entry(self, entry_id: str) -> dict[str, Any]:
        """The sequenced ledger entry (after relaying the outbox)."""
        self.w.client.app.state.log.relay()  # type: ignore[attr-defined]
        table = LedgerEntry.__table__
        with self.w.db.engine.connect() as conn:
            data = conn.execute(
                select(table.c.data).where(table.c.entry_id == entry_id)
            ).scalar_one()
        return json.loads(bytes(data))  # type: ignore[no-any-return]


def serials(codes: list[Code]) -> list[str]:
    return [c.serial for c in codes]


@pytest.fixture
def flow(shop: Shop) -> Flow:
    return Flow(shop)
