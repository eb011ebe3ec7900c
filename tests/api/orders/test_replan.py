"""The plan is made from levels read before any stock row is locked; when another order took
that stock in between, the write reserves nothing and the order is planned again from the
levels it then holds locked. Here the first read is made stale on purpose."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from api.orders import placement_repository as placing
from api.stock.repository import Level
from tests.api.orders.shop import Shop


def _central_seems_to_have_ten(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the first read had come before another order took all but a few of central's
    10 cases of ``sku1``."""
    real = placing.lock_buyer
    central = shop.world.ids["WH-CENTRAL"]

    def stale(*args: Any) -> Any:
        locked = real(*args)
        found = locked.candidates
        levels = {**found.levels, (central, shop.sku1): Level(central, shop.sku1, 10, 0)}
        return dataclasses.replace(locked, candidates=dataclasses.replace(found, levels=levels))

    monkeypatch.setattr(placing, "lock_buyer", stale)


def test_a_plan_made_from_stale_levels_is_made_again_under_the_lock(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = shop.world
    shop.stock("WH-CENTRAL", shop.sku1, 3)
    shop.stock("WH-GZ", shop.sku1, 50)
    central = w.ids["WH-CENTRAL"]
    _central_seems_to_have_ten(shop, monkeypatch)
    r = shop.order("staff_a", "D-A", "PO-STALE", (shop.sku1, 5))
    assert r.status_code == 201, r.text
    allocs = r.json()["lines"][0]["allocations"]
    assert [(a["warehouse_id"], a["cases"]) for a in allocs] == [
        (central, 3),
        (w.ids["WH-GZ"], 2),
    ]
    assert "3 available" in allocs[0]["reason"]
    assert shop.level("WH-CENTRAL", shop.sku1) == (3, 3)
    assert shop.level("WH-GZ", shop.sku1) == (50, 2)
    order = w.get("staff_a", f"/v1/orders/{r.json()['id']}").json()
    assert order["lines"][0]["allocations"] == allocs  # what was written is what was answered


def test_stale_levels_that_no_plan_can_meet_refuse_the_order_and_write_nothing(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = shop.world
    shop.stock("WH-CENTRAL", shop.sku1, 3)
    _central_seems_to_have_ten(shop, monkeypatch)
    r = shop.order("staff_a", "D-A", "PO-STALE", (shop.sku1, 5))
    assert r.status_code == 409 and r.json()["error"]["code"] == "insufficient_stock"
    assert "only 3 available" in r.json()["error"]["message"]
    assert shop.level("WH-CENTRAL", shop.sku1) == (3, 0)
    assert w.get("staff_a", "/v1/orders").json() == []


def test_only_the_short_line_is_planned_again_and_the_others_keep_their_stripes(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = shop.world
    shop.stock("WH-CENTRAL", shop.sku1, 3)
    shop.stock("WH-GZ", shop.sku1, 50)
    shop.stock("WH-CENTRAL", shop.sku2, 200)  # spread over many stripes
    central = w.ids["WH-CENTRAL"]
    _central_seems_to_have_ten(shop, monkeypatch)
    r = shop.order("staff_a", "D-A", "PO-STALE", (shop.sku1, 5), (shop.sku2, 15))
    assert r.status_code == 201, r.text
    lines = r.json()["lines"]
    assert [(a["warehouse_id"], a["cases"]) for a in lines[0]["allocations"]] == [
        (central, 3),
        (w.ids["WH-GZ"], 2),
    ]
    assert [(a["warehouse_id"], a["cases"]) for a in lines[1]["allocations"]] == [(central, 15)]
    assert shop.level("WH-CENTRAL", shop.sku1) == (3, 3)
    assert shop.level("WH-GZ", shop.sku1) == (50, 2)
    assert shop.level("WH-CENTRAL", shop.sku2) == (200, 15)


def test_a_line_split_over_warehouses_keeps_its_plan_when_another_line_is_replanned(
    shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = shop.world
    shop.stock("WH-CENTRAL", shop.sku1, 3)
    shop.stock("WH-GZ", shop.sku1, 50)
    shop.stock("WH-CENTRAL", shop.sku2, 20)
    shop.stock("WH-GZ", shop.sku2, 50)
    _central_seems_to_have_ten(shop, monkeypatch)
    r = shop.order("staff_a", "D-A", "PO-STALE", (shop.sku1, 5), (shop.sku2, 25))
    assert r.status_code == 201, r.text
    central, gz = w.ids["WH-CENTRAL"], w.ids["WH-GZ"]
    lines = r.json()["lines"]
    assert [(a["warehouse_id"], a["cases"]) for a in lines[0]["allocations"]] == [
        (central, 3),
        (gz, 2),
    ]
    assert [(a["warehouse_id"], a["cases"]) for a in lines[1]["allocations"]] == [
        (central, 20),
        (gz, 5),
    ]
    assert shop.level("WH-CENTRAL", shop.sku2) == (20, 20)
    assert shop.level("WH-GZ", shop.sku2) == (50, 5)
