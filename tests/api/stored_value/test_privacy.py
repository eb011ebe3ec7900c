"""Personal data: encrypted at rest, only salted commitments in the ledger, gone on erasure."""

from __future__ import annotations

import hashlib
import json
import stat
import subprocess
import sys
from typing import Any

from sqlalchemy import inspect, text

from api.db import Database
from tests.api.channel.world import World
from tests.api.stored_value.test_api import as_member, key, post

PHONE, NAME, ID_NUMBER = "13812345678", "欧阳娜娜", "11010519491231002X"


def everything_stored(db: Database) -> str:
    """Every value of every table, as text (bytes decoded leniently), to search for leaks."""
    parts: list[str] = []
    with db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        parts.append(bytes(value).decode("utf-8", "replace"))
                        parts.append(bytes(value).hex())
                    else:
                        parts.append(str(value))
    return "\n".join(parts)


def settle(world: World) -> None:
    """Sequence whatever is staged and publish a checkpoint."""
    log = world.client.app.state.log  # type: ignore[attr-defined]
    log.relay()
    log.checkpoint_now()


def registered(world: World) -> dict[str, Any]:
    body = {"store_id": world.ids["S-A1"], "phone": PHONE, "name": NAME, "id_number": ID_NUMBER}
    r = post(world, "clerk_a1", "/v1/members", body, key(world, "S-A1", "REG-1"))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_personal_data_is_encrypted_at_rest_and_the_ledger_holds_only_commitments(
    world: World,
) -> None:
    member = registered(world)
    settle(world)
    stored = everything_stored(world.db)
    for secret in (
        PHONE,
        NAME,
        ID_NUMBER,
        PHONE.encode().hex(),
        hashlib.sha256(PHONE.encode()).hexdigest(),
    ):
        assert secret not in stored
    key_file = world.settings.resolved_member_key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # The member opens their commitments with the salt, using nothing but hashlib.
    proof = world.client.get(
        "/v1/members/me/identity-proof", headers=as_member(world.client, member["member_token"])
    ).json()
    with world.db.engine.connect() as conn:
        (data,) = conn.execute(
            text("SELECT data FROM ledger_entries WHERE entry_id = :e"),
            {"e": proof["ledger_entry_ids"][0]},
        ).one()
    entry = json.loads(bytes(data))
    assert entry["kind"] == "member.registered"
    salt = bytes.fromhex(proof["salt"])
    for opening in proof["openings"]:
        digest = hashlib.sha256(
            b"jiuyuan/member-commitment/v1\x00"
            + opening["field"].encode()
            + b"\x00"
            + salt
            + opening["value"].encode()
        ).hexdigest()
        assert entry["payload"]["commitments"][opening["field"]] == digest
    assert {o["field"]: o["value"] for o in proof["openings"]} == {
        "phone": PHONE,
        "name": NAME,
        "id_number": ID_NUMBER,
    }


def test_erasure_removes_personal_data_everywhere_and_the_log_still_verifies(
    world: World, cli_env: dict[str, str]
) -> None:
    member = registered(world)
    m, store = member["member_id"], world.ids["S-A1"]
    token = as_member(world.client, member["member_token"])
    post(
        world,
        "clerk_a1",
        "/v1/stored-value/top-ups",
        {"store_id": store, "member_id": m, "paid_fen": 8_000, "payment_method": "cash"},
        key(world, "S-A1", "E-1"),
    )
    salt = bytes.fromhex(
        world.client.get("/v1/members/me/identity-proof", headers=token).json()["salt"]
    )
    refused = world.client.post("/v1/members/me/erasure", headers=token)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "balance_not_zero"
    post(
        world,
        "clerk_a1",
        "/v1/stored-value/cash-refunds",
        {"store_id": store, "member_id": m},
        key(world, "S-A1", "E-2"),
    )
    erased = world.client.post("/v1/members/me/erasure", headers=token)
    assert erased.status_code == 200, erased.text
    settle(world)

    # Gone from every read path.
    assert world.client.get("/v1/members/me", headers=token).status_code == 410
    assert world.get("clerk_a1", f"/v1/members/{m}").status_code == 410
    assert world.get("clerk_a1", f"/v1/members/{m}/history").status_code == 410
    lookup = {"store_id": store, "phone": PHONE}
    assert post(world, "clerk_a1", "/v1/members/lookup", lookup, {}).status_code == 404
    replay = post(
        world,
        "clerk_a1",
        "/v1/members",
        {"store_id": store, "phone": PHONE, "name": NAME, "id_number": ID_NUMBER},
        key(world, "S-A1", "REG-1"),
    )
    assert replay.status_code == 410 and replay.json()["error"]["code"] == "member_erased"
    again = post(
        world,
        "clerk_a1",
        f"/v1/members/{m}/erasure",
        {"store_id": store},
        key(world, "S-A1", "E-3"),
    )
    assert again.status_code == 200 and again.json() == erased.json()
    stored = everything_stored(world.db)
    for secret in (PHONE, NAME, ID_NUMBER, salt.hex(), "138****5678"):
        assert secret not in stored
    with world.db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM member_personal_data")).scalar_one() == 0
    # The books keep the amounts; the Z-report still balances.
    z = world.get("clerk_a1", f"/v1/stored-value/stores/{store}/z-report").json()
    assert z["balanced"] and z["clearing_net_fen"] == {"cash": 0}

    # The chain is untouched: the whole log verifies.
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "verify"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK:")
