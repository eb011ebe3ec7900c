"""The clerk app's other counter flows in Debian's Chromium: registering a member (named and
anonymous), the cash refund of the balance by the proportional rule, and the same-day void of
an unused top-up, each confirmed, sent once under its POS number, and receipted; refusals in
plain words (a phone already registered, the void of a top-up that was spent from)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.scanner_app.clerk_fixtures import ID_NUMBER, ClerkWorld, build_clerk_world
from tests.scanner_app.conftest import Server
from tests.scanner_app.test_clerk_app import (
    balance,
    clerk_api,
    confirm,
    login,
    receipt_fact,
    screenshot,
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server_database(request: pytest.FixtureRequest) -> str:
    """Registration, payouts and voids lock the card and replay by key: both backends."""
    return str(request.param)


@pytest.fixture(scope="module")
def world(server: Server) -> ClerkWorld:
    return build_clerk_world(server)


def new_member(api: httpx.Client, world: ClerkWorld, phone: str) -> str:
    """A named card registered through the API (the counter's own flow is tested below)."""
    response = api.post(
        "/v1/members",
        json={"store_id": world.store_id, "phone": phone, "name": "李四", "id_number": ID_NUMBER},
        headers={"Idempotency-Key": f"{world.store_id}:REG-{phone[-4:]}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["member_id"])


def operate(api: httpx.Client, world: ClerkWorld, path: str, key: str, body: dict[str, Any]) -> Any:
    response = api.post(
        f"/v1/stored-value/{path}",
        json={"store_id": world.store_id, **body},
        headers={"Idempotency-Key": f"{world.store_id}:{key}"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def find(page: Any, phone: str) -> None:
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="按手机号查找").click()
    page.get_by_role("heading", name="会员卡").wait_for()


def card_of(server: Server, member_id: str) -> tuple[int, int, int]:
    with clerk_api(server) as api:
        b = api.get(f"/v1/members/{member_id}").json()["balance"]
    return b["total_fen"], b["principal_fen"], b["bonus_fen"]


def test_register_a_named_member_then_an_anonymous_one(
    page: Any, server: Server, world: ClerkWorld
) -> None:
    keys: list[str] = []
    page.on(
        "request",
        lambda r: (
            keys.append(r.headers.get("idempotency-key", ""))
            if r.method == "POST" and r.url.endswith("/v1/members")
            else None
        ),
    )
    login(page, server)
    page.get_by_role("button", name="登记新会员").click()
    page.get_by_role("heading", name="登记新会员").wait_for()
    rules = page.locator("#register-rules").inner_text()
    assert "¥1,000.00" in rules and "¥5,000.00" in rules and "¥10,000.00" in rules, rules
    page.get_by_label("手机号").fill("139 0000 5678")
    page.get_by_label("姓名").fill("王五")
    page.get_by_role("button", name="下一步").click()
    assert "须同时填写" in page.get_by_role("alert").inner_text()  # nothing sent
    page.get_by_label("身份证号").fill(ID_NUMBER.lower())
    screenshot(page, "register")
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("heading", name="确认登记新会员").wait_for()
    facts = page.locator("#confirm-facts").inner_text()
    assert "13900005678" in facts and "110105********002X" in facts and "¥5,000.00" in facts
    assert ID_NUMBER not in facts
    pos = page.get_by_label("POS 流水号").input_value()
    screenshot(page, "register-confirm")
    confirm(page)
    assert page.get_by_role("heading", name="会员登记凭证").is_visible()
    assert receipt_fact(page, "手机号") == "139****5678"
    assert receipt_fact(page, "姓名") == "王*"
    assert receipt_fact(page, "实名") == "已实名"
    assert receipt_fact(page, "余额上限") == "¥5,000.00"
    assert receipt_fact(page, "POS 流水号") == pos
    member_id = receipt_fact(page, "会员号")
    screenshot(page, "register-receipt")
    assert keys == [f"{world.store_id}:{pos}"]
    # The server has the named card, found by its phone.
    with clerk_api(server) as api:
        found = api.post(
            "/v1/members/lookup", json={"store_id": world.store_id, "phone": "13900005678"}
        ).json()
    assert found["member_id"] == member_id and found["real_name"] is True
    page.get_by_role("button", name="打开会员卡").click()
    assert balance(page) == ("¥0.00", "¥0.00", "¥0.00")

    # The same phone again: refused in plain words, nothing registered.
    page.get_by_role("button", name="换一位会员").click()
    page.get_by_role("button", name="登记新会员").click()
    page.get_by_role("heading", name="登记新会员").wait_for()  # the rules are read first
    page.get_by_label("手机号").fill("13900005678")
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("button", name="确认记账").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "已有会员卡" in alert.inner_text() and member_id in alert.inner_text()

    # An anonymous card: no real name, the lower cap.
    page.get_by_role("button", name="返回修改").click()
    page.get_by_label("手机号").fill("13900005679")
    page.get_by_role("button", name="下一步").click()
    assert "未实名" in page.locator("#confirm-facts").inner_text()
    confirm(page)
    assert receipt_fact(page, "实名") == "未实名（不记名卡）"
    assert receipt_fact(page, "余额上限") == "¥1,000.00"
    assert len(set(keys)) == 3  # every confirmation its own POS number


def test_a_top_up_over_the_anonymous_cap_leads_to_the_real_name_form(
    page: Any, server: Server, world: ClerkWorld
) -> None:
    with clerk_api(server) as api:
        response = api.post(
            "/v1/members",
            json={"store_id": world.store_id, "phone": "13700003333"},
            headers={"Idempotency-Key": f"{world.store_id}:REG-ANON"},
        )
        assert response.status_code == 201, response.text
        member_id = response.json()["member_id"]
    login(page, server)
    find(page, "13700003333")
    page.get_by_role("button", name="充值").first.click()
    page.get_by_label("充值金额（元）").fill("1000")
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("button", name="确认记账").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "超过卡的上限" in alert.inner_text() and "1,000.00" in alert.inner_text()
    page.get_by_role("button", name="登记实名").click()
    page.get_by_role("heading", name="登记实名（改为记名卡）").wait_for()
    page.get_by_role("button", name="下一步").click()
    assert "须同时填写" in page.get_by_role("alert").inner_text()  # both are needed here
    page.get_by_label("姓名").fill("赵六")
    page.get_by_label("身份证号").fill(ID_NUMBER)
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("heading", name="确认登记实名").wait_for()
    facts = page.locator("#confirm-facts").inner_text()
    assert "¥1,000.00 → ¥5,000.00" in facts and "110105********002X" in facts, facts
    confirm(page)
    assert page.get_by_role("heading", name="实名登记凭证").is_visible()
    assert receipt_fact(page, "实名") == "已实名"
    assert receipt_fact(page, "余额上限") == "¥5,000.00"
    screenshot(page, "real-name-receipt")
    with clerk_api(server) as api:
        assert api.get(f"/v1/members/{member_id}").json()["real_name"] is True
    # Now the same top-up goes through, with the promotion's bonus.
    page.get_by_role("button", name="打开会员卡").click()
    assert page.get_by_role("button", name="登记实名").count() == 0
    page.get_by_role("button", name="充值").first.click()
    page.get_by_label("充值金额（元）").fill("1000")
    page.get_by_role("button", name="下一步").click()
    confirm(page)
    assert receipt_fact(page, "交易后余额") == "¥1,100.00"
    assert card_of(server, member_id) == (110_000, 100_000, 10_000)


def test_cash_refund_pays_the_unspent_principal_and_the_bonus_lapses(
    page: Any, server: Server, world: ClerkWorld
) -> None:
    with clerk_api(server) as api:
        member_id = new_member(api, world, "13700001111")
        operate(
            api,
            world,
            "top-ups",
            "CR-1",
            {
                "member_id": member_id,
                "paid_fen": 100_000,
                "payment_method": "wechat",
                "promotion_id": world.promotion,
            },
        )
        operate(api, world, "spends", "CR-2", {"member_id": member_id, "amount_fen": 38_800})
    assert card_of(server, member_id) == (71_200, 64_728, 6_472)
    login(page, server)
    find(page, "13700001111")
    page.get_by_role("button", name="退余额").click()
    page.get_by_role("heading", name="退余额（会员退卡）").wait_for()
    computation = page.locator("#cash-computation").inner_text()
    assert "¥712.00 × ¥647.28 ÷ (¥647.28 + ¥64.72) = ¥647.28" in computation, computation
    assert page.locator("#cash-payout").inner_text() == "¥647.28"
    assert page.locator("#cash-lapses").inner_text() == "¥64.72"
    assert page.get_by_label("退款方式").input_value() == "cash"
    screenshot(page, "cash-refund")
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("heading", name="确认退余额").wait_for()
    facts = page.locator("#confirm-facts").inner_text()
    assert "¥647.28" in facts and "¥64.72" in facts and "现金" in facts, facts
    confirm(page)
    assert receipt_fact(page, "金额") == "¥647.28"
    assert receipt_fact(page, "作废赠送金") == "¥64.72"
    assert receipt_fact(page, "本金变动") == "-¥647.28"
    assert receipt_fact(page, "赠送金变动") == "-¥64.72"
    assert receipt_fact(page, "交易后余额") == "¥0.00"
    journal_id = receipt_fact(page, "账本记录号")
    screenshot(page, "cash-refund-receipt")
    page.get_by_role("button", name="完成").click()
    assert balance(page) == ("¥0.00", "¥0.00", "¥0.00")
    assert card_of(server, member_id) == (0, 0, 0)
    with clerk_api(server) as api:
        booked = api.get(f"/v1/stored-value/operations/{journal_id}").json()
    assert booked["operation"] == "cash_refund" and booked["payment_method"] == "cash"
    # Nothing left: the form says so and offers no way on.
    page.get_by_role("button", name="退余额").click()
    page.get_by_role("heading", name="退余额（会员退卡）").wait_for()
    assert "没有可退的金额" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="下一步").count() == 0


def test_same_day_void_of_an_unused_top_up_and_the_refusal_of_a_used_one(
    page: Any, server: Server, world: ClerkWorld
) -> None:
    with clerk_api(server) as api:
        member_id = new_member(api, world, "13700002222")
        top = operate(
            api,
            world,
            "top-ups",
            "VD-1",
            {
                "member_id": member_id,
                "paid_fen": 100_000,
                "payment_method": "alipay",
                "promotion_id": world.promotion,
            },
        )
    login(page, server)
    find(page, "13700002222")
    page.get_by_role("button", name="当日撤销").click()
    page.get_by_role("heading", name="撤销当日充值").wait_for()
    screenshot(page, "void-list")
    page.locator("#top-ups li", has_text="¥1,000.00").get_by_role("button").click()
    page.get_by_role("heading", name="确认当日撤销").wait_for()
    facts = page.locator("#confirm-facts").inner_text()
    assert "支付宝" in facts and "¥100.00" in facts and "品鉴酒 100ml ×1" in facts, facts
    assert "¥1,100.00" in facts and "¥0.00" in facts  # balance now and after
    screenshot(page, "void-confirm")
    confirm(page)
    assert receipt_fact(page, "本金变动") == "-¥1,000.00"
    assert receipt_fact(page, "赠送金变动") == "-¥100.00"
    assert receipt_fact(page, "收回赠品") == "品鉴酒 100ml ×1"
    assert receipt_fact(page, "撤销的充值") == top["journal_id"]
    assert receipt_fact(page, "交易后余额") == "¥0.00"
    screenshot(page, "void-receipt")
    page.get_by_role("button", name="完成").click()
    assert card_of(server, member_id) == (0, 0, 0)
    # Voided, it is no longer offered.
    page.get_by_role("button", name="当日撤销").click()
    page.get_by_role("heading", name="撤销当日充值").wait_for()
    assert "没有可撤销的充值" in page.locator("main").inner_text()
    page.get_by_role("button", name="取消").click()

    # A top-up the card was spent from since: the server refuses, the page says why.
    with clerk_api(server) as api:
        used = operate(
            api,
            world,
            "top-ups",
            "VD-2",
            {"member_id": member_id, "paid_fen": 60_000, "payment_method": "cash"},
        )
        operate(api, world, "spends", "VD-3", {"member_id": member_id, "amount_fen": 5_000})
        books = api.get(f"/v1/stored-value/stores/{world.store_id}/z-report").json()
    before = card_of(server, member_id)
    page.get_by_role("button", name="换一位会员").click()
    find(page, "13700002222")
    page.get_by_role("button", name="当日撤销").click()
    line = page.locator("#top-ups li", has_text=used["pos_txn"])
    assert "已有消费" in line.inner_text()  # the history shows the spend since
    line.get_by_role("button").click()
    page.get_by_role("button", name="确认记账").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    words = alert.inner_text()
    assert "这笔充值不能撤销" in words and "退余额" in words, words
    assert "spent from or paid out since" in words  # the server's own reason below
    screenshot(page, "void-refused")
    page.get_by_role("button", name="返回修改").click()
    page.get_by_role("heading", name="撤销当日充值").wait_for()
    assert card_of(server, member_id) == before
    with clerk_api(server) as api:
        after = api.get(f"/v1/stored-value/stores/{world.store_id}/z-report").json()
    assert after["journal_ids"] == books["journal_ids"]
