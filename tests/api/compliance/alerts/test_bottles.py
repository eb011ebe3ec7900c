"""Bottles: a case packed on the line, opened at a foreign store, its bottles scanned by
consumers there; detected incrementally, scan by scan, and in a batch run."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from api.compliance.alerts import repository as repo
from api.compliance.alerts import runs, screen, sources
from api.compliance.alerts.runs import Places, detect_for_scan
from api.compliance.detection.thresholds import Thresholds
from api.compliance.geo.gazetteer import gazetteer
from api.trace.codes import custody
from api.trace.codes import repository as code_repo
from api.trace.codes.service import Code, CodeKind, CodeState, generate, get_code, to_code
from api.trace.resolver.repository import scan_stats
from tests.api.compliance.alerts.scenario import scan
from tests.api.shipments.flow import Flow, serials

GUANGZHOU = (23.13, 113.26)
CHENGDU = (30.57, 104.07)


def bottles_for(flow: Flow, case: Code, count: int) -> list[Code]:
    with flow.w.db.writer.begin() as conn:
        batch = generate(conn, case.lot, count, CodeKind.BOTTLE)
        made = [
            to_code(r) for r in code_repo.in_batch(conn, batch["batch_id"], CodeState.GENERATED)
        ]
        custody.commission(conn, case.lot, made, location="GY-LINE-3")
        made = [get_code(conn, b.serial) for b in made]
        custody.pack(conn, get_code(conn, case.serial), made, location="GY-LINE-3")
    return made


def test_bottles_of_a_case_opened_abroad_are_tracked_after_unpacking(
    flow: Flow, monkeypatch: pytest.MonkeyPatch
) -> None:
    w, sku = flow.w, flow.shop.sku1
    [case, home_case] = flow.codes(sku, 2)
    bottles = bottles_for(flow, case, 6)
    home_bottles = bottles_for(flow, home_case, 6)
    flow.ok(flow.putaway("device_central", "WH-CENTRAL", [case, home_case]), 201)
    _, [to_a] = flow.allocated_order("staff_a", "D-A", "rm_sc", (sku, 2))
    both = serials([case, home_case])
    flow.ok(w.post("device_central", f"/v1/shipments/{to_a['id']}/picks", {"codes": both}))
    flow.ok(w.post("device_central", f"/v1/shipments/{to_a['id']}/dispatch"))
    flow.ok(w.post("staff_a", f"/v1/shipments/{to_a['id']}/receive", {"codes": both}))
    th = Thresholds()

    # The honest case is opened at D-A's own store, its bottles drunk at home.
    with w.db.writer.begin() as conn:
        custody.unpack(conn, get_code(conn, home_case.serial), location=w.ids["S-A1"])
    for n, bottle in enumerate(home_bottles[:4]):
        scan(flow, bottle, f"home-{n}", CHENGDU)
    with w.db.writer.begin() as conn:
        # A scan at home cannot change any finding: the screen says so, nothing is judged.
        assert not screen.may_change_findings(conn, home_bottles[0].id, th, Places(gazetteer()).of)
        assert detect_for_scan(conn, home_bottles[0].id, th).raised == 0

    # The diverted case: its bottles scanned in Guangzhou by three consumers, before anyone
    # knows it was opened there. Two consumers are not yet an alert; the third is — raised
    # by the scan itself (the resolver's incremental detection), no batch run needed.
    key = f"diversion:{w.ids['D-A']}:{case.id}"
    for n, bottle in enumerate(bottles[:2]):
        scan(flow, bottle, f"canton-{n}", GUANGZHOU)
        with w.db.writer.begin() as conn:
            assert screen.may_change_findings(conn, bottle.id, th, Places(gazetteer()).of)
            assert repo.alerts_by_keys(conn, [key]) == {}
            assert detect_for_scan(conn, bottle.id, th).raised == 0
    scan(flow, bottles[2], "canton-2", GUANGZHOU)
    with w.db.writer.begin() as conn:
        weak = repo.alerts_by_keys(conn, [key]).get(key)
        report = detect_for_scan(conn, bottles[2].id, th)
        assert (report.raised, report.updated) == (0, 0)  # already raised, nothing new
    assert weak is not None and weak.strength == "weak" and weak.score == 108
    assert weak.code_id == case.id and weak.dealer_id == w.ids["D-A"]
    assert [s["signal"] for s in weak.signals] == ["consumer_scans_outside"]
    assert sorted(o["code"].rsplit("/", 1)[1] for o in weak.observations) == sorted(
        serials(bottles[:3])
    )
    alert_id = weak.alert_id

    # Then the case turns out to have been opened at D-B's store in Guangzhou; the next
    # consumer scan updates the alert with it.
    with w.db.writer.begin() as conn:
        custody.unpack(conn, get_code(conn, case.serial), location=w.ids["S-B1"])
    scan(flow, bottles[3], "canton-3", GUANGZHOU)
    with w.db.writer.begin() as conn:
        strong = repo.get_alert(conn, alert_id)
        report = detect_for_scan(conn, bottles[3].id, th)
        assert (report.raised, report.updated) == (0, 0)
    assert strong is not None and strong.strength == "strong" and strong.revision == 2
    assert [s["signal"] for s in strong.signals] == ["opened_outside", "consumer_scans_outside"]
    assert strong.score == 100 + 12 * 16
    assert len(strong.entry_ids) == 2

    # A batch run finds the same and changes nothing.
    run = flow.ok(w.post("compliance", "/v1/compliance/detection/run"))
    assert (run["raised"], run["updated"]) == (0, 0)
    assert run["findings"] == {"diversion:strong": 1}

    # Two scans of the case racing: the other transaction raised the alert after this one
    # looked for it. The insert conflicts; the scan is still answered and recorded, and the
    # alert stands as the other raised it.
    monkeypatch.setattr(runs.repo, "alerts_by_keys", lambda conn, keys: {})
    scan(flow, bottles[4], "canton-4", GUANGZHOU)
    with w.db.writer.begin() as conn:
        after = repo.get_alert(conn, alert_id)
        recorded, _, _ = scan_stats(conn, bottles[4].id)
    assert recorded == 1
    assert after is not None and after.revision == 2


def test_a_scan_keeps_the_case_its_bottle_came_in_when_repacked(flow: Flow) -> None:
    """A scan is judged under the custody of the case the bottle was in when it was scanned:
    the lookup records that case with the scan, and packing the bottle into another case
    later changes only the scans after it."""
    w, sku = flow.w, flow.shop.sku1
    [first, second] = flow.codes(sku, 2)
    [bottle, *_] = bottles_for(flow, first, 6)
    scan(flow, bottle, "in-the-case", CHENGDU)
    with w.db.writer.begin() as conn:
        custody.unpack(conn, get_code(conn, first.serial), location=w.ids["S-A1"])
    scan(flow, bottle, "out-of-it", CHENGDU)
    with w.db.writer.begin() as conn:
        custody.pack(conn, get_code(conn, second.serial), [get_code(conn, bottle.serial)])
    scan(flow, bottle, "repacked", CHENGDU)
    with w.db.writer.begin() as conn:
        stored = conn.execute(
            text("SELECT case_id FROM trace_scans WHERE code_id = :code ORDER BY id"),
            {"code": bottle.id},
        ).scalars()
        assert list(stored) == [first.id, first.id, second.id]
        by_code = {r.scan_id: r.case_id for r in sources.scan_rows(conn, [bottle.id])}
    assert sorted(by_code.values()) == [first.id, first.id, second.id]
