"""The consumer page's storage chart in Debian's Chromium, drawn from real sensor readings:
each leg's min, max and mean as the readings give them, the excursion flagged, at phone and
desktop size."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import make_key
from tests.scanner_app.conftest import Server
from tests.scanner_app.storage_fixtures import StoredBottle, make_stored_bottle
from tests.scanner_app.test_consumer_page import DESKTOP, PHONE, badge_text, screenshot


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server_database(request: pytest.FixtureRequest) -> str:
    """Hourly summaries and excursions are SQL aggregates: checked on both backends."""
    return str(request.param)


@pytest.fixture(scope="module")
def stored(server: Server) -> StoredBottle:
    app: Any = server.app
    key = make_key(app.state.db, "admin")
    with httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {key}"}) as api:
        bottle = make_stored_bottle(api)
    app.state.log.relay()
    app.state.log.checkpoint_now()
    return bottle


def _box(locator: Any) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"], box["x"] + box["width"]


def test_storage_chart_shows_the_readings_and_flags_the_excursion(
    page: Any, server: Server, stored: StoredBottle
) -> None:
    # The server's own answer first: the legs it reports are the readings' figures.
    api = httpx.get(server.url(stored.path), headers={"Accept": "application/json"}).json()
    reported = {leg["zone"]: leg for leg in api["storage"]}
    for leg in stored.legs:
        temp = reported[leg.zone]["temperature_c"]
        assert (temp["min"], temp["max"], temp["mean"]) == (leg.min, leg.max, leg.mean)
        assert reported[leg.zone]["readings"] == leg.readings
        assert len(reported[leg.zone]["excursions"]) == leg.excursions

    page.goto(server.url(stored.path))
    assert "已在您的浏览器中验证" in badge_text(page)  # the sealed hours are proven too
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        chart = page.locator("#storage-chart")
        assert chart.get_attribute("role") == "img"
        assert chart.is_visible()
        bars = {}
        for leg in stored.legs:
            g = chart.locator(f"g.leg[data-zone='{leg.zone}']")
            figures = [g.get_attribute(f"data-{k}") for k in ("min", "max", "mean", "excursions")]
            assert figures == [leg.min, leg.max, leg.mean, str(leg.excursions)]
            title = g.locator("title").text_content()
            assert f"{leg.region}: {leg.min}–{leg.max} °C, 平均 {leg.mean} °C" in title
            assert ("1 次超限" in title) == bool(leg.excursions)
            flagged = "excursion" in (g.get_attribute("class") or "")
            assert flagged == bool(leg.excursions)
            assert g.locator("rect.range").get_attribute("fill") == (
                "#b35c00" if leg.excursions else "#8c5a3c"
            )
            # Drawn where the figures say: the mean tick inside the min–max bar.
            left, right = _box(g.locator("rect.range"))
            tick, _ = _box(g.locator("line.mean"))
            assert left <= tick <= right
            bars[leg.zone] = (left, right)
            # The same numbers in the table under the chart.
            row = page.locator(f"#storage-table tr[data-zone='{leg.zone}']").inner_text()
            for figure in (leg.min, leg.max, leg.mean, str(leg.readings)):
                assert figure in row
        # One scale for all legs: Guiyang's 15–17 °C lies left of Chengdu's 18–27 °C.
        guiyang, chengdu = (bars[leg.zone] for leg in stored.legs)
        assert guiyang[1] < chengdu[0] and chengdu[1] - chengdu[0] > guiyang[1] - guiyang[0]
    page.set_viewport_size(PHONE)
    # The excursion in words: metric, direction, limit and peak.
    text = page.locator("main").inner_text()
    assert "⚠ 四川 成都" in text and "温度 高于 25.00 (峰值 27.00)" in text
    assert "⚠ 贵州 贵阳" not in text
    screenshot(page, "consumer-storage")
    page.get_by_role("button", name="English").click()
    assert "temperature above 25.00 (peak 27.00)" in page.locator("main").inner_text()
    assert "mean 19.25 °C · ⚠ 1 excursion" in page.locator("#storage-chart").text_content()
