"""Receipt at a store: a case that was dispatched to another party is reported as delivered to
the wrong place, apart from cases that are merely extra."""

from __future__ import annotations

from tests.api.shipments.flow import Flow, serials


def _dispatched(flow: Flow, buyer_who: str, buyer: str, codes: list[str]) -> dict[str, object]:
    _, [shipment] = flow.allocated_order(buyer_who, buyer, "staff_a", (flow.shop.sku1, len(codes)))
    path = f"/v1/shipments/{shipment['id']}"
    flow.ok(flow.w.post("device_central", f"{path}/picks", {"codes": codes}))
    return flow.ok(flow.w.post("device_central", f"{path}/dispatch"))  # type: ignore[no-any-return]


def test_receipt_tells_wrong_destination_from_extra(flow: Flow) -> None:
    w, sku = flow.w, flow.shop.sku1
    cases = flow.codes(sku, 20)
    flow.ok(flow.putaway("device_central", "WH-CENTRAL", cases), 201)
    ours = _dispatched(flow, "clerk_a1", "S-A1", serials(cases[:3]))
    theirs = _dispatched(flow, "hq", "S-A2", serials(cases[3:4]))
    assert theirs["wrong_destination"] == []
    arrived = serials(cases[:2]) + serials(cases[3:5])  # one lost, one misrouted, one never sent
    got = flow.ok(w.post("clerk_a1", f"/v1/shipments/{ours['id']}/receive", {"codes": arrived}))
    assert got["missing"] == [cases[2].serial]
    assert got["extra"] == sorted(serials(cases[3:5]))
    assert got["wrong_destination"] == [cases[3].serial]
    # Reading the shipment again says the same; the misrouted case is still on its way.
    again = flow.ok(w.get("clerk_a1", f"/v1/shipments/{ours['id']}"))
    assert again["wrong_destination"] == [cases[3].serial]
    assert flow.ok(w.get("staff_a", f"/v1/custody/{cases[3].serial}"))["state"] == "in_transit"
