"""The store clerk app in Debian's Chromium: login, the counter, the Z-report and receiving."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.trace.codes import qr
from tests.scanner_app.clerk_fixtures import (
    CLERK,
    CLERK_PASSWORD,
    DEALER_STAFF,
    PHONE,
    ClerkWorld,
    build_clerk_world,
    member_qr,
)
from tests.scanner_app.conftest import CHROMIUM, CHROMIUM_ARGS, Held, Server
from tests.scanner_app.test_camera import y4m_of

PHONE_SIZE = {"width": 390, "height": 844}
DESKTOP_SIZE = {"width": 1280, "height": 800}
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "scanner_app"
APP = "/app/clerk/"


def screenshot(page: Any, name: str) -> None:
    """Phone and desktop shots of the page as it is, kept as test artifacts (docs/img holds
    copies of some, made by hand: a test run does not rewrite the docs)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    for label, viewport in (("phone", PHONE_SIZE), ("desktop", DESKTOP_SIZE)):
        page.set_viewport_size(viewport)
        page.screenshot(path=str(ARTIFACTS / f"clerk-{name}-{label}.png"), full_page=True)
    page.set_viewport_size(size)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server_database(request: pytest.FixtureRequest) -> str:
    """The clerk's whole day on both backends: the counter's locking and idempotency differ."""
    return str(request.param)


@pytest.fixture(scope="module")
def world(server: Server) -> ClerkWorld:
    return build_clerk_world(server)


def _watch(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE_SIZE, locale="zh-CN")
    page = context.new_page()
    errors = _watch(page)
    yield page
    context.close()
    assert errors == []


def clerk_api(server: Server) -> httpx.Client:
    """The same API as the clerk, to check what the page shows against the server's books."""
    token = httpx.post(
        server.url("/v1/auth/token"), data={"username": CLERK, "password": CLERK_PASSWORD}
    ).json()["access_token"]
    return httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {token}"})


def fund_card(server: Server, world: ClerkWorld, pos_txn: str, paid_fen: int) -> None:
    """Money on the member's card whichever of the module's tests ran before on this worker."""
    with clerk_api(server) as api:
        response = api.post(
            "/v1/stored-value/top-ups",
            json={
                "store_id": world.store_id,
                "member_id": world.member_id,
                "paid_fen": paid_fen,
                "payment_method": "cash",
            },
            headers={"Idempotency-Key": f"{world.store_id}:{pos_txn}"},
        )
    assert response.status_code == 201, response.text


def login(page: Any, server: Server) -> None:
    page.goto(server.url(APP))
    page.get_by_label("用户名").fill(CLERK)
    page.get_by_label("密码").fill(CLERK_PASSWORD)
    page.get_by_role("button", name="登录").click()
    # The counter's first view, or the login form's reason why not (said in the failure).
    refused = page.locator("#login-status [role=alert]")
    page.get_by_role("heading", name="查找会员").or_(refused).wait_for()
    assert not refused.count(), f"login refused: {refused.inner_text()}"


def find_by_phone(page: Any) -> None:
    page.get_by_label("手机号").fill(PHONE)
    page.get_by_role("button", name="按手机号查找").click()
    page.get_by_role("heading", name="会员卡").wait_for()


def balance(page: Any) -> tuple[str, str, str]:
    return (
        page.locator("#balance-total").inner_text(),
        page.locator("#balance-principal").inner_text(),
        page.locator("#balance-bonus").inner_text(),
    )


def receipt_fact(page: Any, label: str) -> str:
    return str(
        page.locator("#receipt dt", has_text=re.compile(f"^{label}$"))
        .locator("xpath=following-sibling::dd[1]")
        .inner_text()
    )


def confirm(page: Any) -> None:
    page.get_by_role("button", name="确认记账").click()
    page.locator("#receipt, .problem").first.wait_for()
    assert page.locator("#receipt").count() == 1, page.locator("main").inner_text()


@pytest.mark.usefixtures("world")  # the clerk exists: it is the password that is wrong
def test_login_refuses_a_wrong_password_in_plain_words(page: Any, server: Server) -> None:
    page.goto(server.url(APP))
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.get_by_label("用户名").fill(CLERK)
    page.get_by_label("密码").fill("not the password")
    page.get_by_role("button", name="登录").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "用户名或密码错误" in alert.inner_text()
    screenshot(page, "login")


