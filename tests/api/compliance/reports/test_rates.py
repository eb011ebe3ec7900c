"""Diversion rates and the flow matrix: the arithmetic, then over HTTP with CSV and SVG."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

from api.compliance.reports.chart import rates_svg
from api.compliance.reports.rates import diversion_rates, flow_matrix, flows_csv, rates_csv
from tests.api.compliance.alerts.scenario import build
from tests.api.shipments.flow import Flow


def allocation(case: int, dealer: str, region: str, gtin: str, month: str) -> dict[str, object]:
    return {"case_id": case, "dealer_id": dealer, "region_id": region, "gtin": gtin, "month": month}


ALLOCATIONS = [
    allocation(1, "dl-a", "rg-sc", "g1", "2026-01"),
    allocation(2, "dl-a", "rg-sc", "g1", "2026-01"),
    allocation(3, "dl-a", "rg-sc", "g2", "2026-02"),
    allocation(4, "dl-b", "rg-gd", "g1", "2026-02"),
    allocation(1, "dl-c", "rg-sc", "g1", "2026-03"),  # case 1 returned, allotted again
]
ALERTS = [
    {
        "code_id": 1,
        "dealer_id": "dl-a",
        "region_id": "rg-sc",
        "to_region_id": "rg-gd",
        "state": "confirmed",
    },
    {
        "code_id": 3,
        "dealer_id": "dl-a",
        "region_id": "rg-sc",
        "to_region_id": "rg-gd",
        "state": "new",
    },
    {
        "code_id": 4,
        "dealer_id": "dl-b",
        "region_id": "rg-gd",
        "to_region_id": None,
        "state": "dismissed",
    },
]


def test_rates_count_shipped_suspected_and_confirmed_per_group() -> None:
    by_dealer = {r.key: r for r in diversion_rates(ALLOCATIONS, ALERTS, "dealer")}
    a = by_dealer["dl-a"]
    assert (a.shipped, a.suspected, a.confirmed) == (3, 2, 1)
    assert (a.suspected_permille, a.confirmed_permille) == (667, 333)
    assert (by_dealer["dl-b"].suspected, by_dealer["dl-c"].suspected) == (0, 0)
    by_month = {
        r.key: (r.shipped, r.suspected) for r in diversion_rates(ALLOCATIONS, ALERTS, "month")
    }
    assert by_month == {"2026-01": (2, 1), "2026-02": (2, 1), "2026-03": (1, 0)}
    by_sku = {r.key: r.suspected for r in diversion_rates(ALLOCATIONS, ALERTS, "sku")}
    assert by_sku == {"g1": 1, "g2": 1}
    assert diversion_rates([], ALERTS, "region") == []


def test_flows_leave_out_dismissed_alerts() -> None:
    [flow] = flow_matrix(ALERTS)
    assert (flow.source, flow.destination, flow.suspected, flow.confirmed) == (
        "rg-sc",
        "rg-gd",
        2,
        1,
    )


def test_csv_and_svg_are_well_formed() -> None:
    rows = diversion_rates(ALLOCATIONS, ALERTS, "dealer")
    parsed = list(csv.DictReader(io.StringIO(rates_csv(rows, "dealer", {"dl-a": "经销商 A"}))))
    assert parsed[0] == {
        "dealer": "dl-a",
        "dealer_name": "经销商 A",
        "shipped": "3",
        "suspected": "2",
        "confirmed": "1",
        "suspected_permille": "667",
        "confirmed_permille": "333",
    }
    assert parsed[1]["dealer_name"] == ""  # a dealer whose name is not known
    by_month = rates_csv(diversion_rates(ALLOCATIONS, ALERTS, "month"), "month")
    assert by_month.splitlines()[0].startswith("month,shipped,")
    flows = list(csv.DictReader(io.StringIO(flows_csv(flow_matrix(ALERTS), {"rg-sc": "四川大区"}))))
    assert {(f["from_region"], f["from_region_name"]) for f in flows} == {("rg-sc", "四川大区")}
    svg = ET.fromstring(rates_svg(rows, "Rate <by> dealer", {"dl-a": "经销商 A & Co"}))
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "经销商 A & Co" in texts and "667‰ (2/3)" in texts
    assert ET.fromstring(rates_svg([], "empty")) is not None


def test_reports_over_http(flow: Flow) -> None:
    s = build(flow)
    s.run()
    w = flow.w
    rows = flow.ok(
        w.get("compliance", "/v1/compliance/reports/diversion-rates", params={"by": "dealer"})
    )
    a = next(r for r in rows if r["key"] == w.ids["D-A"])
    assert (a["shipped"], a["suspected"], a["confirmed"]) == (3, 1, 0)
    b = next(r for r in rows if r["key"] == w.ids["D-B"])
    assert (b["shipped"], b["suspected"]) == (1, 0)
    r = w.get("hq", "/v1/compliance/reports/diversion-rates", params={"by": "sku", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.text.splitlines()[1].startswith(f"{flow.shop.sku1},4,1,0,250,")
    flows = flow.ok(w.get("compliance", "/v1/compliance/reports/flows"))
    assert flows == [
        {"from_region": w.ids["R-SC"], "to_region": w.ids["R-GD"], "suspected": 1, "confirmed": 0}
    ]
    svg = w.get("compliance", "/v1/compliance/reports/diversion-rates.svg", params={"by": "dealer"})
    assert svg.headers["content-type"] == "image/svg+xml"
    assert "dealer D-A" in svg.text and ET.fromstring(svg.text) is not None
    assert w.get("staff_a", "/v1/compliance/reports/flows").status_code == 403
    bad = w.get("compliance", "/v1/compliance/reports/diversion-rates", params={"by": "week"})
    assert bad.status_code == 422 and "by" in bad.json()["error"]["message"]
