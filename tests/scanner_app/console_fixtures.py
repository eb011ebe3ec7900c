"""The compliance console's world on the browser tests' server: the small test channel
(tests.api.channel.world), a diversion and a cloned label made through the real orders,
shipments and scan lookups (tests.api.compliance.alerts.scenario), detection run over HTTP, and a
compliance officer's account created by HQ through ``POST /v1/users``. Nothing is faked."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from tests.api.channel.world import World, build_world
from tests.api.compliance.alerts.scenario import Scenario, build
from tests.api.orders.shop import build_shop
from tests.api.shipments.flow import Flow, serials
from tests.scanner_app.conftest import Server

OFFICER = "officer.li"
OFFICER_PASSWORD = "audit-password-2026"


@dataclass
class ConsoleWorld:
    world: World
    scenario: Scenario
    diversion: dict[str, Any]
    """Sichuan's dealer D-A's case found at D-B in Guangdong (SKU 1)."""
    clone: dict[str, Any]
    back: dict[str, Any]
    """Guangdong's dealer D-B's case found at D-A in Sichuan (SKU 2)."""

    def api(self, path: str, **params: str) -> Any:
        """The API's own answer, as the officer's colleague would read it."""
        r = self.world.get("compliance", path, params=params)
        assert r.status_code == 200, r.text
        return r.json()


def divert_back(flow: Flow) -> str:
    """D-B (Guangdong) receives two cases of SKU 2 from HQ; one of them turns up at D-A
    (Sichuan), scanned in with D-A's own delivery. Returns its serial."""
    w, sku = flow.w, flow.shop.sku2
    b_cases = flow.codes(sku, 2)
    a_cases = flow.codes(sku, 1)
    flow.ok(flow.putaway("device_central", "WH-CENTRAL", b_cases + a_cases), 201)
    for buyer, who, seller, cases in (
        ("D-B", "staff_b", "hq", b_cases),
        ("D-A", "staff_a", "rm_sc", a_cases),
    ):
        _, [shipment] = flow.allocated_order(who, buyer, seller, (sku, len(cases)))
        path = f"/v1/shipments/{shipment['id']}"
        flow.ok(w.post("device_central", f"{path}/picks", {"codes": serials(cases)}))
        flow.ok(w.post("device_central", f"{path}/dispatch"))
        arrived = serials(cases) + (serials(b_cases[:1]) if buyer == "D-A" else [])
        flow.ok(w.post(who, f"{path}/receive", {"codes": arrived}))
    return b_cases[0].serial


def build_console_world(server: Server) -> Iterator[ConsoleWorld]:
    app: Any = server.app
    with httpx.Client(base_url=server.base, timeout=30) as client:
        world = build_world(client, app.state.db, app.state.settings)  # type: ignore[arg-type]
        scenario = build(Flow(build_shop(world)))
        back = divert_back(scenario.flow)
        report = scenario.run()
        assert report["findings"] == {"diversion:strong": 2, "clone:clone": 1}, report
        r = world.post(
            "hq",
            "/v1/users",
            {
                "username": OFFICER,
                "role": "compliance_officer",
                "password": OFFICER_PASSWORD,
                "display_name": "李合规",
            },
        )
        assert r.status_code == 201, r.text
        yield ConsoleWorld(
            world,
            scenario,
            scenario.alert_of(scenario.diverted),
            scenario.alert_of(scenario.cloned),
            next(a for a in scenario.alerts("compliance") if a["code"].endswith(back)),
        )
