"""Put-away, picking by scanning, dispatch and receipt as ledger transfers."""

from __future__ import annotations

from sqlalchemy import select

from api.models import LedgerEntry
from api.trace.batches import service as batches
from api.trace.codes.custody import code_key
from api.trace.codes.repository import event_code_ids
from api.trace.codes.service import by_ids
from api.trace.merkle_list import build, item_leaf
from tests.api.shipments.flow import Flow, serials


def test_putaway_brings_commissioned_cases_into_hq_stock(flow: Flow) -> None:
    w, sku = flow.w, flow.shop.sku1
    cases = flow.codes(sku, 4)
    assert flow.putaway("device_a", "WH-CENTRAL", cases).status_code == 403
    assert flow.putaway("staff_a", "WH-D-A", cases).status_code == 422
    out = flow.ok(flow.putaway("device_central", "WH-CENTRAL", cases), 201)
    assert out["cases"] == {sku: 4}
    assert flow.shop.level("WH-CENTRAL", sku) == (4, 0)
    again = flow.putaway("hq", "WH-CD", cases[:1])
    assert again.status_code == 409 and "already in stock" in again.json()["error"]["message"]
    entry = flow.entry(out["entry_ids"][0])
    assert entry["kind"] == "stock.putaway"
    assert entry["payload"]["warehouse"] == w.ids["WH-CENTRAL"]
    assert entry["payload"]["codes_count"] == 4
    custody = flow.ok(w.get("compliance", f"/v1/custody/{cases[0].serial}"))
    assert custody["state"] == "held" and custody["warehouse_id"] == w.ids["WH-CENTRAL"]
    assert w.get("staff_b", f"/v1/custody/{cases[0].serial}").status_code == 403
    unknown = flow.putaway("hq", "WH-CENTRAL", ["ZZZZZZZZZZZZZZZZ"])
    assert unknown.status_code == 404


