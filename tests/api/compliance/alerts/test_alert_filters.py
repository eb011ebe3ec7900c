"""The alerts list's SKU and date-range filters (what the compliance console filters by)."""

from __future__ import annotations

from datetime import datetime, timedelta

from api.trace.common import SHANGHAI
from tests.api.compliance.alerts.scenario import build, scan
from tests.api.shipments.flow import Flow


def test_alerts_filter_by_sku_and_detection_day(flow: Flow) -> None:
    s = build(flow)
    s.run()
    w, sku = flow.w, flow.shop.sku1
    assert {a["gtin"] for a in s.alerts("compliance")} == {sku}
    assert len(s.alerts("compliance", gtin=sku)) == 2
    assert s.alerts("compliance", gtin=flow.shop.sku2) == []
    today = datetime.now(SHANGHAI).date()
    day = today.isoformat()
    yesterday = (today - timedelta(days=1)).isoformat()
    tomorrow = (today + timedelta(days=1)).isoformat()
    assert len(s.alerts("compliance", since=day, until=day)) == 2
    assert len(s.alerts("compliance", since=yesterday)) == 2
    assert s.alerts("compliance", until=yesterday) == []
    assert s.alerts("compliance", since=tomorrow) == []
    # The calendar's ends: no bound at all, not a day past the last one a date can name.
    assert len(s.alerts("compliance", since="0001-01-01", until="9999-12-31")) == 2
    assert s.alerts("compliance", until="0001-01-01") == []
    assert s.alerts("compliance", since="9999-12-31") == []
    both = s.alerts("compliance", kind="clone", gtin=sku, since=day)
    assert [a["kind"] for a in both] == ["clone"]

    r = w.get("compliance", "/v1/compliance/alerts", params={"since": day, "until": yesterday})
    assert r.status_code == 422 and "date range is empty" in r.json()["error"]["message"]
    r = w.get("compliance", "/v1/compliance/alerts", params={"gtin": "12345"})
    assert r.status_code == 422
    r = w.get("compliance", "/v1/compliance/alerts", params={"since": "2026-13-01"})
    assert r.status_code == 422


def test_a_clone_of_a_code_no_dealer_held_is_found_by_its_sku(flow: Flow) -> None:
    """A clone's product is its code's: the label of a case still at HQ, copied and scanned
    on six phones, is listed under its SKU."""
    s = build(flow)
    [case] = flow.codes(flow.shop.sku2, 1)
    for k in range(6):
        scan(flow, case, f"copy-{k}", (39.9, 116.4))
    s.run()
    [clone] = [a for a in s.alerts("compliance") if a["code"].endswith(case.serial)]
    assert clone["kind"] == "clone" and clone["dealer_id"] is None
    assert clone["gtin"] == flow.shop.sku2
    assert [a["id"] for a in s.alerts("compliance", gtin=flow.shop.sku2)] == [clone["id"]]
