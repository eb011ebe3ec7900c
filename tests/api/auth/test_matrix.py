"""Every role × the channel's endpoints: who is let in, and that nobody sees another tenant.

(Return decisions, taking a pick back, closing an order and reading one return are checked
role by role in tests/api/shipments; everything else is here.)

Each row names an endpoint and the principals allowed to call it; every other principal must
get 403 (and a caller without credentials 401). Denied callers go first, so a refusal can never
be explained by an allowed caller having changed the state. Every successful response is also
searched for the identifiers of parties, orders and shipments the caller must not see.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.api.channel.world import PASSWORD, World
from tests.api.shipments.flow import Flow, serials

PEOPLE = ["hq", "compliance", "rm_sc", "rm_gd", "staff_a", "staff_b", "clerk_a1", "clerk_b1"]
DEVICES = ["device_central", "device_a"]
EVERYONE = [*PEOPLE, *DEVICES, "writer"]
CHANNEL = [*PEOPLE, *DEVICES]
READERS = {"hq", "compliance"}

_n = itertools.count()


@dataclass
class Row:
    method: str
    path: str
    allowed: set[str]
    body: Callable[[], Any] | None = None


def matrix(ids: dict[str, str], sku: str, codes: list[str]) -> list[Row]:
    i = ids

    def loc(code: str = "510104") -> dict[str, Any]:
        return {"admin_code": code, "address": "x", "lat_e6": 30_600_000, "lon_e6": 104_000_000}

    free_areas = [f"{p}0000" for p in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36)]

    def uniq(prefix: str) -> str:
        return f"{prefix}-{next(_n)}"

    return [
        Row("GET", "/v1/auth/me", set(EVERYONE)),
        Row("GET", "/v1/users", READERS | {"rm_sc", "rm_gd", "staff_a", "staff_b"}),
        Row(
            "POST",
            "/v1/users",
            {"hq", "rm_sc", "staff_a"},
            lambda: {
                "username": uniq("clerk"),
                "role": "store_clerk",
                "scope": i["S-A2"],
                "password": PASSWORD,
            },
        ),
        Row("GET", "/v1/regions", set(CHANNEL)),
        Row("GET", f"/v1/regions/{i['R-SC']}", set(CHANNEL)),
        Row(
            "POST",
            "/v1/regions",
            {"hq"},
            lambda: {"code": uniq("R"), "name": "n", "admin_codes": [free_areas.pop()]},
        ),
        Row("GET", "/v1/dealers", set(CHANNEL)),
        Row("GET", f"/v1/dealers/{i['D-A']}", READERS | {"rm_sc", "staff_a"}),
        Row(
            "POST",
            "/v1/dealers",
            {"hq", "rm_sc"},
            lambda: {
                "code": uniq("D"),
                "name": "n",
                "region_id": i["R-SC"],
                "tier": "gold",
                "credit_limit_fen": 1,
                "location": loc(),
            },
        ),
        Row("PATCH", f"/v1/dealers/{i['D-A']}", {"hq", "rm_sc", "staff_a"}, lambda: {"name": "A"}),
        Row(
            "POST",
            f"/v1/dealers/{i['D-A']}/stores",
            {"hq", "rm_sc", "staff_a"},
            lambda: {"code": uniq("S"), "name": "n", "location": loc()},
        ),
        Row("GET", "/v1/stores", set(CHANNEL)),
        Row("GET", f"/v1/stores/{i['S-A1']}", READERS | {"rm_sc", "staff_a", "clerk_a1"}),
        Row("GET", "/v1/warehouses", set(CHANNEL)),
        Row("GET", "/v1/warehouses?owner=hq", set(CHANNEL)),
        Row("GET", f"/v1/warehouses/{i['WH-CENTRAL']}", set(CHANNEL)),
        Row("GET", f"/v1/warehouses/{i['WH-D-A']}", READERS | {"rm_sc", "staff_a", "device_a"}),
        Row(
            "POST",
            "/v1/warehouses",
            {"hq", "rm_sc", "staff_a"},
            lambda: {
                "code": uniq("W"),
                "name": "n",
                "kind": "dealer",
                "dealer_id": i["D-A"],
                "location": loc(),
            },
        ),
        Row(
            "PUT",
            f"/v1/price-lists/{i['hq']}/gold/{sku}",
            {"hq"},
            lambda: {"case_price_fen": 1_788_000},
        ),
        Row(
            "PUT",
            f"/v1/price-lists/{i['D-A']}/standard/{sku}",
            {"hq", "staff_a"},
            lambda: {"case_price_fen": 2_100_000},
        ),
        Row("DELETE", f"/v1/price-lists/{i['D-A']}/standard/{i['sku2']}", {"hq", "staff_a"}),
        Row(
            "GET",
            f"/v1/price-lists/{i['hq']}/gold",
            READERS | {"rm_sc", "rm_gd", "staff_a", "staff_b"},
        ),
        Row(
            "GET",
            f"/v1/price-lists/{i['D-A']}/standard",
            READERS | {"rm_sc", "staff_a", "clerk_a1"},
        ),
        Row("GET", f"/v1/catalogue?buyer_id={i['D-A']}", READERS | {"rm_sc", "staff_a"}),
        Row(
            "GET", f"/v1/catalogue?buyer_id={i['S-A1']}", READERS | {"rm_sc", "staff_a", "clerk_a1"}
        ),
        Row(
            "POST",
            "/v1/orders",
            {"hq", "staff_a"},
            lambda: {
                "buyer_id": i["D-A"],
                "client_key": uniq("K"),
                "lines": [{"gtin": sku, "cases": 1}],
            },
        ),
        Row(
            "POST",
            "/v1/orders",
            {"hq", "clerk_a1"},
            lambda: {
                "buyer_id": i["S-A1"],
                "client_key": uniq("K"),
                "lines": [{"gtin": sku, "cases": 1}],
            },
        ),
        Row("GET", "/v1/orders", set(PEOPLE)),
        Row("GET", f"/v1/orders/{i['order']}", READERS | {"rm_sc", "staff_a"}),
        Row("GET", f"/v1/orders/{i['store_order']}", READERS | {"rm_sc", "staff_a", "clerk_a1"}),
        Row("POST", f"/v1/orders/{i['order3']}/confirm", {"hq", "rm_sc"}),
        Row("POST", f"/v1/orders/{i['store_order']}/confirm", {"hq", "rm_sc", "staff_a"}),
        Row("POST", f"/v1/orders/{i['order2']}/cancel", {"hq", "rm_sc", "staff_a"}),
        Row("POST", f"/v1/orders/{i['order4']}/allocate", {"hq", "rm_sc"}),
        Row("GET", "/v1/stock", set(CHANNEL)),
        Row(
            "GET",
            f"/v1/stock?warehouse_id={i['WH-D-A']}",
            READERS | {"rm_sc", "staff_a", "device_a"},
        ),
        Row(
            "POST",
            f"/v1/warehouses/{i['WH-CENTRAL']}/putaway",
            {"hq", "device_central"},
            lambda: {"codes": [codes.pop()]},
        ),
        Row("GET", "/v1/shipments", set(CHANNEL)),
        Row(
            "GET",
            f"/v1/shipments/{i['shipment']}",
            READERS | {"rm_sc", "staff_a", "device_central", "device_a"},
        ),
        Row(
            "POST",
            f"/v1/shipments/{i['shipment']}/picks",
            {"hq", "device_central"},
            lambda: {"codes": [i["picked"]]},
        ),
        Row("POST", f"/v1/shipments/{i['shipment']}/dispatch", {"hq", "device_central"}),
        Row(
            "POST",
            f"/v1/shipments/{i['shipment']}/receive",
            {"hq", "rm_sc", "staff_a", "device_a"},
            lambda: {"codes": [i["picked"]]},
        ),
        Row("GET", f"/v1/custody/{i['picked']}", READERS | {"rm_sc", "staff_a", "device_a"}),
        Row(
            "POST",
            "/v1/returns",
            {"hq", "staff_a"},
            lambda: {"order_id": i["order"], "codes": [i["picked"]], "reason": "破损"},
        ),
        Row("GET", "/v1/returns", set(PEOPLE)),
    ]


# What each principal must never see in any answer: the other tenants' identifiers.
def foreign(ids: dict[str, str]) -> dict[str, set[str]]:
    a = {ids[k] for k in ("D-A", "S-A1", "S-A2", "WH-D-A", "order", "store_order", "shipment")}
    b = {ids[k] for k in ("D-B", "S-B1", "WH-D-B")}
    return {
        "rm_sc": b,
        "rm_gd": a,
        "staff_a": b,
        "staff_b": a,
        "clerk_a1": b | {ids["S-A2"], ids["order"]},
        "clerk_b1": a,
        "device_a": b | {ids["S-A1"], ids["S-A2"]},
        "device_central": {ids["S-A1"], ids["S-A2"], ids["S-B1"]},
        "writer": a | b,
    }


def test_every_role_against_every_endpoint(flow: Flow) -> None:
    w: World = flow.w
    sku = flow.shop.sku1
    stocked = flow.codes(sku, 6)
    spare = serials(flow.codes(sku, len(EVERYONE) + 2))
    flow.ok(flow.putaway("hq", "WH-CENTRAL", stocked), 201)
    with w.db.writer.begin() as conn:
        from api.stock import repository as stock

        stock.add(conn, w.ids["WH-D-A"], sku, 5)
    w.ids["WH-D-B"] = flow.ok(w.get("staff_b", "/v1/warehouses"))[0]["id"]
    order, [shipment] = flow.allocated_order("staff_a", "D-A", "hq", (sku, 1))
    w.ids["shipment"] = shipment["id"]
    w.ids["picked"] = stocked[0].serial
    w.ids["order"] = order["id"]
    w.ids["order2"] = flow.ok(flow.shop.order("staff_a", "D-A", "M-2", (sku, 1)), 201)["id"]
    w.ids["order3"] = flow.ok(flow.shop.order("staff_a", "D-A", "M-4", (sku, 1)), 201)["id"]
    w.ids["order4"] = flow.ok(flow.shop.order("staff_a", "D-A", "M-5", (sku, 1)), 201)["id"]
    flow.ok(w.post("hq", f"/v1/orders/{w.ids['order4']}/confirm"))
    w.ids["sku2"] = flow.shop.sku2
    w.ids["store_order"] = flow.ok(flow.shop.order("clerk_a1", "S-A1", "M-3", (sku, 1)), 201)["id"]
    never = foreign(w.ids)
    failures: list[str] = []
    for row in matrix(w.ids, sku, spare):
        anonymous = w.client.request(row.method, row.path, json=row.body() if row.body else None)
        if anonymous.status_code != 401:
            failures.append(f"anonymous {row.method} {row.path}: {anonymous.status_code}")
        denied = [who for who in EVERYONE if who not in row.allowed]
        allowed = [who for who in EVERYONE if who in row.allowed]
        successes = 0
        for who in denied + allowed:
            r = w.client.request(
                row.method, row.path, headers=w.headers(who), json=row.body() if row.body else None
            )
            cell = f"{who} {row.method} {row.path}: {r.status_code} {r.text[:200]}"
            if who in row.allowed:
                if r.status_code in (401, 403) or r.status_code >= 500:
                    failures.append("refused " + cell)
                successes += r.status_code < 300
            elif r.status_code != 403:
                failures.append("let in " + cell)
            if r.status_code < 300:
                leaked = [x for x in never.get(who, set()) if x in r.text]
                if leaked:
                    failures.append(f"leak to {cell}: {leaked}")
        if not successes:
            failures.append(f"nobody succeeded at {row.method} {row.path}")
    assert failures == [], "\n".join(failures)
