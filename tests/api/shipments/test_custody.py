"""Custody is a projection of the ledger; dealer → store shipments and returns move it too."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from api.shipments import custody, repository
from api.trace.codes.models import CodeIndex
from ledger.errors import VerificationError
from tests.api.shipments.flow import Flow, serials


def run_channel(flow: Flow) -> dict[str, list[str]]:
    """HQ → dealer (one case lost on the way), dealer → store, and a return to HQ."""
    w, sku = flow.w, flow.shop.sku1
    cases = flow.codes(sku, 8)
    flow.ok(flow.putaway("device_central", "WH-CENTRAL", cases), 201)
    order, [to_dealer] = flow.allocated_order("staff_a", "D-A", "hq", (sku, 5))
    flow.ok(
        w.post(
            "device_central",
            f"/v1/shipments/{to_dealer['id']}/picks",
            {"codes": serials(cases[:5])},
        )
    )
    flow.ok(w.post("device_central", f"/v1/shipments/{to_dealer['id']}/dispatch"))
    flow.ok(
        w.post("staff_a", f"/v1/shipments/{to_dealer['id']}/receive", {"codes": serials(cases[:4])})
    )

    store_order, [to_store] = flow.allocated_order("clerk_a1", "S-A1", "staff_a", (sku, 2))
    assert to_store["from_warehouse_id"] == w.ids["WH-D-A"]
    assert to_store["to_party_id"] == w.ids["S-A1"] and to_store["to_warehouse_id"] is None
    flow.ok(
        w.post("staff_a", f"/v1/shipments/{to_store['id']}/picks", {"codes": serials(cases[:2])})
    )
    flow.ok(w.post("staff_a", f"/v1/shipments/{to_store['id']}/dispatch"))
    assert (
        w.post(
            "clerk_b1", f"/v1/shipments/{to_store['id']}/receive", {"codes": serials(cases[:2])}
        ).status_code
        == 403
    )
    flow.ok(
        w.post("clerk_a1", f"/v1/shipments/{to_store['id']}/receive", {"codes": serials(cases[:2])})
    )
    assert flow.ok(w.get("clerk_a1", f"/v1/orders/{store_order['id']}"))["state"] == "received"
    assert flow.shop.level("WH-D-A", sku) == (2, 0)

    # A return of the dealer's order: the dealer asks, HQ accepts, the region executes.
    body = {"order_id": order["id"], "codes": serials(cases[2:3]), "reason": "外箱破损"}
    assert w.post("staff_b", "/v1/returns", body).status_code == 403
    assert (
        w.post("staff_a", "/v1/returns", {**body, "codes": serials(cases[:1])}).status_code == 409
    )
    ret = flow.ok(w.post("staff_a", "/v1/returns", body), 201)
    assert ret["state"] == "requested" and ret["to_warehouse_id"] == w.ids["WH-CENTRAL"]
    assert w.post("staff_a", "/v1/returns", body).status_code == 409  # already on a return
    assert w.post("rm_sc", f"/v1/returns/{ret['id']}/approve").status_code == 403
    ret = flow.ok(w.post("hq", f"/v1/returns/{ret['id']}/approve", {"note": "同意退货"}))
    assert ret["state"] == "approved" and ret["shipment_id"]
    back = ret["shipment_id"]
    flow.ok(w.post("rm_sc", f"/v1/shipments/{back}/dispatch"))
    assert flow.shop.level("WH-D-A", sku) == (1, 0)
    assert (
        w.post("rm_sc", f"/v1/shipments/{back}/receive", {"codes": serials(cases[2:3])}).status_code
        == 403
    )
    flow.ok(
        w.post("device_central", f"/v1/shipments/{back}/receive", {"codes": serials(cases[2:3])})
    )
    assert flow.ok(w.get("staff_a", f"/v1/returns/{ret['id']}"))["state"] == "received"
    assert flow.shop.level("WH-CENTRAL", sku) == (4, 0)
    return {"cases": serials(cases)}


def test_custody_rebuilt_from_the_ledger_equals_the_live_table(flow: Flow) -> None:
    w = flow.w
    made = run_channel(flow)
    w.client.app.state.log.relay()  # type: ignore[attr-defined]
    with w.db.engine.connect() as conn:
        live = repository.all_custody(conn)
        rebuilt = custody.rebuild(conn)
    assert custody.differences(live, rebuilt) == []
    assert len(live) == 8
    c = made["cases"]
    assert (live[c[0]].state, live[c[0]].holder_id) == ("held", w.ids["S-A1"])
    assert (live[c[2]].warehouse_id, live[c[2]].holder_id) == (w.ids["WH-CENTRAL"], w.ids["hq"])
    assert (live[c[3]].warehouse_id, live[c[3]].holder_id) == (w.ids["WH-D-A"], w.ids["D-A"])
    assert (live[c[4]].state, live[c[4]].to_id) == ("in_transit", w.ids["D-A"])
    assert live[c[7]].warehouse_id == w.ids["WH-CENTRAL"]

    # A live table changed behind the ledger's back is caught by the comparison...
    with w.db.writer.begin() as conn:
        conn.execute(
            update(repository.custody)
            .where(repository.custody.c.serial == c[7])
            .values(warehouse_id=w.ids["WH-GZ"])
        )
        assert custody.differences(repository.all_custody(conn), custody.rebuild(conn)) != []
    # ...and a tampered code index cannot change the rebuilt answer: it fails verification.
    with w.db.writer.begin() as conn:
        index = CodeIndex.__table__
        conn.execute(update(index).where(index.c.position == 0).values(position=99))
        with pytest.raises(VerificationError, match="does not match its codes_root"):
            custody.rebuild(conn)