def test_only_store_clerks_get_in(page: Any, server: Server, world: ClerkWorld) -> None:
    page.goto(server.url(APP))
    page.get_by_label("用户名").fill(DEALER_STAFF)
    page.get_by_label("密码").fill(CLERK_PASSWORD)
    page.get_by_role("button", name="登录").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "仅供门店店员使用" in alert.inner_text()
    assert page.evaluate("sessionStorage.getItem('jy_clerk_token')") is None
    assert page.locator("#nav").is_hidden()


def test_top_up_spend_refund_receipts_and_z_report(
    page: Any, server: Server, world: ClerkWorld
) -> None:
    login(page, server)
    find_by_phone(page)
    assert page.locator("#member-card").inner_text().count("138****1234") == 1
    assert balance(page) == ("¥0.00", "¥0.00", "¥0.00")

    # Top-up of 1,000: the dealer's promotion applies and its bonus and gift are shown.
    page.get_by_role("button", name="充值").click()
    page.get_by_label("充值金额（元）").fill("600")
    note = page.locator("#promotion-note")
    assert "充500送30" in note.inner_text() and "¥30.00" in note.inner_text()
    page.get_by_label("充值金额（元）").fill("1000")
    assert "充1000送100加品鉴酒" in note.inner_text(), note.inner_text()
    assert "赠送 ¥100.00" in note.inner_text() and "品鉴酒 100ml ×1" in note.inner_text()
    page.get_by_label("支付方式").select_option("wechat")
    screenshot(page, "top-up")
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("heading", name="确认充值").wait_for()
    facts = page.locator("#confirm-facts").inner_text()
    assert "¥1,000.00" in facts and "¥1,100.00" in facts, facts
    pos = page.get_by_label("POS 流水号").input_value()
    assert re.fullmatch(r"T[0-9A-F]{8}-\d{8}-\d{4}", pos), pos
    screenshot(page, "confirm")
    confirm(page)
    assert receipt_fact(page, "赠品") == "品鉴酒 100ml ×1"
    assert receipt_fact(page, "赠送金变动") == "+¥100.00"
    assert receipt_fact(page, "交易后余额") == "¥1,100.00"
    assert receipt_fact(page, "POS 流水号") == pos
    top_up_id = receipt_fact(page, "账本记录号")
    screenshot(page, "receipt")
    page.get_by_role("button", name="完成").click()
    assert balance(page) == ("¥1,100.00", "¥1,000.00", "¥100.00")

    # Spend 388: principal and bonus drawn pro rata, the bonus part rounded up.
    page.get_by_role("button", name="消费").click()
    page.get_by_label("消费金额（元）").fill("388")
    page.get_by_role("button", name="下一步").click()
    confirm(page)
    assert receipt_fact(page, "本金变动") == "-¥352.72"
    assert receipt_fact(page, "赠送金变动") == "-¥35.28"
    spend_id = receipt_fact(page, "账本记录号")
    page.get_by_role("button", name="完成").click()
    assert balance(page) == ("¥712.00", "¥647.28", "¥64.72")

    # Refund 100 of that spend, in the spend's own split.
    page.get_by_role("button", name="退款").click()
    page.get_by_role("heading", name="可退款的消费").wait_for()
    screenshot(page, "refunds")
    page.locator("ul.spends li", has_text="¥388.00").get_by_role("button").click()
    assert page.get_by_label("退款金额（元）").input_value() == "388.00"
    page.get_by_label("退款金额（元）").fill("100")
    page.get_by_role("button", name="下一步").click()
    confirm(page)
    assert receipt_fact(page, "交易后余额") == "¥812.00"
    refund_id = receipt_fact(page, "账本记录号")
    page.get_by_role("button", name="完成").click()
    assert balance(page)[0] == "¥812.00"

    # The server's books say the same as the page.
    with clerk_api(server) as api:
        card = api.get(f"/v1/members/{world.member_id}").json()["balance"]
        report = api.get(f"/v1/stored-value/stores/{world.store_id}/z-report").json()
    assert (card["total_fen"], card["principal_fen"], card["bonus_fen"]) == (81_200, 73_819, 7_381)
    assert {top_up_id, spend_id, refund_id} <= set(report["journal_ids"])

    # The day's Z-report shows those operations, balanced.
    page.get_by_role("link", name="日结报表").click()
    page.locator("#z-operations").wait_for()
    rows = {
        r.locator("th").inner_text(): r.locator("td").first.inner_text()
        for r in page.locator("#z-operations tbody tr").all()
    }
    counts = {o["operation"]: str(o["count"]) for o in report["operations"]}
    names = {"top_up": "充值", "spend": "消费", "refund": "退款"}
    assert rows == {names[k]: v for k, v in counts.items()}
    assert all(int(rows[n]) >= 1 for n in names.values())
    assert "借贷平衡" in page.locator("#z-balanced").inner_text()
    clearing = page.locator("#z-clearing").inner_text()
    assert "微信支付" in clearing
    screenshot(page, "z-report")
    page.get_by_role("button", name="English").click()
    assert page.get_by_role("heading", name="Z-report").is_visible()
    assert "Debits equal credits" in page.locator("#z-balanced").inner_text()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.get_by_role("button", name="中文").click()


