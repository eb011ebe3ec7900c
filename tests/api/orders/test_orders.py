"""Placing orders: pricing, reservation, sourcing, idempotency, bad input, the life cycle."""

from __future__ import annotations

from sqlalchemy import func, select

from api.catalogue.models import PriceListItem
from api.orders.models import Order
from tests.api.orders.shop import HQ_PRICE, STORE_PRICE, Shop


def count_orders(shop: Shop) -> int:
    with shop.world.db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Order.__table__)).scalar_one())


def test_a_dealer_order_is_priced_reserved_and_explained(shop: Shop) -> None:
    w = shop.world
    shop.stock("WH-CENTRAL", shop.sku1, 4)
    shop.stock("WH-GZ", shop.sku1, 50)
    shop.stock("WH-CD", shop.sku1, 50)
    shop.stock("WH-CD", shop.sku2, 3)
    r = shop.order("staff_a", "D-A", "PO-1", (shop.sku1, 10), (shop.sku2, 2))
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["state"] == "submitted" and order["kind"] == "dealer"
    assert order["seller_id"] == w.ids["hq"] and order["ship_to_id"] == w.ids["WH-D-A"]
    assert order["total_fen"] == 12 * HQ_PRICE
    line1, line2 = order["lines"]
    assert line1["amount_fen"] == 10 * HQ_PRICE
    assert [(a["warehouse_id"], a["cases"]) for a in line2["allocations"]] == [(w.ids["WH-CD"], 2)]
    # HQ central first (4 there), then the regional warehouse nearest to Chengdu, not Guangzhou.
    assert [(a["warehouse_id"], a["cases"]) for a in line1["allocations"]] == [
        (w.ids["WH-CENTRAL"], 4),
        (w.ids["WH-CD"], 6),
    ]
    assert line1["allocations"][1]["rule"] == "hq_regional_nearest"
    assert "WH-CD" in line1["allocations"][1]["reason"]
    assert line1["allocations"][1]["distance_m"] < 20_000
    assert shop.level("WH-CENTRAL", shop.sku1) == (4, 4)
    assert shop.level("WH-CD", shop.sku1) == (50, 6)
    assert shop.level("WH-GZ", shop.sku1) == (50, 0)
    assert order["history"][0]["state"] == "submitted"
    assert w.get("staff_a", f"/v1/orders/{order['id']}").json() == order


def test_resubmission_is_idempotent(shop: Shop) -> None:
    shop.stock("WH-CENTRAL", shop.sku1, 20)
    first = shop.order("staff_a", "D-A", "PO-7", (shop.sku1, 5))
    again = shop.order("staff_a", "D-A", "PO-7", (shop.sku1, 5))
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert shop.level("WH-CENTRAL", shop.sku1) == (20, 5)
    changed = shop.order("staff_a", "D-A", "PO-7", (shop.sku1, 6))
    assert changed.status_code == 409 and changed.json()["error"]["code"] == "client_key_reused"
    # The same key belongs to each buyer separately.
    assert shop.order("staff_b", "D-B", "PO-7", (shop.sku1, 1)).status_code == 201
    assert count_orders(shop) == 2