def test_an_order_is_picked_dispatched_and_received_on_the_ledger(flow: Flow) -> None:
    w, sku1, sku2 = flow.w, flow.shop.sku1, flow.shop.sku2
    stocked = flow.codes(sku1, 7)
    other_sku = flow.codes(sku2, 1)
    elsewhere = flow.codes(sku1, 1)
    never_stored = flow.codes(sku1, 1)
    flow.ok(flow.putaway("device_central", "WH-CENTRAL", stocked + other_sku), 201)
    flow.ok(flow.putaway("hq", "WH-GZ", elsewhere), 201)
    order, [shipment] = flow.allocated_order("staff_a", "D-A", "rm_sc", (sku1, 5))
    assert order["state"] == "allocated"
    assert shipment["from_warehouse_id"] == w.ids["WH-CENTRAL"]
    assert shipment["to_warehouse_id"] == w.ids["WH-D-A"] and shipment["state"] == "picking"
    picks = f"/v1/shipments/{shipment['id']}/picks"

    def refused(who: str, codes: list[str], status: int, words: str) -> None:
        r = w.post(who, picks, {"codes": codes})
        assert r.status_code == status, r.text
        assert words in r.json()["error"]["message"], r.text

    refused("device_central", serials(other_sku), 409, "this shipment carries")
    refused("device_central", serials(elsewhere), 409, "not in WH-CENTRAL")
    refused("device_central", serials(never_stored), 409, "never put away")
    refused("device_central", ["not-a-code!"], 422, "neither a Digital Link URI nor a serial")
    refused("device_a", serials(stocked[:1]), 403, "may not scan")
    refused("staff_b", serials(stocked[:1]), 403, "outside your scope")
    refused("device_central", serials(stocked[:6]), 409, "6 cases scanned, the shipment carries 5")
    flow.ok(w.post("device_central", picks, {"codes": serials(stocked[:3])}))
    short = w.post("device_central", f"/v1/shipments/{shipment['id']}/dispatch")
    assert short.status_code == 409 and "3 of 5 cases scanned" in short.text
    picked = flow.ok(w.post("device_central", picks, {"codes": serials(stocked[:5])}))
    assert picked["lines"] == [{"gtin": sku1, "cases": 5, "picked": 5, "received": 0}]
    unpicked = flow.ok(w.delete("device_central", f"{picks}/{stocked[4].serial}"))
    assert unpicked["lines"][0]["picked"] == 4
    flow.ok(w.post("device_central", picks, {"codes": serials(stocked[4:5])}))

    sent = flow.ok(w.post("device_central", f"/v1/shipments/{shipment['id']}/dispatch"))
    assert sent["state"] == "dispatched"
    assert flow.shop.level("WH-CENTRAL", sku1) == (2, 0)
    assert flow.ok(w.get("staff_a", f"/v1/orders/{order['id']}"))["state"] == "shipped"
    entry = flow.entry(sent["shipped_entry_ids"][0])
    payload = entry["payload"]
    assert entry["kind"] == "transfer.shipped"
    assert payload["from"] == w.ids["hq"] and payload["to"] == w.ids["D-A"]
    assert payload["order"] == order["id"] and payload["lines"] == [{"gtin": sku1, "cases": 5}]
    with w.db.engine.connect() as conn:
        ids = event_code_ids(conn, entry["id"])
        found = by_ids(conn, ids)
    listed = [found[i] for i in ids]
    assert sorted(c.serial for c in listed) == sorted(serials(stocked[:5]))
    assert payload["codes_count"] == 5
    assert payload["codes_root"] == build([item_leaf(code_key(c)) for c in listed]).root.hex()

    # Dispatched cases cannot be picked again, anywhere.
    _, [second] = flow.allocated_order("staff_b", "D-B", "hq", (sku1, 1))
    r = w.post("hq", f"/v1/shipments/{second['id']}/picks", {"codes": serials(stocked[:1])})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_shipped"

    # The dealer scans in 4 of the 5, and a case that was never sent.
    arrived = serials(stocked[:4]) + serials(stocked[6:7])
    assert (
        w.post("staff_b", f"/v1/shipments/{shipment['id']}/receive", {"codes": arrived}).status_code
        == 403
    )
    got = flow.ok(w.post("staff_a", f"/v1/shipments/{shipment['id']}/receive", {"codes": arrived}))
    assert got["state"] == "received"
    assert got["missing"] == [stocked[4].serial] and got["extra"] == [stocked[6].serial]
    assert flow.shop.level("WH-D-A", sku1) == (4, 0)
    received = flow.entry(got["received_entry_ids"][0])["payload"]
    assert received["received_count"] == 4 and received["codes_count"] == 4
    assert received["missing_count"] == 1 and received["extra_count"] == 1
    assert received["missing"] == [code_key(stocked[4])]
    assert flow.ok(w.get("staff_a", f"/v1/orders/{order['id']}"))["state"] == "received"
    assert (
        flow.ok(w.get("staff_a", f"/v1/custody/{stocked[0].serial}"))["warehouse_id"]
        == w.ids["WH-D-A"]
    )
    assert flow.ok(w.get("hq", f"/v1/custody/{stocked[4].serial}"))["state"] == "in_transit"
    again = w.post("staff_a", f"/v1/shipments/{shipment['id']}/receive", {"codes": arrived})
    assert again.status_code == 409
    assert flow.ok(w.post("staff_a", f"/v1/orders/{order['id']}/close"))["state"] == "closed"


def test_a_failed_dispatch_leaves_stock_and_ledger_as_before(flow: Flow) -> None:
    w, sku = flow.w, flow.shop.sku1
    cases = flow.codes(sku, 3)
    flow.ok(flow.putaway("hq", "WH-CENTRAL", cases), 201)
    _, [shipment] = flow.allocated_order("staff_a", "D-A", "hq", (sku, 3))
    flow.ok(w.post("hq", f"/v1/shipments/{shipment['id']}/picks", {"codes": serials(cases)}))
    flow.w.client.app.state.log.relay()  # type: ignore[attr-defined]
    with w.db.writer.begin() as conn:
        batches.recall(conn, cases[0].lot, "bottle caps leaking")
    r = w.post("hq", f"/v1/shipments/{shipment['id']}/dispatch")
    assert r.status_code == 409 and "recalled" in r.json()["error"]["message"]
    assert flow.shop.level("WH-CENTRAL", sku) == (3, 3)
    assert flow.ok(w.get("hq", f"/v1/shipments/{shipment['id']}"))["state"] == "picking"
    assert flow.ok(w.get("hq", f"/v1/custody/{cases[0].serial}"))["state"] == "held"
    w.client.app.state.log.relay()  # type: ignore[attr-defined]
    with w.db.engine.connect() as conn:
        kinds = conn.execute(select(LedgerEntry.__table__.c.kind)).scalars().all()
    assert "trace.batch.recalled" in kinds and "transfer.shipped" not in kinds
