"""A diversion and a clone made through the real services: orders, shipments, receipts and
the public scan lookup of the channel's and traceability's APIs."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from api.trace.codes.service import Code
from tests.api.shipments.flow import Flow, serials

CHENGDU = (30.57, 104.07)


@dataclass
class Scenario:
    flow: Flow
    diverted: Code
    cloned: Code
    honest: Code

    def run(self, who: str = "compliance") -> dict[str, Any]:
        return self.flow.ok(self.flow.w.post(who, "/v1/compliance/detection/run"))

    def alerts(self, who: str, **params: str) -> list[dict[str, Any]]:
        return self.flow.ok(self.flow.w.get(who, "/v1/compliance/alerts", params=params))  # type: ignore[no-any-return]

    def alert_of(self, code: Code) -> dict[str, Any]:
        [found] = [a for a in self.alerts("compliance") if a["code"].endswith(code.serial)]
        return found

    def evidence(self, alert_id: str) -> dict[str, Any]:
        """The bundle, once the log worker has sequenced and checkpointed everything."""
        w = self.flow.w
        for _ in range(100):
            r = w.get("compliance", f"/v1/compliance/alerts/{alert_id}/evidence")
            if r.status_code != 409:
                return self.flow.ok(r)  # type: ignore[no-any-return]
            time.sleep(0.1)
        raise AssertionError(f"evidence of {alert_id} still pending: {r.text}")


def scan(flow: Flow, code: Code, device: str, where: tuple[float, float]) -> None:
    r = flow.w.client.get(
        f"/01/{code.gtin}/10/{code.lot}/21/{code.serial}",
        params={"format": "json", "lat": where[0], "lon": where[1]},
        headers={"X-Device-Id": device},
    )
    assert r.status_code == 200, r.text


def build(flow: Flow) -> Scenario:
    """Dealer D-A (Sichuan) receives three cases from HQ. One of them turns up at dealer D-B
    (Guangdong), which scans it in with its own delivery; another's label is copied and
    scanned by six phones; the third stays honest."""
    w, sku = flow.w, flow.shop.sku1
    a_cases = flow.codes(sku, 3)
    b_cases = flow.codes(sku, 1)
    flow.ok(flow.putaway("device_central", "WH-CENTRAL", a_cases + b_cases), 201)
    _, [to_a] = flow.allocated_order("staff_a", "D-A", "rm_sc", (sku, 3))
    flow.ok(
        w.post("device_central", f"/v1/shipments/{to_a['id']}/picks", {"codes": serials(a_cases)})
    )
    flow.ok(w.post("device_central", f"/v1/shipments/{to_a['id']}/dispatch"))
    flow.ok(w.post("staff_a", f"/v1/shipments/{to_a['id']}/receive", {"codes": serials(a_cases)}))
    _, [to_b] = flow.allocated_order("staff_b", "D-B", "hq", (sku, 1))
    flow.ok(
        w.post("device_central", f"/v1/shipments/{to_b['id']}/picks", {"codes": serials(b_cases)})
    )
    flow.ok(w.post("device_central", f"/v1/shipments/{to_b['id']}/dispatch"))
    arrived = serials(b_cases) + serials(a_cases[:1])
    got = flow.ok(w.post("staff_b", f"/v1/shipments/{to_b['id']}/receive", {"codes": arrived}))
    assert got["extra"] == [a_cases[0].serial]
    for n in range(6):
        scan(flow, a_cases[1], f"phone-{n}", CHENGDU)
    scan(flow, a_cases[2], "phone-honest", CHENGDU)
    return Scenario(flow, a_cases[0], a_cases[1], a_cases[2])
