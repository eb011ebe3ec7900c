"""Detection over the live tables, the review workflow, dealers' appeals and who sees what."""

from __future__ import annotations

from tests.api.compliance.alerts.scenario import build
from tests.api.shipments.flow import Flow


def test_detection_raises_a_strong_diversion_and_a_clone_once_for_those_who_may_see(
    flow: Flow,
) -> None:
    s = build(flow)
    # The clone was raised by the scan that made it one (incremental detection, no run).
    [cloned] = s.alerts("compliance")
    assert cloned["kind"] == "clone" and cloned["code"].endswith(s.cloned.serial)
    report = s.run()
    assert report["raised"] == 1 and report["updated"] == 0
    assert report["signals"]["inbound_scan_outside"] == 1
    assert report["signals"]["too_many_devices"] == 1
    assert report["findings"] == {"diversion:strong": 1, "clone:clone": 1}
    diversion = s.alert_of(s.diverted)
    assert diversion["kind"] == "diversion" and diversion["strength"] == "strong"
    assert diversion["dealer_id"] == flow.w.ids["D-A"]
    assert diversion["region_id"] == flow.w.ids["R-SC"]
    assert diversion["to_region_id"] == flow.w.ids["R-GD"]
    assert diversion["place"] == "440106" and diversion["place_name"] == "广东省 广州市 天河区"
    [signal] = diversion["signals"]
    assert signal["signal"] == "inbound_scan_outside" and signal["party"] == flow.w.ids["D-B"]
    assert diversion["state"] == "new" and len(diversion["entry_ids"]) == 1
    clone = s.alert_of(s.cloned)
    assert clone["kind"] == "clone" and clone["signals"][0]["count"] == 6
    assert len(clone["observations"]) == 6
    assert not any(a["code"].endswith(s.honest.serial) for a in s.alerts("compliance"))
    again = s.run("hq")
    assert (again["raised"], again["updated"]) == (0, 0)

    # Who sees which alerts.
    w = flow.w
    assert len(s.alerts("compliance")) == 2
    assert len(s.alerts("staff_a")) == 2  # both are about cases allotted to D-A
    assert len(s.alerts("rm_sc")) == 2
    assert s.alerts("staff_b") == [] and s.alerts("rm_gd") == []
    assert w.get("clerk_a1", "/v1/compliance/alerts").status_code == 403
    r = w.get("staff_b", "/v1/compliance/alerts", params={"dealer_id": w.ids["D-A"]})
    assert r.status_code == 403
    alert_id = s.alert_of(s.diverted)["id"]
    r = w.get("staff_b", f"/v1/compliance/alerts/{alert_id}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "alert_not_found"
    assert w.post("staff_a", "/v1/compliance/detection/run").status_code == 403
    page = s.alerts("compliance", limit="1")
    rest = s.alerts("compliance", before=page[0]["id"])
    assert len(page) == 1 and len(rest) == 1 and rest[0]["id"] != page[0]["id"]
    assert s.alerts("compliance", strength="clone")[0]["kind"] == "clone"
    assert w.get("compliance", "/v1/compliance/alerts?state=open").status_code == 422


def test_decisions_and_appeals_are_written_to_the_ledger(flow: Flow) -> None:
    s = build(flow)
    s.run()
    w = flow.w
    alert_id = s.alert_of(s.diverted)["id"]
    path = f"/v1/compliance/alerts/{alert_id}"

    def decide(who: str, to: str, reason: str | None = None) -> object:
        return w.post(who, f"{path}/decision", {"to": to, "reason": reason})

    assert decide("staff_a", "dismissed", "not me").status_code == 403
    r = decide("compliance", "confirmed")
    assert r.status_code == 422 and "reason" in r.json()["error"]["message"]
    assert decide("compliance", "new").status_code == 422
    flow.ok(decide("compliance", "investigating"))
    done = flow.ok(decide("compliance", "confirmed", "入库扫码为异地经销商，确认窜货"))
    assert done["state"] == "confirmed" and done["decision_reason"].startswith("入库")
    r = decide("hq", "dismissed", "changed my mind")
    assert r.status_code == 409 and "confirmed" in r.json()["error"]["message"]

    assert w.post("staff_b", f"{path}/appeal", {"reason": "not ours"}).status_code == 404
    appealed = flow.ok(w.post("staff_a", f"{path}/appeal", {"reason": "团购客户自提，有提货单"}))
    assert appealed["state"] == "investigating" and appealed["appeal_state"] == "open"
    r = w.post("staff_a", f"{path}/appeal", {"reason": "again, louder"})
    assert r.status_code == 409
    final = flow.ok(decide("compliance", "dismissed", "提货单核实无误，撤销"))
    assert final["state"] == "dismissed" and final["appeal_state"] == "answered"
    actions = [(e["action"], e["from_state"], e["to_state"]) for e in final["events"]]
    assert actions == [
        ("raised", None, "new"),
        ("decided", "new", "investigating"),
        ("decided", "investigating", "confirmed"),
        ("appealed", "confirmed", "investigating"),
        ("decided", "investigating", "dismissed"),
    ]
    kinds = [flow.entry(e["entry_id"])["kind"] for e in final["events"]]
    assert kinds == [
        "compliance.alert.raised",
        "compliance.alert.decided",
        "compliance.alert.decided",
        "compliance.alert.appealed",
        "compliance.alert.decided",
    ]
    payload = flow.entry(final["events"][-1]["entry_id"])["payload"]
    assert payload == {
        "alert": alert_id,
        "from": "investigating",
        "to": "dismissed",
        "by": payload["by"],
        "reason": "提货单核实无误，撤销",
    }
    # A decided alert is not reopened by the next detection run.
    assert s.run()["raised"] == 0
    assert flow.ok(w.get("compliance", path))["state"] == "dismissed"
