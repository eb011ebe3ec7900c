"""Put-aways from several packing lines at once into the same warehouse and SKUs.

Real threads through the app on SQLite and PostgreSQL: the first put-away of a SKU into a
warehouse creates its stock row while others are adding to it, and put-aways of two SKUs in
opposite orders contend for the same rows. None may fail; the totals must be exact.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from tests.api.shipments.flow import Flow

CLIENTS = 8
CASES = 3


def test_concurrent_putaways_all_succeed_with_exact_totals(flow: Flow) -> None:
    sku1, sku2 = flow.shop.sku1, flow.shop.sku2
    # Each line's batch: its own codes, half of the lines listing SKU 2 first.
    batches = []
    for n in range(CLIENTS):
        first, second = flow.codes(sku1, CASES), flow.codes(sku2, CASES)
        batches.append(second + first if n % 2 else first + second)
    before = {sku: flow.shop.level("WH-CD", sku)[0] for sku in (sku1, sku2)}
    assert before == {sku1: 0, sku2: 0}  # no stock row yet: the first put-aways create it

    def putaway(n: int) -> tuple[int, str]:
        r = flow.putaway("hq", "WH-CD", batches[n])
        return r.status_code, r.text

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        outcomes = list(pool.map(putaway, range(CLIENTS)))

    assert Counter(status for status, _ in outcomes) == {201: CLIENTS}, outcomes
    assert flow.shop.level("WH-CD", sku1) == (CLIENTS * CASES, 0)
    assert flow.shop.level("WH-CD", sku2) == (CLIENTS * CASES, 0)
    custody = flow.ok(flow.w.get("hq", f"/v1/custody/{batches[-1][0].serial}"))
    assert custody["warehouse_id"] == flow.w.ids["WH-CD"]


def test_the_same_cases_put_away_twice_at_once_are_stored_once(flow: Flow) -> None:
    sku = flow.shop.sku1
    cases = flow.codes(sku, CASES)

    def putaway(_: int) -> int:
        return int(flow.putaway("hq", "WH-CD", cases).status_code)

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        statuses = Counter(pool.map(putaway, range(CLIENTS)))

    assert statuses == {201: 1, 409: CLIENTS - 1}
    assert flow.shop.level("WH-CD", sku) == (CASES, 0)
