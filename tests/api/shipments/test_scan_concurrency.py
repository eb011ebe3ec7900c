"""Picking, dispatch and receipt raced by several scanners at once.

Real threads through the app on SQLite and PostgreSQL, released together by a barrier: the
same case scanned onto several shipments, one shipment dispatched several times, one shipment
received several times. Exactly one of each may succeed; the rest are refused with a 409 and
leave stock, custody and the ledger as one success left them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

from sqlalchemy import select

from api.models import LedgerEntry
from tests.api.shipments.flow import Flow, serials

CLIENTS = 6


def _at_once(call: Callable[[int], Any]) -> list[tuple[int, dict[str, Any]]]:
    """``call(n)`` for every client, all released at the same moment."""
    barrier = Barrier(CLIENTS)

    def run(n: int) -> tuple[int, dict[str, Any]]:
        barrier.wait()
        r = call(n)
        return int(r.status_code), r.json()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return list(pool.map(run, range(CLIENTS)))


def _statuses(outcomes: list[tuple[int, dict[str, Any]]]) -> Counter[int]:
    return Counter(status for status, _ in outcomes)


def _shipment(flow: Flow, n: int, sku: str, cases: int) -> dict[str, Any]:
    """A confirmed, allocated order of D-A served from HQ's central warehouse; its shipment."""
    order = flow.ok(flow.shop.order("staff_a", "D-A", f"RACE-{n}-{sku}", (sku, cases)), 201)
    flow.ok(flow.w.post("rm_sc", f"/v1/orders/{order['id']}/confirm"))
    order = flow.ok(flow.w.post("rm_sc", f"/v1/orders/{order['id']}/allocate"))
    [shipment_id] = order["shipment_ids"]
    shipment = flow.ok(flow.w.get("hq", f"/v1/shipments/{shipment_id}"))
    assert shipment["from_warehouse_id"] == flow.w.ids["WH-CENTRAL"]
    return shipment  # type: ignore[no-any-return]


def _picked(flow: Flow) -> tuple[str, list[Any], str]:
    """Three cases of ``sku1`` put away at central and picked onto a new shipment: (SKU,
    cases, the shipment's path)."""
    sku = flow.shop.sku1
    cases = flow.codes(sku, 3)
    flow.ok(flow.putaway("hq", "WH-CENTRAL", cases), 201)
    shipment = _shipment(flow, 0, sku, 3)
    path = f"/v1/shipments/{shipment['id']}"
    flow.ok(flow.w.post("device_central", f"{path}/picks", {"codes": serials(cases)}))
    return sku, cases, path


def _transfers(flow: Flow) -> Counter[str]:
    flow.w.client.app.state.log.relay()
    table = LedgerEntry.__table__
    with flow.w.db.engine.connect() as conn:
        kinds = conn.execute(select(table.c.kind)).scalars().all()
    return Counter(k for k in kinds if k.startswith("transfer."))


def test_one_case_scanned_onto_several_shipments_at_once_is_picked_once(flow: Flow) -> None:
    sku = flow.shop.sku1
    cases = flow.codes(sku, CLIENTS)
    flow.ok(flow.putaway("hq", "WH-CENTRAL", cases), 201)
    shipments = [_shipment(flow, n, sku, 1) for n in range(CLIENTS)]
    contested = cases[0].serial

    outcomes = _at_once(
        lambda n: flow.w.post(
            "device_central", f"/v1/shipments/{shipments[n]['id']}/picks", {"codes": [contested]}
        )
    )

    assert _statuses(outcomes) == {200: 1, 409: CLIENTS - 1}, outcomes
    for status, body in outcomes:
        if status == 409:
            assert body["error"]["code"] == "scan_refused", body
            assert "already picked for shipment" in body["error"]["message"], body
    picked = [
        flow.ok(flow.w.get("hq", f"/v1/shipments/{s['id']}"))["lines"][0]["picked"]
        for s in shipments
    ]
    assert sorted(picked) == [0] * (CLIENTS - 1) + [1]


def test_a_case_picked_while_its_shipment_is_dispatched_is_refused(flow: Flow) -> None:
    sku = flow.shop.sku1
    cases = flow.codes(sku, CLIENTS)
    flow.ok(flow.putaway("hq", "WH-CENTRAL", cases), 201)
    leaving = _shipment(flow, 0, sku, 1)
    others = [_shipment(flow, n, sku, 1) for n in range(1, CLIENTS)]
    flow.ok(
        flow.w.post(
            "device_central", f"/v1/shipments/{leaving['id']}/picks", {"codes": serials(cases[:1])}
        )
    )

    def call(n: int) -> Any:
        if n == 0:
            return flow.w.post("device_central", f"/v1/shipments/{leaving['id']}/dispatch")
        return flow.w.post(
            "device_central",
            f"/v1/shipments/{others[n - 1]['id']}/picks",
            {"codes": serials(cases[:1])},
        )

    outcomes = _at_once(call)

    assert outcomes[0][0] == 200, outcomes[0]
    assert all(status == 409 for status, _ in outcomes[1:]), outcomes
    for s in others:
        assert flow.ok(flow.w.get("hq", f"/v1/shipments/{s['id']}"))["lines"][0]["picked"] == 0


def test_a_shipment_dispatched_several_times_at_once_leaves_once(flow: Flow) -> None:
    sku, cases, path = _picked(flow)

    outcomes = _at_once(lambda _: flow.w.post("device_central", f"{path}/dispatch"))

    assert _statuses(outcomes) == {200: 1, 409: CLIENTS - 1}, outcomes
    assert all(
        body["error"]["code"] == "shipment_state" for status, body in outcomes if status == 409
    )
    assert flow.shop.level("WH-CENTRAL", sku) == (0, 0)
    assert _transfers(flow) == {"transfer.shipped": 1}
    custody = flow.ok(flow.w.get("hq", f"/v1/custody/{cases[0].serial}"))
    assert custody["state"] == "in_transit"


def test_a_shipment_received_several_times_at_once_arrives_once(flow: Flow) -> None:
    sku, cases, path = _picked(flow)
    flow.ok(flow.w.post("device_central", f"{path}/dispatch"))

    outcomes = _at_once(
        lambda _: flow.w.post("staff_a", f"{path}/receive", {"codes": serials(cases)})
    )

    assert _statuses(outcomes) == {200: 1, 409: CLIENTS - 1}, outcomes
    assert all(
        body["error"]["code"] == "shipment_state" for status, body in outcomes if status == 409
    )
    assert flow.shop.level("WH-D-A", sku) == (3, 0)
    assert _transfers(flow) == {"transfer.shipped": 1, "transfer.received": 1}
    received = flow.ok(flow.w.get("staff_a", path))
    assert received["state"] == "received" and received["lines"][0]["received"] == 3
