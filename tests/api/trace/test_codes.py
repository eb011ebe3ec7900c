"""Products, blends, batches, codes: generation, export, commissioning, packing, custody."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ledger.gs1 import parse_digital_link
from tests.api.trace.conftest import GTIN, make_history, ok


def test_production_history_and_codes(admin: TestClient) -> None:
    h = make_history(admin)
    assert len(h.bottles) == 12 and len(h.cases) == 2
    for uri in h.bottles + h.cases:
        link = parse_digital_link(uri)
        assert [ai for ai, _ in link.path] == ["01", "10", "21"]
        assert link.get("01") == GTIN and link.get("10") == h.lot
        assert len(link.get("21") or "") == 16
    assert len(set(h.bottles)) == 12
    code = ok(admin.get(f"/v1/codes/{h.bottles[0]}"))
    assert code["state"] == "packed" and code["case"] == h.cases[0]
    blend = ok(admin.get(f"/v1/blends/{h.blend}"))
    assert [i["share_bp"] for i in blend["inputs"]] == [6000, 4000]
    assert blend["remaining_ml"] == 1_000_000 - 1200 * 500 or blend["remaining_ml"] == 400_000
    packed = ok(admin.get("/v1/codes", params={"lot": h.lot, "state": "packed", "limit": 100}))
    assert len(packed) == 14


def test_a_batch_of_true_codes_is_refused_and_none_is_made(admin: TestClient) -> None:
    h = make_history(admin, bottles=6)
    before = ok(admin.get("/v1/code-batches", params={"lot": h.lot}))
    for count in (True, "5", 5.0):
        r = admin.post("/v1/code-batches", json={"lot": h.lot, "count": count})
        assert r.status_code == 422, r.text
        assert "count" in r.json()["error"]["message"], r.text
    assert ok(admin.get("/v1/code-batches", params={"lot": h.lot})) == before
    ok(admin.post("/v1/code-batches", json={"lot": h.lot, "count": 5}), 201)


def test_more_codes_than_one_request_may_make_points_to_the_command(admin: TestClient) -> None:
    h = make_history(admin, bottles=6)
    before = ok(admin.get("/v1/code-batches", params={"lot": h.lot}))
    r = admin.post("/v1/code-batches", json={"lot": h.lot, "count": 100_001})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"] == (
        "count 100,001 is over the 100,000 codes one request may generate: send several "
        f"requests, or run `jiuyuan codes generate --lot {h.lot} --count 100001` (up to "
        "2,000,000 a batch)"
    )
    assert ok(admin.get("/v1/code-batches", params={"lot": h.lot})) == before