def test_bad_orders_are_refused_and_leave_nothing(shop: Shop) -> None:
    w = shop.world
    shop.stock("WH-CENTRAL", shop.sku1, 10)

    def refused(
        status: int, code: str | None, who: str, buyer: str, *lines: tuple[str, int]
    ) -> str:
        r = shop.order(who, buyer, "PO-X", *lines)
        assert r.status_code == status, r.text
        if code is not None:
            assert r.json()["error"]["code"] == code, r.text
        return str(r.json()["error"]["message"])

    assert "no SKU with GTIN" in refused(
        422, "unknown_sku", "staff_a", "D-A", ("06901234560992", 1)
    )
    assert "check digit" in refused(422, None, "staff_a", "D-A", ("06901234567891", 1))
    refused(422, "invalid", "staff_a", "D-A", (shop.sku1, 0))
    refused(422, "invalid", "staff_a", "D-A", (shop.sku1, -3))
    assert "already on line 1" in refused(
        422, None, "staff_a", "D-A", (shop.sku1, 1), (shop.sku1, 2)
    )
    assert "may not order for dealer" in refused(403, "forbidden", "staff_a", "D-B", (shop.sku1, 1))
    refused(403, "forbidden", "clerk_a1", "D-A", (shop.sku1, 1))
    refused(403, "forbidden", "rm_sc", "D-A", (shop.sku1, 1))
    refused(403, "forbidden", "compliance", "D-A", (shop.sku1, 1))
    refused(403, "forbidden", "device_central", "D-A", (shop.sku1, 1))
    message = refused(409, "insufficient_stock", "staff_a", "D-A", (shop.sku2, 1))
    assert "0 available" in message or "only 0" in message
    # A later line failing undoes the reservation of an earlier one.
    refused(409, "insufficient_stock", "staff_a", "D-A", (shop.sku1, 3), (shop.sku2, 1))
    assert shop.level("WH-CENTRAL", shop.sku1) == (10, 0)
    w.patch("hq", f"/v1/dealers/{w.ids['D-A']}", {"credit_limit_fen": HQ_PRICE * 2})
    assert "credit limit" in refused(422, "credit_limit_exceeded", "staff_a", "D-A", (shop.sku1, 3))
    w.patch("hq", f"/v1/dealers/{w.ids['D-A']}", {"tier": "silver"})
    assert "price list" in refused(422, "not_on_price_list", "staff_a", "D-A", (shop.sku1, 1))
    assert count_orders(shop) == 0
    assert shop.level("WH-CENTRAL", shop.sku1) == (10, 0)


def test_credit_counts_open_orders(shop: Shop) -> None:
    w = shop.world
    shop.stock("WH-CENTRAL", shop.sku1, 10)
    w.patch("hq", f"/v1/dealers/{w.ids['D-A']}", {"credit_limit_fen": HQ_PRICE * 3})
    first = shop.order("staff_a", "D-A", "PO-1", (shop.sku1, 2)).json()
    assert shop.order("staff_a", "D-A", "PO-2", (shop.sku1, 2)).status_code == 422
    w.post("staff_a", f"/v1/orders/{first['id']}/cancel", {"reason": "changed my mind"})
    assert shop.order("staff_a", "D-A", "PO-2", (shop.sku1, 2)).status_code == 201


def test_store_orders_go_to_the_dealer_and_share_hq_stock(shop: Shop) -> None:
    w = shop.world
    shop.stock("WH-D-A", shop.sku1, 2)
    shop.stock("WH-CENTRAL", shop.sku1, 10)
    r = shop.order("clerk_a1", "S-A1", "S-1", (shop.sku1, 5))
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["kind"] == "store" and order["seller_id"] == w.ids["D-A"]
    assert order["ship_to_id"] == w.ids["S-A1"] and order["total_fen"] == 5 * STORE_PRICE
    allocs = order["lines"][0]["allocations"]
    assert [(a["warehouse_id"], a["cases"], a["rule"]) for a in allocs] == [
        (w.ids["WH-D-A"], 2, "dealer_own_nearest"),
        (w.ids["WH-CENTRAL"], 3, "hq_central_first"),
    ]
    # The dealer's share is 30% of HQ's 10 cases (7 available + the 3 its stores hold): 3, all
    # drawn. Another order, or the same split in two, gets nothing more from HQ.
    r = shop.order("clerk_a1", "S-A1", "S-2", (shop.sku1, 1))
    assert r.status_code == 409 and "share: 0" in r.json()["error"]["message"]
    w.post("clerk_a1", f"/v1/orders/{order['id']}/cancel", {"reason": "too many"})
    assert shop.level("WH-CENTRAL", shop.sku1) == (10, 0)
    split = [shop.order("clerk_a1", "S-A1", f"S-SPLIT-{n}", (shop.sku1, 1)) for n in range(6)]
    # Own stock first (2), then HQ within the share: 3 more, the sixth refused.
    assert [r.status_code for r in split] == [201] * 5 + [409]
    assert shop.level("WH-D-A", shop.sku1) == (2, 2)
    assert shop.level("WH-CENTRAL", shop.sku1) == (10, 3)
    assert shop.order("clerk_b1", "S-A1", "S-3", (shop.sku1, 1)).status_code == 403
    assert shop.order("staff_a", "S-A1", "S-4", (shop.sku1, 1)).status_code == 403


