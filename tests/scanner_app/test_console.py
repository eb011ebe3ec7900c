"""The compliance console in Debian's Chromium: a compliance officer logs in, filters and pages
the alerts, opens one, sees its evidence verified by the browser itself, decides it, and reads
the diversion reports and exports; a tampered proof turns the verification red."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from api.trace.common import SHANGHAI
from tests.scanner_app.conftest import Held, Server, checked_page
from tests.scanner_app.console_fixtures import (
    OFFICER,
    OFFICER_PASSWORD,
    ConsoleWorld,
    build_console_world,
)

DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "scanner_app"
VERIFIED = "xpath=self::*[contains(@class,'verified') or contains(@class,'failed')]"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server_database(request: pytest.FixtureRequest) -> str:
    """The console's whole flow on both backends (its API additions are SQL)."""
    return str(request.param)


@pytest.fixture(scope="module")
def console(server: Server) -> Iterator[ConsoleWorld]:
    yield from build_console_world(server)


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    yield from checked_page(browser, viewport=DESKTOP, accept_downloads=True)


def screenshot(page: Any, name: str) -> None:
    """Desktop and tablet sizes, kept as test artifacts."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(TABLET)
    page.screenshot(path=str(ARTIFACTS / f"{name}-tablet.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def login(page: Any, server: Server, hash_: str = "") -> None:
    page.goto(server.url("/app/console/" + hash_))
    page.get_by_label("用户名").fill(OFFICER)
    page.get_by_label("密码").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.locator("#logout").wait_for()


def row_ids(page: Any) -> list[str]:
    page.locator("#alerts, #alerts-empty").first.wait_for()
    return [str(r.get_attribute("data-id")) for r in page.locator("#alerts tbody tr").all()]


def apply(page: Any, **choices: str) -> list[str]:
    """Set the filter form's fields by id and submit; the list the console then shows."""
    for field, value in choices.items():
        box = page.locator(f"#filters #{field}")
        if box.evaluate("n => n.tagName") == "SELECT":
            box.select_option(value)
        else:
            box.fill(value)
    before = page.evaluate("location.hash")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_function("h => location.hash !== h", arg=before)
    shown(page)
    return row_ids(page)


def shown(page: Any) -> None:
    """Wait until the console has rendered the route in the address bar."""
    page.wait_for_function("() => document.querySelector('#main').dataset.shown === location.hash")


def assert_labelled(page: Any) -> None:
    """Every form control has a label, every table column a header."""
    unlabelled = page.evaluate(
        "() => [...document.querySelectorAll('select, input, textarea')]"
        ".filter((e) => !e.labels.length).map((e) => e.id)"
    )
    assert unlabelled == []
    assert page.evaluate(
        "() => [...document.querySelectorAll('table')].every((t) => t.querySelectorAll("
        "'thead th[scope=col]').length === t.rows[t.rows.length - 1].cells.length)"
    )


def badge(page: Any) -> Any:
    found = page.locator("#evidence-badge")
    found.locator(VERIFIED).wait_for(timeout=20_000)
    return found


