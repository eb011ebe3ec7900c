"""Returns of a store's order: the dealer accepts, cases go back into the dealer's stock."""

from __future__ import annotations

from tests.api.shipments.flow import Flow, serials


def test_a_store_returns_cases_to_its_dealer(flow: Flow) -> None:
    w, sku = flow.w, flow.shop.sku1
    cases = flow.codes(sku, 4)
    flow.ok(flow.putaway("hq", "WH-CENTRAL", cases), 201)
    _, [in_] = flow.allocated_order("staff_a", "D-A", "hq", (sku, 4))
    flow.ok(w.post("hq", f"/v1/shipments/{in_['id']}/picks", {"codes": serials(cases)}))
    flow.ok(w.post("hq", f"/v1/shipments/{in_['id']}/dispatch"))
    flow.ok(w.post("staff_a", f"/v1/shipments/{in_['id']}/receive", {"codes": serials(cases)}))
    order, [out] = flow.allocated_order("clerk_a1", "S-A1", "staff_a", (sku, 3))
    flow.ok(w.post("staff_a", f"/v1/shipments/{out['id']}/picks", {"codes": serials(cases[:3])}))
    flow.ok(w.post("staff_a", f"/v1/shipments/{out['id']}/dispatch"))
    flow.ok(w.post("clerk_a1", f"/v1/shipments/{out['id']}/receive", {"codes": serials(cases[:3])}))
    assert flow.shop.level("WH-D-A", sku) == (1, 0)

    def ask(codes: list[str]):  # type: ignore[no-untyped-def]
        body = {"order_id": order["id"], "codes": codes, "reason": "瓶盖渗漏"}
        return w.post("clerk_a1", "/v1/returns", body)

    refused = ask(serials(cases[3:4]))  # the dealer's case, not delivered under this order
    assert refused.status_code == 422 and "not received under order" in refused.text
    first = flow.ok(ask(serials(cases[:1])), 201)
    assert w.post("staff_a", f"/v1/returns/{first['id']}/reject", {"note": ""}).status_code == 422
    rejected = flow.ok(w.post("staff_a", f"/v1/returns/{first['id']}/reject", {"note": "人为损坏"}))
    assert rejected["state"] == "rejected"
    assert w.post("staff_a", f"/v1/returns/{first['id']}/approve").status_code == 409

    ret = flow.ok(ask(serials(cases[:2])), 201)
    assert ret["to_warehouse_id"] == w.ids["WH-D-A"]
    assert w.post("clerk_a1", f"/v1/returns/{ret['id']}/approve").status_code == 403
    assert w.post("staff_b", f"/v1/returns/{ret['id']}/approve").status_code == 403
    ret = flow.ok(w.post("staff_a", f"/v1/returns/{ret['id']}/approve"))
    back = ret["shipment_id"]
    assert w.post("clerk_b1", f"/v1/shipments/{back}/dispatch").status_code == 403
    sent = flow.ok(w.post("clerk_a1", f"/v1/shipments/{back}/dispatch"))
    assert sent["kind"] == "return" and sent["from_warehouse_id"] is None
    payload = flow.entry(sent["shipped_entry_ids"][0])["payload"]
    assert payload["return"] == ret["id"] and payload["from"] == w.ids["S-A1"]
    flow.ok(w.post("device_a", f"/v1/shipments/{back}/receive", {"codes": serials(cases[:2])}))
    assert flow.ok(w.get("clerk_a1", f"/v1/returns/{ret['id']}"))["state"] == "received"
    assert flow.shop.level("WH-D-A", sku) == (3, 0)
    assert flow.ok(w.get("staff_a", f"/v1/custody/{cases[0].serial}"))["holder_id"] == w.ids["D-A"]
    assert {r["id"] for r in flow.ok(w.get("staff_b", "/v1/returns"))} == set()