@pytest.mark.usefixtures("world")
def test_a_day_typed_while_the_z_report_loads_stays(page: Any, server: Server) -> None:
    # The Z-report draws its day field at once and itself again when the report arrives; a
    # day typed in between must stay, with the focus (it was wiped back to today).
    login(page, server)
    held = Held(page, "**/z-report?day=*")
    page.get_by_role("link", name="日结报表").click()
    day = page.get_by_label("营业日")
    day.fill("2026-01-05")
    held.release()
    page.locator("#z-balanced, #z-empty, #z-report .problem").first.wait_for()
    assert day.input_value() == "2026-01-05"
    assert page.evaluate("document.activeElement.id") == "z-day"


@pytest.mark.usefixtures("world")
def test_a_view_left_while_it_loads_does_not_draw_over_the_next(page: Any, server: Server) -> None:
    # The Z-report draws itself again when its report arrives; if the clerk has gone on to
    # the counter meanwhile, that must not draw the counter again over the number being typed.
    login(page, server)
    held = Held(page, "**/z-report?day=*")
    page.get_by_role("link", name="日结报表").click()
    page.get_by_role("heading", name="日结报表（Z 报表）").wait_for()
    page.get_by_role("link", name="会员", exact=True).click()
    phone = page.get_by_label("手机号")
    phone.fill(PHONE)
    with page.expect_request_finished(lambda r: "/z-report" in r.url):
        held.release()
    page.evaluate("() => new Promise((done) => setTimeout(done))")  # the page has taken it
    assert phone.input_value() == PHONE
    assert page.evaluate("document.activeElement.id") == "member-phone"


def test_spending_more_than_the_balance_is_refused_and_books_nothing(
    page: Any, server: Server, world: ClerkWorld
) -> None:
    login(page, server)
    find_by_phone(page)
    before = balance(page)
    with clerk_api(server) as api:
        books = api.get(f"/v1/stored-value/stores/{world.store_id}/z-report").json()
    page.get_by_role("button", name="消费").click()
    page.get_by_label("消费金额（元）").fill("abc")
    page.get_by_role("button", name="下一步").click()
    assert "请输入大于 0 的金额" in page.get_by_role("alert").inner_text()
    page.get_by_label("消费金额（元）").fill("99999")
    page.get_by_role("button", name="下一步").click()
    # The confirmation already says the balance will not cover it (not a void's words).
    facts = page.locator("#confirm-facts").inner_text()
    assert "余额不足" in facts and "撤销" not in facts, facts
    page.get_by_role("button", name="确认记账").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "余额不足" in alert.inner_text(), alert.inner_text()
    assert "99,999.00" in alert.inner_text()  # the server's own figures, below the plain words
    screenshot(page, "insufficient-balance")
    page.get_by_role("button", name="返回修改").click()
    page.get_by_role("button", name="取消").click()
    assert balance(page) == before
    with clerk_api(server) as api:
        after = api.get(f"/v1/stored-value/stores/{world.store_id}/z-report").json()
    assert after["journal_ids"] == books["journal_ids"]


