"""The HTTP API: clerks at their own counter, members with their own token, readers in scope."""

from __future__ import annotations

import time
from typing import Any

from fastapi.testclient import TestClient

from ledger.merkle import verify_inclusion
from tests.api.channel.world import World


def key(world: World, store: str, txn: str) -> dict[str, str]:
    return {"Idempotency-Key": f"{world.ids[store]}:{txn}"}


def post(world: World, who: str, path: str, body: dict[str, Any], idem: dict[str, str]):  # type: ignore[no-untyped-def]
    return world.client.post(path, json=body, headers={**world.headers(who), **idem})


def register(world: World, phone: str = "138 0013 8000", **extra: Any) -> dict[str, Any]:
    body = {"store_id": world.ids["S-A1"], "phone": phone, **extra}
    r = post(world, "clerk_a1", "/v1/members", body, key(world, "S-A1", f"REG-{phone[-4:]}"))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def as_member(client: TestClient, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_clerk_registers_tops_up_and_spends_and_retries_are_replayed(world: World) -> None:
    member = register(world)
    assert member["phone"] == "138****8000" and member["member_token"].startswith("mt.")
    m, store = member["member_id"], world.ids["S-A1"]
    body = {"store_id": store, "member_id": m, "paid_fen": 50_000, "payment_method": "wechat"}
    first = post(world, "clerk_a1", "/v1/stored-value/top-ups", body, key(world, "S-A1", "POS1-1"))
    again = post(world, "clerk_a1", "/v1/stored-value/top-ups", body, key(world, "S-A1", "POS1-1"))
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    other = post(
        world,
        "clerk_a1",
        "/v1/stored-value/top-ups",
        {**body, "paid_fen": 1},
        key(world, "S-A1", "POS1-1"),
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    sale = post(
        world,
        "clerk_a1",
        "/v1/stored-value/spends",
        {"store_id": store, "member_id": m, "amount_fen": 12_345},
        key(world, "S-A1", "POS1-2"),
    )
    assert sale.status_code == 201 and sale.json()["balance"]["total_fen"] == 37_655
    # Registration is replayed too, token included.
    again_reg = post(
        world,
        "clerk_a1",
        "/v1/members",
        {"store_id": store, "phone": "138 0013 8000"},
        key(world, "S-A1", "REG-8000"),
    )
    assert again_reg.json() == member


def test_idempotency_key_must_name_the_store_and_a_pos_number(world: World) -> None:
    store = world.ids["S-A1"]
    body = {"store_id": store, "phone": "13900139000"}
    for headers in ({}, {"Idempotency-Key": "no-store-part"}, key(world, "S-A2", "POS-1")):
        r = post(world, "clerk_a1", "/v1/members", body, headers)
        assert r.status_code == 422 and r.json()["error"]["code"] == "bad_idempotency_key", r.text
    r = post(
        world, "clerk_a1", "/v1/members", {**body, "phone": "12345678901"}, key(world, "S-A1", "R")
    )
    assert r.status_code == 422 and "mobile number" in r.json()["error"]["message"]


def test_clerks_act_only_for_their_own_store(world: World) -> None:
    m = register(world)["member_id"]
    store_a1 = world.ids["S-A1"]
    spend = {"store_id": store_a1, "member_id": m, "amount_fen": 1}
    r = post(world, "clerk_b1", "/v1/stored-value/spends", spend, key(world, "S-A1", "X-1"))
    assert r.status_code == 403
    own = {"store_id": world.ids["S-B1"], "member_id": m, "amount_fen": 1}
    r = post(world, "clerk_b1", "/v1/stored-value/spends", own, key(world, "S-B1", "X-2"))
    assert r.status_code == 404  # not a member of any programme S-B1 accepts
    for who in ("staff_a", "rm_sc", "hq", "compliance", "device_a", "writer"):
        r = post(world, who, "/v1/stored-value/spends", spend, key(world, "S-A1", f"X-{who}"))
        assert r.status_code == 403, (who, r.text)
    r = world.client.post("/v1/stored-value/spends", json=spend, headers=key(world, "S-A1", "X-3"))
    assert r.status_code == 401
    # Reading the member: clerks of stores that accept the card, and the dealer's chain above.
    for who, status in [
        ("clerk_a1", 200),
        ("staff_a", 200),
        ("rm_sc", 200),
        ("hq", 200),
        ("compliance", 200),
        ("clerk_b1", 404),
        ("staff_b", 404),
        ("rm_gd", 404),
        ("device_a", 404),
        ("writer", 404),
    ]:
        assert world.get(who, f"/v1/members/{m}").status_code == status, who
        assert world.get(who, f"/v1/members/{m}/history").status_code == status, who


def test_member_token_qr_code_and_lookup(world: World) -> None:
    member = register(world)
    token, m = member["member_token"], member["member_id"]
    me = world.client.get("/v1/members/me", headers=as_member(world.client, token))
    assert me.status_code == 200 and me.json()["member_id"] == m
    qr = world.client.get("/v1/members/me/qr", headers=as_member(world.client, token)).json()
    found = post(
        world, "clerk_a1", "/v1/members/lookup", {"store_id": world.ids["S-A1"], "qr": qr["qr"]}, {}
    )
    assert found.status_code == 200 and found.json()["member_id"] == m
    by_phone = post(
        world,
        "clerk_a1",
        "/v1/members/lookup",
        {"store_id": world.ids["S-A1"], "phone": "+86 138-0013-8000"},
        {},
    )
    assert by_phone.json()["member_id"] == m
    elsewhere = post(
        world, "clerk_b1", "/v1/members/lookup", {"store_id": world.ids["S-B1"], "qr": qr["qr"]}, {}
    )
    assert elsewhere.status_code == 404
    forged = qr["qr"][:-2] + ("AA" if not qr["qr"].endswith("AA") else "BB")
    r = post(
        world, "clerk_a1", "/v1/members/lookup", {"store_id": world.ids["S-A1"], "qr": forged}, {}
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "qr_invalid"
    # A new token replaces the old one.
    new = post(
        world,
        "clerk_a1",
        f"/v1/members/{m}/token",
        {"store_id": world.ids["S-A1"]},
        key(world, "S-A1", "TOK-1"),
    )
    assert new.status_code == 201
    old = world.client.get("/v1/members/me", headers=as_member(world.client, token))
    assert old.status_code == 401
    fresh = world.client.get(
        "/v1/members/me", headers=as_member(world.client, new.json()["member_token"])
    )
    assert fresh.status_code == 200
    assert world.client.get("/v1/members/me").status_code == 401


def test_history_names_ledger_entries_with_inclusion_proofs(world: World) -> None:
    member = register(world)
    m, store = member["member_id"], world.ids["S-A1"]
    top = post(
        world,
        "clerk_a1",
        "/v1/stored-value/top-ups",
        {"store_id": store, "member_id": m, "paid_fen": 20_000, "payment_method": "cash"},
        key(world, "S-A1", "H-1"),
    ).json()
    headers = as_member(world.client, member["member_token"])
    deadline = time.monotonic() + 20
    while True:
        lines = world.client.get("/v1/members/me/history", headers=headers).json()["lines"]
        if lines[0]["ledger_seq"] is not None:
            break
        assert time.monotonic() < deadline, "the log worker never sequenced the entry"
        time.sleep(0.05)
    assert lines[0]["journal_id"] == top["journal_id"]
    seq = lines[0]["ledger_seq"]
    while True:
        entry = world.client.get(f"/v1/entries/{seq}?proof=true").json()
        if "proof" in entry["inclusion"]:
            break
        assert time.monotonic() < deadline, "no checkpoint covered the entry"
        time.sleep(0.1)
    proof = entry["inclusion"]
    verify_inclusion(
        bytes.fromhex(entry["leaf_hash"]),
        seq,
        proof["tree_size"],
        [bytes.fromhex(h) for h in proof["proof"]],
        bytes.fromhex(proof["root_hash"]),
    )
    assert entry["id"] == top["journal_id"] and entry["kind"] == "stored_value.top_up"
    assert entry["payload"]["postings"] == [
        {"account": p["account"], "fen": p["amount_fen"]} for p in top["postings"]
    ]


def test_reports_in_scope(world: World) -> None:
    member = register(world)
    m, store = member["member_id"], world.ids["S-A1"]
    post(
        world,
        "clerk_a1",
        "/v1/stored-value/top-ups",
        {"store_id": store, "member_id": m, "paid_fen": 30_000, "payment_method": "alipay"},
        key(world, "S-A1", "Z-1"),
    )
    z = world.get("clerk_a1", f"/v1/stored-value/stores/{store}/z-report")
    assert z.status_code == 200, z.text
    body = z.json()
    assert body["balanced"] and body["debit_fen"] == body["credit_fen"] == 30_000
    assert body["clearing_net_fen"] == {"alipay": 30_000}
    for who, status in [("staff_a", 200), ("hq", 200), ("clerk_b1", 404), ("staff_b", 404)]:
        assert world.get(who, f"/v1/stored-value/stores/{store}/z-report").status_code == status
    owed = world.get("staff_a", "/v1/stored-value/outstanding").json()["issuers"]
    assert [(o["issuer_id"], o["total_fen"], o["custody_fen"]) for o in owed] == [
        (store, 30_000, 12_000)
    ]
    assert world.get("staff_b", "/v1/stored-value/outstanding").json()["issuers"] == []
    r = world.get("staff_b", f"/v1/stored-value/outstanding?issuer_id={store}")
    assert r.status_code == 404
    assert world.get("hq", "/v1/stored-value/rules").json()["anonymous_cap_fen"] == 100_000


def test_openapi_documents_the_operations_with_idempotency_keys_and_examples(
    client: TestClient,
) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/v1/stored-value/top-ups", "/v1/stored-value/spends", "/v1/members"):
        post_op = schema["paths"][path]["post"]
        headers = [p for p in post_op["parameters"] if p["in"] == "header"]
        assert [h["name"] for h in headers] == ["Idempotency-Key"]
        assert "409" in post_op["responses"]
    top_up = schema["components"]["schemas"]["TopUpIn"]["properties"]
    assert top_up["paid_fen"]["examples"] == [100_000]


def test_a_promotion_window_with_no_place_in_utc_is_refused(world: World) -> None:
    offer = {
        "owner_id": world.ids["D-A"],
        "name": "开业充值送",
        "min_paid_fen": 50_000,
        "bonus_fen": 5_000,
    }
    for window in (
        {"starts_at": "0001-01-01T00:00:00+01:00"},
        {"ends_at": "9999-12-31T23:59:59-01:00"},
    ):
        refused = world.post("staff_a", "/v1/stored-value/promotions", {**offer, **window})
        assert refused.status_code == 422, refused.text
        assert "outside the calendar once in UTC" in refused.text
    listed = world.get("staff_a", f"/v1/stored-value/promotions?owner_id={world.ids['D-A']}")
    assert all(p["name"] != "开业充值送" for p in listed.json())


def test_promotions_refunds_and_voids_over_http(world: World) -> None:
    store, dealer = world.ids["S-A1"], world.ids["D-A"]
    offer = {
        "owner_id": dealer,
        "name": "充500送50加品鉴酒",
        "min_paid_fen": 50_000,
        "bonus_fen": 5_000,
        "gift": {"sku": "TASTING-100ML", "name": "品鉴酒 100ml", "qty": 1, "cost_fen": 3_500},
    }
    assert world.post("clerk_a1", "/v1/stored-value/promotions", offer).status_code == 403
    assert world.post("staff_b", "/v1/stored-value/promotions", offer).status_code == 404
    created = world.post("staff_a", "/v1/stored-value/promotions", offer)
    assert created.status_code == 201, created.text
    promo = created.json()["promotion_id"]
    listed = world.get("clerk_a1", f"/v1/stored-value/promotions?owner_id={store}").json()
    assert [p["promotion_id"] for p in listed] == [promo]
    m = register(world, name="张三", id_number="11010519491231002X")["member_id"]
    top = post(
        world,
        "clerk_a1",
        "/v1/stored-value/top-ups",
        {
            "store_id": store,
            "member_id": m,
            "paid_fen": 50_000,
            "payment_method": "cash",
            "promotion_id": promo,
        },
        key(world, "S-A1", "P-1"),
    ).json()
    assert top["balance"]["total_fen"] == 55_000 and top["gift"]["sku"] == "TASTING-100ML"
    undo = post(
        world,
        "clerk_a1",
        "/v1/stored-value/voids",
        {"store_id": store, "top_up_id": top["journal_id"]},
        key(world, "S-A1", "P-2"),
    )
    assert undo.status_code == 201 and undo.json()["balance"]["total_fen"] == 0
    again = post(
        world,
        "clerk_a1",
        "/v1/stored-value/top-ups",
        {"store_id": store, "member_id": m, "paid_fen": 20_000, "payment_method": "wechat"},
        key(world, "S-A1", "P-3"),
    ).json()
    sale = post(
        world,
        "clerk_a1",
        "/v1/stored-value/spends",
        {"store_id": store, "member_id": m, "amount_fen": 8_800},
        key(world, "S-A1", "P-4"),
    ).json()
    back = {"store_id": store, "spend_id": sale["journal_id"], "amount_fen": 8_801}
    too_much = post(world, "clerk_a1", "/v1/stored-value/refunds", back, key(world, "S-A1", "P-5"))
    assert too_much.status_code == 409
    assert too_much.json()["error"]["code"] == "refund_exceeds_spend"
    ok = post(
        world,
        "clerk_a1",
        "/v1/stored-value/refunds",
        {**back, "amount_fen": 8_800},
        key(world, "S-A1", "P-5"),
    )
    assert ok.status_code == 201 and ok.json()["balance"]["total_fen"] == 20_000
    assert again["balance"]["total_fen"] == 20_000
    ended = world.post("staff_a", f"/v1/stored-value/promotions/{promo}/end")
    assert ended.status_code == 200 and ended.json()["retired_at"] is not None
    late = post(
        world,
        "clerk_a1",
        "/v1/stored-value/top-ups",
        {
            "store_id": store,
            "member_id": m,
            "paid_fen": 50_000,
            "payment_method": "cash",
            "promotion_id": promo,
        },
        key(world, "S-A1", "P-6"),
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "promotion_not_applicable"
    one = world.get("staff_a", f"/v1/stored-value/operations/{sale['journal_id']}")
    assert one.status_code == 200 and one.json()["operation"] == "spend"
    assert (
        world.get("clerk_b1", f"/v1/stored-value/operations/{sale['journal_id']}").status_code
        == 404
    )
