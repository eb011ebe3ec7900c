"""The consumer scan page in Debian's Chromium: the page checks the proofs itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.scanner_app.conftest import Server

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# Screenshots of the main pages, kept as test artifacts (phone and desktop sizes).
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "scanner_app"


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)


def badge_text(page: Any) -> str:
    badge = page.locator("#badge")
    badge.locator(
        "xpath=self::*[contains(@class,'verified') or contains(@class,'failed') or "
        "contains(@class,'unavailable')]"
    ).wait_for(timeout=10_000)
    return str(badge.inner_text())


def test_genuine_bottle_is_verified_in_the_browser(page: Any, server: Server) -> None:
    response = page.goto(server.url(server.bottles[0]))
    assert response.status == 200
    assert page.locator("#verdict").inner_text() == "✔ 正品"
    text = badge_text(page)
    assert "已在您的浏览器中验证" in text, text
    assert "verified" in page.locator("#badge").get_attribute("class")
    # The facts are on the page: product, blend with its base liquors, journey, scans.
    assert page.locator("h1").inner_text() == "酒源·酱香典藏"
    assert page.locator("table tr").count() == 3  # header and two base liquors
    assert page.locator("#journey li").count() >= 1
    assert "扫码次数" in page.locator("main").inner_text()
    screenshot(page, "consumer-genuine")
    # The pinned verifier key is the server's published key.
    key = page.evaluate("localStorage.getItem('jy_verifier_key')")
    assert key == server.app.state.log.signer.verifier_key()
    # English on request, and the badge stays verified.
    page.get_by_role("button", name="English").click()
    assert page.locator("#verdict").inner_text() == "✔ Genuine"
    assert "Verified in your browser" in page.locator("#badge").inner_text()
    assert page.evaluate("document.documentElement.lang") == "en"


def _flip_first_proof_byte(body: dict[str, Any]) -> None:
    for entry in body["entries"]:
        if entry["status"] == "proven" and entry["proof"]:
            h = entry["proof"][0]
            entry["proof"][0] = f"{int(h[0], 16) ^ 1:x}" + h[1:]
            return
    raise AssertionError("no proof to tamper with")


def test_tampered_proof_fails_verification(page: Any, server: Server) -> None:
    marker = '<script type="application/json" id="lookup">'

    def tamper(route: Any) -> None:
        response = route.fetch()
        html = response.text()
        head, _, rest = html.partition(marker)
        data, _, tail = rest.partition("</script>")
        body = json.loads(data)
        _flip_first_proof_byte(body)
        tampered = json.dumps(body, ensure_ascii=False).replace("<", "\\u003c")
        route.fulfill(response=response, body=head + marker + tampered + "</script>" + tail)

    page.route("**" + server.bottles[1], tamper)
    page.goto(server.url(server.bottles[1]))
    text = badge_text(page)
    assert "验证失败" in text and "inclusion proof" in text, text
    assert "failed" in page.locator("#badge").get_attribute("class")
    screenshot(page, "consumer-tampered")


def test_changed_verifier_key_fails(page: Any, server: Server) -> None:
    # A key pinned earlier that differs from the one the server now signs with.
    page.goto(server.url("/healthz"))
    page.evaluate("localStorage.setItem('jy_verifier_key', 'other.example/log+00000000+AQ==')")
    page.goto(server.url(server.bottles[2]))
    assert "验证失败" in badge_text(page)


def test_a_key_that_cannot_be_fetched_is_not_a_failed_proof(page: Any, server: Server) -> None:
    # No network for the key: the page says it could not check, not that the bottle failed.
    page.route("**/v1/checkpoint/key", lambda route: route.abort())
    page.goto(server.url(server.bottles[4]))
    assert "暂时无法核对证明" in badge_text(page)
    assert "unavailable" in page.locator("#badge").get_attribute("class")
    assert page.locator("#verdict").inner_text() == "✔ 正品"


def test_a_lots_link_vouches_for_no_bottle(page: Any, server: Server) -> None:
    lot = server.bottles[5].split("/21/", 1)[0]
    response = page.goto(server.url(lot))
    assert response.status == 200
    assert page.locator("#verdict").inner_text() == "✘ 非单瓶编码，无法验证"
    assert "not one bottle" in page.locator("#reasons").inner_text()


def test_a_malformed_link_is_explained_with_a_way_to_scan_another(
    page: Any, server: Server
) -> None:
    gtin = server.bottles[6].split("/")[2]
    bad = f"/01/{gtin[:-1]}{(int(gtin[-1]) + 1) % 10}/10/L1/21/ABC"  # a wrong check digit
    response = page.goto(server.url(bad))
    assert response.status == 400
    assert page.locator("#verdict").inner_text() == "✘ 这不是有效的瓶身码链接"
    assert "check digit" in page.locator("#problem-detail").inner_text()
    assert page.get_by_role("button", name="查询").is_visible()


def test_unknown_code_is_not_ours(page: Any, server: Server) -> None:
    path = server.bottles[3].rsplit("/", 1)[0] + "/ZZZZZZZZZZZZZZZZ"
    response = page.goto(server.url(path))
    assert response.status == 404
    assert page.locator("#verdict").inner_text() == "✘ 非本品牌编码"
    assert "unknown" in page.locator("#verdict").get_attribute("class")
    screenshot(page, "consumer-unknown")


def test_a_redraw_keeps_what_the_user_is_typing(page: Any, server: Server) -> None:
    # The page draws itself again when the proofs are checked and when the language changes;
    # a link being typed then must stay (it once vanished when the check finished mid-typing).
    page.goto(server.url(server.bottles[3]))
    assert "已在您的浏览器中验证" in badge_text(page)
    link = f"https://{server.host}{server.bottles[4]}"
    page.get_by_label("或输入瓶身链接：").fill(link)
    page.locator("#lang").click()
    field = page.get_by_label("or enter the bottle link:")
    assert field.input_value() == link
    page.get_by_role("button", name="Look up").click()
    page.wait_for_url("**" + server.bottles[4])


def test_manual_entry_opens_the_code(page: Any, server: Server) -> None:
    page.goto(server.url(server.bottles[3]))
    page.get_by_label("或输入瓶身链接：").fill(f"https://{server.host}{server.bottles[4]}")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**" + server.bottles[4])
    assert "已在您的浏览器中验证" in badge_text(page)