def test_a_retry_after_a_dropped_answer_books_the_spend_once(
    page: Any, server: Server, world: ClerkWorld
) -> None:
    fund_card(server, world, "DROP-TOPUP", 5_000)
    login(page, server)
    find_by_phone(page)
    start = balance(page)[0]
    dropped: list[str] = []

    def drop_first_answer(route: Any) -> None:
        if dropped:
            route.continue_()
            return
        response = route.fetch()  # the server books the spend ...
        dropped.append(str(response.status))
        route.abort("connectionreset")  # ... and the answer never reaches the tablet

    page.route("**/v1/stored-value/spends", drop_first_answer)
    page.get_by_role("button", name="消费").click()
    page.get_by_label("消费金额（元）").fill("12.34")
    page.get_by_role("button", name="下一步").click()
    pos = page.get_by_label("POS 流水号").input_value()
    page.get_by_role("button", name="确认记账").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert dropped == ["201"]
    assert "不确定是否已记账" in alert.inner_text()
    assert page.get_by_role("button", name="返回修改").is_disabled()
    page.get_by_role("button", name="重试").click()
    page.get_by_role("heading", name="交易凭证").wait_for()
    assert "未重复记账" in page.locator("#receipt").inner_text()
    assert receipt_fact(page, "POS 流水号") == pos
    page.get_by_role("button", name="完成").click()
    with clerk_api(server) as api:
        lines = api.get(f"/v1/members/{world.member_id}/history").json()["lines"]
    assert [x["pos_txn"] for x in lines].count(pos) == 1
    cents = int(start.replace("¥", "").replace(",", "").replace(".", ""))
    assert balance(page)[0] == f"¥{(cents - 1234) // 100:,}.{(cents - 1234) % 100:02d}"


@contextmanager
def camera_page(driver: Any, text: str, tmp_path: Path) -> Iterator[Any]:
    """A page in a Chromium whose camera shows the QR of ``text``; no page errors allowed."""
    video = y4m_of(qr.png(text), tmp_path)
    fake_camera = [
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    chromium = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + fake_camera)
    try:
        page = chromium.new_context(viewport=PHONE_SIZE, locale="zh-CN").new_page()
        errors = _watch(page)
        yield page
        assert errors == []
    finally:
        chromium.close()


def test_member_found_by_scanning_their_qr_with_the_camera(
    server: Server, world: ClerkWorld, driver: Any, tmp_path: Path
) -> None:
    with camera_page(driver, member_qr(server, world), tmp_path) as page:
        login(page, server)
        screenshot(page, "find-member")
        page.get_by_role("button", name="扫描会员码").click()
        page.get_by_role("heading", name="会员卡").wait_for(timeout=15_000)
        assert world.member_id in page.locator("#member-card").inner_text()
        screenshot(page, "member-card")


@pytest.mark.usefixtures("world")
def test_a_phone_number_not_found_stays_to_be_corrected(page: Any, server: Server) -> None:
    # A mistyped number: the clerk corrects it where it is, not types it all again.
    login(page, server)
    phone = page.get_by_label("手机号")
    typo = PHONE[:-1] + ("0" if PHONE[-1] != "0" else "1")
    phone.fill(typo)
    page.get_by_role("button", name="按手机号查找").click()
    page.get_by_role("alert").wait_for()
    assert phone.input_value() == typo
    assert page.evaluate("document.activeElement.id") == "member-phone"
    assert page.evaluate("document.activeElement.selectionEnd") == len(typo)
    page.keyboard.type(PHONE)  # the selected number is typed over
    page.get_by_role("button", name="按手机号查找").click()
    page.get_by_role("heading", name="会员卡").wait_for()