def test_officer_filters_opens_verifies_and_confirms(
    page: Any, server: Server, console: ConsoleWorld
) -> None:
    w, diversion, clone, back = console.world, console.diversion, console.clone, console.back
    page.goto(server.url("/app/console/"))
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    screenshot(page, "console-login")
    login(page, server)
    assert set(row_ids(page)) == {diversion["id"], clone["id"], back["id"]}
    assert page.locator("#alerts thead th").count() == 10
    assert_labelled(page)
    screenshot(page, "console-alerts")

    # Filters: kind, region and dealer, SKU, detection day; each goes to the API.
    assert set(apply(page, kind="diversion")) == {diversion["id"], back["id"]}
    assert "kind=diversion" in page.evaluate("location.hash")
    assert apply(page, kind="clone") == [clone["id"]]
    today = datetime.now(SHANGHAI).date().isoformat()
    assert set(
        apply(
            page,
            kind="",
            region_id=w.ids["R-SC"],
            dealer_id=w.ids["D-A"],
            gtin=console.scenario.flow.shop.sku1,
            since=today,
            until=today,
        )
    ) == {diversion["id"], clone["id"]}
    assert apply(page, region_id=w.ids["R-GD"], dealer_id="", gtin="") == [back["id"]]
    assert apply(page, region_id="", gtin=console.scenario.flow.shop.sku2) == [back["id"]]
    assert apply(page, gtin="", since="", until="2026-01-01") == []
    # An empty date range is the API's 422, shown as it says.
    page.locator("#since").fill(today)
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("alert").filter(has_text="date range is empty").wait_for()

    # Paging by the API's cursor.
    newest_first = [a["id"] for a in console.api("/v1/compliance/alerts")]
    page.goto(server.url("/app/console/#/alerts?limit=1"))
    shown(page)
    assert row_ids(page) == newest_first[:1]
    assert page.locator("#prev").is_disabled()
    page.locator("#next").click()
    page.wait_for_function("() => location.hash.includes('before=')")
    shown(page)
    assert row_ids(page) == newest_first[1:2]
    assert page.locator("#page").inner_text() == "第 2 页"
    page.locator("#next").click()
    page.wait_for_function("id => location.hash.includes(id)", arg=newest_first[1])
    shown(page)
    assert row_ids(page) == newest_first[2:3] and page.locator("#next").is_disabled()
    page.locator("#prev").click()
    page.wait_for_function("id => location.hash.includes(id)", arg=newest_first[0])
    shown(page)
    assert row_ids(page) == newest_first[1:2]
    page.locator("#prev").click()
    page.wait_for_function("() => !location.hash.includes('before=')")
    shown(page)
    assert row_ids(page) == newest_first[:1]

    # The alert: facts, signals, and its evidence checked in this browser.
    page.goto(server.url("/app/console/#/alerts"))
    shown(page)
    # By keyboard: the row's link takes focus and Enter opens the alert.
    page.locator(f"#alerts tr[data-id='{diversion['id']}'] a").focus()
    page.keyboard.press("Enter")
    page.locator("#facts").wait_for()
    assert page.locator("#alert-state").inner_text() == "新告警"
    assert "区域外入库扫码" in page.locator("#signals").inner_text()
    found = badge(page)
    assert "verified" in str(found.get_attribute("class")), found.inner_text()
    assert "证据已在您的浏览器中验证" in found.inner_text()
    assert page.locator("#checks li .bad").count() == 0
    assert page.locator("#evidence-entries tbody tr").count() >= 2  # the alert and its signal
    assert_labelled(page)
    screenshot(page, "console-alert")

    # A decision without a reason is refused with a message a person can act on.
    page.get_by_role("button", name="确认窜货").click()
    error = page.locator("#decision-error")
    error.locator("xpath=self::*[contains(@class,'error')]").wait_for()
    assert "reason" in error.inner_text()
    assert console.api(f"/v1/compliance/alerts/{diversion['id']}")["state"] == "new"

    reason = "入库扫码为广东经销商，出库单不符，确认窜货"
    page.get_by_label("理由").fill(reason)
    page.get_by_role("button", name="确认窜货").click()
    page.locator("#decision-done").wait_for()
    assert page.locator("#alert-state").inner_text() == "已确认"
    assert page.locator("#decision-reason").inner_text() == reason
    assert page.locator("#decision-final").is_visible()
    history = page.locator("#history tbody tr")
    assert history.count() == 2 and reason in history.nth(1).inner_text()
    # The API says the same, and the decision is a ledger entry the evidence now proves.
    stored = console.api(f"/v1/compliance/alerts/{diversion['id']}")
    assert stored["state"] == "confirmed" and stored["decision_reason"] == reason
    assert stored["events"][-1]["entry_id"] in page.locator("#history").inner_text()
    page.wait_for_function(
        "() => document.querySelector('#evidence-entries')?.innerText.includes('alert.decided')",
        timeout=20_000,
    )
    assert "verified" in str(badge(page).get_attribute("class"))
    screenshot(page, "console-decided")

    # Back in the list, the state shows; the state filter finds it.
    page.locator("#back").click()
    shown(page)
    cell = page.locator(f"#alerts tr[data-id='{diversion['id']}'] .tag")
    assert cell.inner_text() == "已确认"
    assert apply(page, state="confirmed") == [diversion["id"]]
    # English on request.
    page.get_by_role("button", name="English").click()
    shown(page)
    page.get_by_role("heading", name="Alerts").wait_for()
    assert page.locator(f"#alerts tr[data-id='{diversion['id']}'] .tag").inner_text() == "Confirmed"
    assert page.evaluate("document.documentElement.lang") == "en"


def test_filters_changed_while_the_list_loads_stay(
    page: Any, server: Server, console: ConsoleWorld
) -> None:
    # Applying filters draws the list and its form again when the alerts arrive; what the
    # officer changes in the form meanwhile must stay, and the field they are in keep the focus.
    login(page, server)
    shown(page)
    held = Held(page, re.compile(r"/v1/compliance/alerts\?"))
    page.locator("#filters #kind").select_option("diversion")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_function("() => location.hash.includes('kind=diversion')")
    page.locator("#filters #state").select_option("new")
    today = datetime.now(SHANGHAI).date().isoformat()
    page.locator("#filters #since").fill(today)
    held.release()
    shown(page)
    assert set(row_ids(page)) <= {console.diversion["id"], console.back["id"]}
    assert page.locator("#filters #kind").input_value() == "diversion"
    assert page.locator("#filters #state").input_value() == "new"
    assert page.locator("#filters #since").input_value() == today
    assert page.evaluate("document.activeElement.id") == "since"
    assert "state=" not in page.evaluate("location.hash")  # changed, not applied