def test_the_life_cycle_and_who_moves_it(shop: Shop) -> None:
    w = shop.world
    shop.stock("WH-CENTRAL", shop.sku1, 10)
    order = shop.order("staff_a", "D-A", "PO-1", (shop.sku1, 4)).json()
    path = f"/v1/orders/{order['id']}"
    assert w.post("staff_a", f"{path}/confirm").status_code == 403
    assert w.post("rm_gd", f"{path}/confirm").status_code == 403
    assert w.post("staff_b", f"{path}/confirm").status_code == 403
    assert w.post("hq", f"{path}/close").status_code == 409
    confirmed = w.post("rm_sc", f"{path}/confirm", {"reason": "ok"})
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "confirmed"
    r = w.post("staff_a", f"{path}/cancel")
    assert r.status_code == 409 and "only the seller" in r.json()["error"]["message"]
    assert w.post("rm_sc", f"{path}/confirm").status_code == 409
    cancelled = w.post("hq", f"{path}/cancel", {"reason": "out of season"}).json()
    assert cancelled["state"] == "cancelled"
    assert cancelled["lines"][0]["allocations"][0]["reserved"] == 0
    assert [e["state"] for e in cancelled["history"]] == ["submitted", "confirmed", "cancelled"]
    assert shop.level("WH-CENTRAL", shop.sku1) == (10, 0)
    assert w.post("hq", f"{path}/allocate").status_code == 409


def test_order_lists_are_scoped(shop: Shop) -> None:
    w = shop.world
    shop.stock("WH-CENTRAL", shop.sku1, 10)
    shop.stock("WH-D-A", shop.sku1, 10)
    a = shop.order("staff_a", "D-A", "PO-1", (shop.sku1, 1)).json()["id"]
    b = shop.order("staff_b", "D-B", "PO-1", (shop.sku1, 1)).json()["id"]
    s = shop.order("clerk_a1", "S-A1", "S-1", (shop.sku1, 1)).json()["id"]

    def ids(who: str) -> set[str]:
        r = w.get(who, "/v1/orders")
        assert r.status_code == 200, r.text
        return {o["id"] for o in r.json()}

    assert ids("hq") == ids("compliance") == {a, b, s}
    assert ids("rm_sc") == {a, s}
    assert ids("rm_gd") == {b}
    assert ids("staff_a") == {a, s}
    assert ids("staff_b") == {b}
    assert ids("clerk_a1") == {s}
    assert ids("clerk_b1") == set()
    assert w.get("staff_b", f"/v1/orders/{a}").status_code == 403
    assert w.get("clerk_b1", f"/v1/orders/{s}").status_code == 403
    assert w.get("device_central", "/v1/orders").status_code == 403
    assert {o["id"] for o in w.get("hq", "/v1/orders?kind=store").json()} == {s}


def test_a_price_tier_outside_the_dealers_tier_names_is_refused(shop: Shop) -> None:
    w, hq = shop.world, shop.world.ids["hq"]
    prices = select(func.count()).select_from(PriceListItem)
    with w.db.engine.connect() as conn:
        before = conn.execute(prices).scalar()
    for tier in ("UPPER CASE", "%ED%A0%80", "-lead"):
        for r in (
            w.put("hq", f"/v1/price-lists/{hq}/{tier}/{shop.sku1}", {"case_price_fen": 100}),
            w.get("hq", f"/v1/price-lists/{hq}/{tier}"),
        ):
            assert r.status_code == 422, r.text
            assert r.json()["error"]["message"].startswith("tier: String should match pattern")
    with w.db.engine.connect() as conn:
        assert conn.execute(prices).scalar() == before


def test_a_filter_value_nothing_can_have_is_refused_with_the_values_it_can(shop: Shop) -> None:
    w = shop.world
    for path, allowed in (
        ("/v1/orders?state=zzz", "submitted|confirmed"),
        ("/v1/orders?kind=both", "dealer|store"),
        ("/v1/shipments?state=zzz", "picking|dispatched"),
        ("/v1/returns?state=zzz", "requested|approved"),
    ):
        r = w.get("hq", path)
        assert r.status_code == 422, r.text
        assert allowed in r.json()["error"]["message"]
    for path in ("/v1/orders?state=submitted&kind=store", "/v1/shipments?state=picking"):
        assert w.get("hq", path).status_code == 200
    assert w.get("hq", "/v1/returns?state=in_transit").status_code == 200
