"""Custody rules: unpack / re-pack, label replacement with its cap, under-cap codes, states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.api.trace.conftest import make_history, ok
from tests.api.trace.test_resolver import lookup, settle, verify_everything


def test_unpack_repack_and_replace(admin: TestClient) -> None:
    h = make_history(admin)
    # A full case refuses more bottles; bottles in a case refuse a second case.
    full = admin.post(
        "/v1/codes/pack", json={"cases": [{"case": h.cases[0], "bottles": h.bottles[6:7]}]}
    )
    assert full.status_code == 409
    ok(admin.post("/v1/codes/unpack", json={"case": h.cases[1], "bottles": h.bottles[6:8]}))
    assert ok(admin.get(f"/v1/codes/{h.bottles[6]}"))["state"] == "commissioned"
    # Generate spare labels; replace a damaged one inside case 0.
    spare = ok(admin.post("/v1/code-batches", json={"lot": h.lot, "count": 5}), 201)
    spares = admin.get(f"/v1/code-batches/{spare['batch_id']}/export").text.split()
    for i in range(3):
        ok(
            admin.post(
                "/v1/codes/replace",
                json={"old": h.bottles[i], "new": spares[i], "reason": "label torn"},
            )
        )
    new = ok(admin.get(f"/v1/codes/{spares[0]}"))
    assert new["state"] == "packed" and new["case"] == h.cases[0]
    assert ok(admin.get(f"/v1/codes/{h.bottles[0]}"))["state"] == "decommissioned"
    limit = admin.post(
        "/v1/codes/replace", json={"old": h.bottles[3], "new": spares[3], "reason": "label torn"}
    )
    assert limit.status_code == 409 and "most allowed" in limit.json()["error"]["message"]
    settle(admin)
    old = lookup(admin, h.bottles[0])
    assert old.status_code == 410 and "replaced" in old.json()["verdict"]["reasons"][0]
    body = ok(lookup(admin, spares[0]))
    # The new label inherits the bottle's history: commissioned and packed under the old code.
    assert [s["event"] for s in body["custody"]] == ["commissioned", "packed", "replaced"]
    verify_everything(body)


def test_states_and_under_cap_codes(admin: TestClient) -> None:
    h = make_history(admin, bottles=6)
    shipped = admin.post("/v1/codes/custody", json={"event": "received", "codes": [h.cases[0]]})
    assert (
        shipped.status_code == 409 and "needs one of shipped" in shipped.json()["error"]["message"]
    )
    batches = ok(admin.get("/v1/code-batches", params={"lot": h.lot}))
    bottle_batch = next(b for b in batches if b["kind"] == "bottle")["batch_id"]
    caps = admin.post(f"/v1/code-batches/{bottle_batch}/caps")
    assert caps.status_code == 200
    rows = [line.split(",") for line in caps.text.splitlines()[1:]]
    assert len(rows) == 6 and all(len(r[2]) == 19 for r in rows)
    again = admin.post(f"/v1/code-batches/{bottle_batch}/caps")
    assert again.status_code == 409
    uri, _, cap = rows[0]
    early = admin.post("/v1/codes/redeem", json={"code": uri, "cap_code": cap})
    assert early.status_code == 409 and "store has received" in early.json()["error"]["message"]
    for event, extra in (
        ("shipped", {"region": "四川 成都"}),
        ("received", {"holder_kind": "store", "region": "四川 成都"}),
    ):
        ok(admin.post("/v1/codes/custody", json={"event": event, "codes": [h.cases[0]], **extra}))
    wrong = admin.post("/v1/codes/redeem", json={"code": uri, "cap_code": "0000-0000-0000-0000"})
    assert wrong.status_code == 403
    ok(admin.post("/v1/codes/redeem", json={"code": uri, "cap_code": cap.lower()}))
    twice = admin.post("/v1/codes/redeem", json={"code": uri, "cap_code": cap})
    assert twice.status_code == 409
    settle(admin)
    body = ok(lookup(admin, uri))
    assert [s["event"] for s in body["custody"]][-3:] == ["shipped", "received", "redeemed"]
    assert body["custody"][-2]["region"] == "四川 成都"


def test_bad_code_input(admin: TestClient) -> None:
    h = make_history(admin, bottles=6)
    bad = admin.get("/v1/codes/https://x.example/01/06901234567891/10/L/21/A")
    assert bad.status_code == 422 and "check digit" in bad.json()["error"]["message"]
    unknown = admin.get("/v1/codes/ZZZZZZZZZZZZZZZZ")
    assert unknown.status_code == 404
    nolot = admin.post("/v1/code-batches", json={"lot": "NOPE", "count": 5})
    assert nolot.status_code == 404
    zero = admin.post("/v1/code-batches", json={"lot": h.lot, "count": 0})
    assert zero.status_code == 422
    mixed = admin.post(
        "/v1/codes/pack", json={"cases": [{"case": h.bottles[0], "bottles": h.bottles[1:2]}]}
    )
    assert mixed.status_code == 422 and "bottle code" in mixed.json()["error"]["message"]
    anonymous = admin.post(
        "/v1/code-batches", json={"lot": h.lot, "count": 5}, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401


def test_event_times_must_have_happened_and_exist_in_utc(admin: TestClient) -> None:
    h = make_history(admin, lot="LTIMES1")
    before = ok(admin.get(f"/v1/codes/{h.cases[0]}"))
    ahead = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for at, words in (
        ("0001-01-01T00:00:00+01:00", "outside the calendar"),
        (ahead, "in the future"),
    ):
        stored = {"event": "stored", "codes": [h.cases[0]], "location": "GY-WH-A", "at": at}
        refused = admin.post("/v1/codes/custody", json=stored)
        assert refused.status_code == 422, refused.text
        assert words in refused.text
        packing = {"cases": [{"case": h.cases[0], "bottles": h.bottles[6:7]}], "at": at}
        packed = admin.post("/v1/codes/pack", json=packing)
        assert packed.status_code == 422 and words in packed.text, packed.text
    assert ok(admin.get(f"/v1/codes/{h.cases[0]}")) == before
    assert ok(admin.get(f"/v1/codes/{h.bottles[6]}"))["state"] == "packed"