def test_a_link_opened_signed_out_puts_the_focus_in_the_login_form(
    page: Any, server: Server, console: ConsoleWorld
) -> None:
    page.goto(server.url("/app/console/"))
    page.get_by_label("用户名").wait_for()
    page.evaluate("location.hash = '#/reports'")  # a bookmark followed while signed out
    page.wait_for_function("() => location.hash === '#/reports'")
    page.evaluate("() => new Promise((done) => setTimeout(done))")  # its hashchange has run
    assert page.evaluate("document.activeElement.id") == "username"


def test_switching_the_language_keeps_what_was_typed(
    page: Any, server: Server, console: ConsoleWorld
) -> None:
    # The login form, then filters changed but not applied: the other language draws every
    # view anew, with nothing the officer entered lost.
    page.goto(server.url("/app/console/"))
    page.get_by_label("用户名").fill(OFFICER)
    page.locator("#lang").click()
    assert page.get_by_label("Username").input_value() == OFFICER
    page.get_by_label("Password").fill(OFFICER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.locator("#logout").wait_for()
    shown(page)
    page.locator("#filters #state").select_option("new")
    today = datetime.now(SHANGHAI).date().isoformat()
    page.locator("#filters #since").fill(today)
    page.locator("#lang").click()
    page.wait_for_function("() => document.documentElement.lang === 'zh-CN'")
    shown(page)
    page.get_by_role("button", name="筛选").wait_for()
    assert page.locator("#filters #state").input_value() == "new"
    assert page.locator("#filters #since").input_value() == today
    assert "state=" not in page.evaluate("location.hash")  # changed, not applied


def test_a_reason_being_written_stays_when_the_alert_draws_again(
    page: Any, server: Server, console: ConsoleWorld
) -> None:
    # Switching the language loads the alert again and draws it anew; the reason being
    # written (before and while it loads) must stay, with the focus.
    alert_id = console.back["id"]
    login(page, server, f"#/alerts/{alert_id}")
    reason = page.get_by_label("理由")
    reason.fill("经销商称此箱为退货")
    held = Held(page, f"**/v1/compliance/alerts/{alert_id}")
    page.get_by_role("button", name="English").click()
    reason.press("End")
    reason.press_sequentially("，待核实")
    held.release()
    page.get_by_role("heading", name="Decision").wait_for()
    field = page.get_by_label("Reason")
    assert field.input_value() == "经销商称此箱为退货，待核实"
    assert page.evaluate("document.activeElement.id") == "reason"


def _flip_first_proof_byte(bundle: dict[str, Any]) -> None:
    for entry in bundle["entries"]:
        if entry["proof"]:
            h = entry["proof"][0]
            entry["proof"][0] = f"{int(h[0], 16) ^ 1:x}" + h[1:]
            return
    raise AssertionError("no proof to tamper with")


def test_tampered_evidence_proof_turns_red(
    page: Any, server: Server, console: ConsoleWorld
) -> None:
    def tamper(route: Any) -> None:
        response = route.fetch()
        bundle = response.json()
        _flip_first_proof_byte(bundle)
        route.fulfill(response=response, body=json.dumps(bundle))

    page.route("**/v1/compliance/alerts/*/evidence", tamper)
    login(page, server, f"#/alerts/{console.clone['id']}")
    found = badge(page)
    assert "failed" in str(found.get_attribute("class"))
    text = found.inner_text()
    assert "证据验证失败" in text and "inclusion proof" in text, text
    assert page.locator("#checks li .bad").count() >= 1
    screenshot(page, "console-tampered")
    # Untampered, the same alert verifies.
    page.unroute("**/v1/compliance/alerts/*/evidence")
    page.reload()
    assert "verified" in str(badge(page).get_attribute("class"))
    assert page.locator("#observations tbody tr").count() == 6  # the six phones, each proven


def _rates_in_page(page: Any) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for row in page.locator("#rates tbody tr").all():
        cells = [int(c) for c in row.locator("td").all_inner_texts()]
        out[str(row.get_attribute("data-key"))] = cells
    return out


def test_charts_show_the_reports_figures(page: Any, server: Server, console: ConsoleWorld) -> None:
    login(page, server, "#/reports")
    for by in ("region", "dealer", "sku", "month"):
        if by != "region":
            page.get_by_label("统计维度").select_option(by)
            page.wait_for_function("b => location.hash.endsWith('by=' + b)", arg=by)
        shown(page)
        api = console.api("/v1/compliance/reports/diversion-rates", by=by)
        assert _rates_in_page(page) == {
            r["key"]: [
                r["shipped"],
                r["suspected"],
                r["confirmed"],
                r["suspected_permille"],
                r["confirmed_permille"],
            ]
            for r in api
        }
        bars = {
            str(b.get_attribute("data-key")): int(str(b.get_attribute("data-suspected")))
            for b in page.locator("#rates-chart g.bar").all()
        }
        assert bars == {r["key"]: r["suspected_permille"] for r in api}
        if by == "region":
            # Sichuan's dealer got four cases, one went astray; Guangdong's three, one.
            got = {r["key"]: (r["shipped"], r["suspected"], r["suspected_permille"]) for r in api}
            ids = console.world.ids
            assert got == {ids["R-SC"]: (4, 1, 250), ids["R-GD"]: (3, 1, 333)}
            assert "四川大区" in page.locator("#rates-chart").inner_html()
            screenshot(page, "console-reports")
    flows = console.api("/v1/compliance/reports/flows")
    ids = console.world.ids
    assert {(f["from_region"], f["to_region"]) for f in flows} == {
        (ids["R-SC"], ids["R-GD"]),
        (ids["R-GD"], ids["R-SC"]),
    }
    cells = {
        (str(c.get_attribute("data-from")), str(c.get_attribute("data-to"))): int(
            str(c.get_attribute("data-suspected"))
        )
        for c in page.locator("#flow-chart g.cell").all()
    }
    for f in flows:
        assert cells[(f["from_region"], f["to_region"])] == f["suspected"]
    assert sum(cells.values()) == sum(f["suspected"] for f in flows)
    assert page.locator("#flows tbody tr").count() == len(flows)


def test_csv_and_evidence_exports_download(
    page: Any, server: Server, console: ConsoleWorld
) -> None:
    login(page, server, "#/reports")
    with page.expect_download() as info:
        page.get_by_role("button", name="导出窜货率 CSV · 按大区").click()
    download = info.value
    assert download.suggested_filename == "diversion-rates-region.csv"
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    api = console.api("/v1/compliance/reports/diversion-rates", by="region")
    assert all(r["region_name"].endswith("大区") for r in rows if r["region"] != "-")
    assert [(r["region"], int(r["shipped"]), int(r["suspected"])) for r in rows] == [
        (r["key"], r["shipped"], r["suspected"]) for r in api
    ]
    with page.expect_download() as info:
        page.locator("#csv-flows").click()
    text = Path(info.value.path()).read_text()
    header = "from_region,from_region_name,to_region,to_region_name,suspected,confirmed"
    assert text.splitlines()[0] == header
    names = {r["id"]: r["name"] for r in console.api("/v1/regions")}
    for row in csv.DictReader(io.StringIO(text)):
        assert row["from_region_name"] == names[row["from_region"]]
    assert "diversion-flows.csv" in page.locator("#export-status").inner_text()

    page.goto(server.url(f"/app/console/#/alerts/{console.clone['id']}"))
    shown(page)
    badge(page)
    with page.expect_download() as info:
        page.locator("#download-bundle").click()
    assert info.value.suggested_filename == f"evidence-{console.clone['id']}.json"
    bundle = json.loads(Path(info.value.path()).read_text())
    assert bundle["format"] == "jiuyuan-evidence/1" and bundle["alert_id"] == console.clone["id"]


def test_login_refuses_wrong_password_and_other_roles(
    page: Any, server: Server, console: ConsoleWorld
) -> None:
    page.goto(server.url("/app/console/"))
    page.get_by_label("用户名").fill(OFFICER)
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    error = page.locator("#login-error")
    error.locator("xpath=self::*[contains(@class,'error')]").wait_for()
    assert page.locator("#alerts").count() == 0
    staff = {
        "username": "staff.console",
        "role": "dealer_staff",
        "scope": console.world.ids["D-A"],
        "password": "dealer-password-2026",
    }
    r = console.world.post("hq", "/v1/users", staff)
    assert r.status_code == 201, r.text
    page.get_by_label("用户名").fill(staff["username"])
    page.get_by_label("密码").fill(staff["password"])
    page.get_by_role("button", name="登录").click()
    page.wait_for_function(
        "() => document.querySelector('#login-error').innerText.includes('dealer_staff')"
    )
    assert "合规专员" in error.inner_text()
    assert page.evaluate("sessionStorage.getItem('jy_console_token')") is None