@pytest.mark.usefixtures("world")
def test_switching_the_language_keeps_what_was_typed(page: Any, server: Server) -> None:
    page.goto(server.url(APP))
    page.get_by_label("用户名").fill(CLERK)
    page.locator("#lang").click()
    assert page.get_by_label("Username").input_value() == CLERK
    page.locator("#lang").click()
    page.get_by_label("密码").fill(CLERK_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("heading", name="查找会员").wait_for()
    page.get_by_label("手机号").fill(PHONE)
    page.locator("#lang").click()
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert page.locator("#member-phone").input_value() == PHONE
    page.locator("#lang").click()  # as it was, for the next test of this page


@pytest.mark.usefixtures("world")  # the clerk who logs in (it ran only after another test made it)
def test_a_forged_member_code_is_explained(page: Any, server: Server) -> None:
    login(page, server)
    page.get_by_label("或输入会员码：").fill("mq.not-a-real-code")
    page.get_by_role("button", name="查找", exact=True).click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "这不是有效的会员码" in alert.inner_text(), alert.inner_text()


def test_a_case_is_scanned_in_with_the_camera(
    server: Server, world: ClerkWorld, driver: Any, tmp_path: Path
) -> None:
    case = world.shipped[0]
    with camera_page(driver, world.links[case], tmp_path) as page:
        login(page, server)
        page.get_by_role("link", name="收货").click()
        page.get_by_role("button", name=f"开始收货 {world.shipment_id}").click()
        # A code half typed by hand stays in its field when the camera adds a case.
        page.get_by_label("或输入箱码：").fill("7K3M9Q")
        page.get_by_role("button", name="扫描一箱").click()
        page.locator("#scanned li").first.wait_for(timeout=15_000)
        assert page.locator("#scanned code").all_inner_texts() == [case]
        assert page.get_by_label("或输入箱码：").input_value() == "7K3M9Q"
        page.get_by_role("button", name="扫描一箱").click()  # the same case again
        page.locator("#recv-status", has_text="已经扫过").wait_for(timeout=15_000)
        assert page.locator("#recv-count").inner_text() == "已扫 1 箱 / 应到 3 箱"


def test_receiving_a_shipment_by_scanning_shows_the_discrepancies(
    page: Any, server: Server, world: ClerkWorld
) -> None:
    login(page, server)
    page.get_by_role("link", name="收货").click()
    page.get_by_role("button", name=f"开始收货 {world.shipment_id}").click()
    code = page.get_by_label("或输入箱码：")

    def scan(text: str) -> None:
        code.fill(text)
        code.press("Enter")

    arrived, lost = world.shipped[:2], world.shipped[2]
    scan(world.links[arrived[0]])  # the printed QR's text: a Digital Link URI
    scan(arrived[1])  # a bare serial, typed
    scan(arrived[1].lower())
    assert "已经扫过" in page.locator("#recv-status").inner_text()
    scan(world.elsewhere[0])  # a case on its way to the sister store
    scan(world.held[0])  # a case that never left HQ's warehouse
    scan("ZZZZZZZZZZZZZZZZ")  # not ours
    assert page.locator("#recv-count").inner_text() == "已扫 5 箱 / 应到 3 箱"
    page.get_by_role("button", name="完成收货").click()
    page.get_by_role("button", name="确认收货").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "不属于本品牌" in alert.inner_text() and "ZZZZZZZZZZZZZZZZ" in alert.inner_text()
    with clerk_api(server) as api:
        assert api.get(f"/v1/shipments/{world.shipment_id}").json()["state"] == "dispatched"
    page.get_by_role("button", name="移除 ZZZZZZZZZZZZZZZZ").click()
    assert page.locator("#recv-count").inner_text() == "已扫 4 箱 / 应到 3 箱"
    screenshot(page, "receiving")
    # The answer is lost on the way back: the page reads the shipment and shows what was recorded.
    page.route("**/receive", lambda route: (route.fetch(), route.abort("connectionreset")))
    page.get_by_role("button", name="完成收货").click()
    page.get_by_role("button", name="确认收货").click()
    page.get_by_role("heading", name="收货结果").wait_for()
    assert "已经收货" in page.locator("#recv-result").inner_text()
    assert page.locator("#recv-missing li").all_inner_texts() == [lost]
    assert page.locator("#recv-wrong li").all_inner_texts() == world.elsewhere
    assert page.locator("#recv-extra li").all_inner_texts() == [world.held[0]]
    assert page.locator("#recv-lines tbody td").all_inner_texts() == ["3", "2"]
    screenshot(page, "receiving-result")
    with clerk_api(server) as api:
        shipment = api.get(f"/v1/shipments/{world.shipment_id}").json()
    assert shipment["state"] == "received" and shipment["missing"] == [lost]


def test_a_double_click_on_confirm_books_once(page: Any, server: Server, world: ClerkWorld) -> None:
    fund_card(server, world, "DBL-TOPUP", 1_000)
    login(page, server)
    find_by_phone(page)
    page.get_by_role("button", name="消费").click()
    page.get_by_label("消费金额（元）").fill("1")
    page.get_by_role("button", name="下一步").click()
    pos = page.get_by_label("POS 流水号").input_value()
    page.get_by_role("button", name="确认记账").dblclick()
    page.get_by_role("heading", name="交易凭证").wait_for()
    with clerk_api(server) as api:
        lines = api.get(f"/v1/members/{world.member_id}/history").json()["lines"]
    assert [x["pos_txn"] for x in lines].count(pos) == 1
