"""Dates on production records: nothing distilled, stored or blended tomorrow, no bottling
before the blend exists, and batches planned at most half a year ahead."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient

from api.trace.batches.service import PLANNING_HORIZON
from api.trace.common import today
from tests.api.trace.conftest import GTIN, make_history, ok


def _base_liquor(lot: str, **fields: object) -> dict[str, object]:
    return {
        "lot": lot,
        "tank": "T-9",
        "distillery": "仁怀一号酒厂",
        "vintage": 2020,
        "grade": "优级",
        "abv_permille": 535,
        "volume_ml": 2_000_000,
        **fields,
    }


def _refused(response: object, code: str, mentions: str) -> None:
    body = ok(response, 422)
    assert body["error"]["code"] == code
    assert mentions in body["error"]["message"]


def test_a_lot_is_not_distilled_or_laid_down_in_the_future(admin: TestClient) -> None:
    next_year = today().year + 1
    _refused(
        admin.post("/v1/base-liquors", json=_base_liquor("FUT-1", vintage=next_year)),
        "date_in_future",
        f"vintage {next_year}",
    )
    tomorrow = today() + timedelta(days=1)
    _refused(
        admin.post(
            "/v1/base-liquors",
            json=_base_liquor("FUT-2", stored_since=tomorrow.isoformat()),
        ),
        "date_in_future",
        f"stored_since {tomorrow}",
    )
    for lot in ("FUT-1", "FUT-2"):
        assert admin.get(f"/v1/base-liquors/{lot}").status_code == 404
    this_year = today().year
    ok(
        admin.post(
            "/v1/base-liquors",
            json=_base_liquor("NOW-1", vintage=this_year, stored_since=today().isoformat()),
        ),
        201,
    )


def test_a_blend_is_recorded_once_made_and_draws_nothing_when_refused(admin: TestClient) -> None:
    ok(admin.post("/v1/base-liquors", json=_base_liquor("FUT-3")), 201)
    tomorrow = today() + timedelta(days=1)
    blend = {
        "blend_no": "BD-FUT-1",
        "blender": "王建国",
        "blended_on": tomorrow.isoformat(),
        "abv_permille": 530,
        "inputs": [{"lot": "FUT-3", "volume_ml": 500_000}],
    }
    _refused(admin.post("/v1/blends", json=blend), "date_in_future", f"blended_on {tomorrow}")
    assert admin.get("/v1/blends/BD-FUT-1").status_code == 404
    assert ok(admin.get("/v1/base-liquors/FUT-3"))["remaining_ml"] == 2_000_000
    ok(admin.post("/v1/blends", json={**blend, "blended_on": today().isoformat()}), 201)


def test_a_batch_is_bottled_after_its_blend_and_planned_within_the_horizon(
    admin: TestClient,
) -> None:
    h = make_history(admin, lot="LDATES1")  # its blend was made on 2026-10-08
    remaining = ok(admin.get(f"/v1/blends/{h.blend}"))["remaining_ml"]
    batch = {"gtin": GTIN, "blend_no": h.blend, "line": "灌装线 3", "planned_qty": 10}
    _refused(
        admin.post("/v1/batches", json={**batch, "lot": "LDATES2", "bottled_on": "2026-10-07"}),
        "invalid",
        "before blend",
    )
    latest = today() + PLANNING_HORIZON
    too_late = (latest + timedelta(days=1)).isoformat()
    _refused(
        admin.post("/v1/batches", json={**batch, "lot": "LDATES3", "bottled_on": too_late}),
        "date_in_future",
        f"latest {latest}",
    )
    for lot in ("LDATES2", "LDATES3"):
        assert admin.get(f"/v1/batches/{lot}").status_code == 404
    assert ok(admin.get(f"/v1/blends/{h.blend}"))["remaining_ml"] == remaining
    planned = ok(
        admin.post(
            "/v1/batches", json={**batch, "lot": "LDATES4", "bottled_on": latest.isoformat()}
        ),
        201,
    )
    assert date.fromisoformat(planned["bottled_on"]) == latest


def test_codes_are_not_commissioned_before_their_lot_was_bottled(admin: TestClient) -> None:
    h = make_history(admin, lot="LDATES5")  # bottled on 2026-11-25
    batch = ok(admin.post("/v1/code-batches", json={"lot": h.lot, "count": 2}), 201)
    commission = {"lot": h.lot, "code_batch": batch["batch_id"], "location": "GY-LINE-3"}
    for at in ("1970-01-01T00:00:00Z", "2026-11-24T23:59:00+08:00", "2026-11-24T15:59:00Z"):
        _refused(
            admin.post("/v1/codes/commission", json={**commission, "at": at}),
            "before_bottling",
            f"before lot {h.lot} was bottled (2026-11-25, Asia/Shanghai)",
        )
    assert ok(admin.get("/v1/codes", params={"lot": h.lot, "state": "generated"})) != []
    done = ok(admin.post("/v1/codes/commission", json={**commission, "at": "2026-11-24T16:00:00Z"}))
    assert done["codes"] == 2
