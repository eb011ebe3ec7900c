"""Logging in, bearer tokens, device keys, and who may create which accounts."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from api.auth.service import Role
from api.auth.tokens import load_or_create_secret
from api.auth.users import create_user
from tests.api.channel.world import PASSWORD, World
from tests.cli import invoke


def login(client: TestClient, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/v1/auth/token",
        data={"grant_type": "password", "username": username, "password": password},
    )


def test_password_login_gives_a_working_bearer_token(world: World) -> None:
    with world.db.writer.begin() as conn:
        create_user(conn, "zhang.wei", "dealer_staff", PASSWORD, scope=world.ids["D-A"])
    r = login(world.client, "zhang.wei", PASSWORD)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer" and body["role"] == "dealer_staff"
    assert body["scope"] == world.ids["D-A"] and body["expires_in"] == 3600
    me = world.client.get(
        "/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json() == {
        "id": me.json()["id"],
        "kind": "user",
        "role": "dealer_staff",
        "scope": world.ids["D-A"],
    }


def test_wrong_password_and_unknown_user_look_the_same(world: World) -> None:
    with world.db.writer.begin() as conn:
        create_user(conn, "li.na", "compliance_officer", PASSWORD)
    wrong = login(world.client, "li.na", "not the password")
    unknown = login(world.client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "unauthorized"


def test_expired_forged_and_garbage_tokens_are_refused(world: World) -> None:
    secret = load_or_create_secret(world.settings.resolved_token_secret_file)
    user_id = world.add_user("someone", Role.HQ_ADMIN, None)
    now = datetime.now(UTC)
    claims = {
        "iss": "jiuyuan",
        "aud": "jiuyuan-api",
        "sub": user_id,
        "role": "hq_admin",
        "scope": None,
        "iat": now - timedelta(hours=2),
        "exp": now - timedelta(hours=1),
    }
    expired = jwt.encode(claims, secret, algorithm="HS256")
    forged = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, b"x" * 32, algorithm="HS256")
    none_alg = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, None, algorithm="none")
    for token, words in [
        (expired, "expired"),
        (forged, "invalid bearer token"),
        (none_alg, "invalid bearer token"),
        ("eyJ.garbage", "invalid bearer token"),
    ]:
        r = world.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
        assert words in r.json()["error"]["message"]
    assert world.client.get("/v1/auth/me").status_code == 401


def test_a_role_change_or_disabling_revokes_existing_tokens(world: World) -> None:
    assert world.get("staff_a", "/v1/auth/me").status_code == 200
    with world.db.writer.begin() as conn:
        conn.exec_driver_sql(
            "UPDATE users SET role = 'store_clerk', scope = %s WHERE role = 'dealer_staff'"
            if conn.dialect.name != "sqlite"
            else "UPDATE users SET role = 'store_clerk', scope = ? WHERE role = 'dealer_staff'",
            (world.ids["S-A1"],),
        )
    r = world.get("staff_a", "/v1/auth/me")
    assert r.status_code == 401 and "log in again" in r.json()["error"]["message"]
    with world.db.writer.begin() as conn:
        conn.exec_driver_sql("UPDATE users SET disabled_at = created_at")
    assert world.get("hq", "/v1/auth/me").status_code == 401


def test_device_keys_carry_their_warehouse(world: World) -> None:
    me = world.get("device_central", "/v1/auth/me").json()
    assert me == {
        "id": me["id"],
        "kind": "api_key",
        "role": "device",
        "scope": world.ids["WH-CENTRAL"],
    }
    assert world.get("writer", "/v1/auth/me").json()["scope"] is None


def test_account_creation_is_delegated_down_the_channel(world: World) -> None:
    def create(who: str, role: str, scope: str | None, name: str) -> int:
        body = {"username": name, "role": role, "scope": scope, "password": PASSWORD}
        return int(world.post(who, "/v1/users", body).status_code)

    assert create("hq", "region_manager", world.ids["R-GZ"], "rm-gz") == 201
    assert create("rm_sc", "dealer_staff", world.ids["D-A"], "a-2") == 201
    assert create("rm_sc", "dealer_staff", world.ids["D-B"], "b-2") == 403
    assert create("rm_sc", "region_manager", world.ids["R-SC"], "rm-2") == 403
    assert create("staff_a", "store_clerk", world.ids["S-A2"], "a2-clerk") == 201
    assert create("staff_a", "store_clerk", world.ids["S-B1"], "b1-clerk") == 403
    assert create("clerk_a1", "store_clerk", world.ids["S-A1"], "a1-2") == 403
    assert create("compliance", "hq_admin", None, "hq-2") == 403
    assert create("hq", "dealer_staff", world.ids["S-A1"], "wrong-kind") == 422
    assert create("hq", "dealer_staff", None, "no-scope") == 422
    assert create("hq", "device", world.ids["WH-CD"], "machine") == 422
    assert create("hq", "store_clerk", world.ids["S-A1"], "rm-gz") == 409
    assert create("hq", "store_clerk", world.ids["S-A1"], "BAD NAME") == 422
    listed = world.get("staff_a", "/v1/users").json()
    assert {u["scope"] for u in listed} == {world.ids["D-A"]}
    assert len(world.get("compliance", "/v1/users").json()) >= 10


def test_cli_creates_users_and_device_keys(world: World, cli_env: dict[str, str]) -> None:
    jiuyuan = ".venv/bin/jiuyuan"
    scope = ["--scope", world.ids["S-A1"]]
    made = subprocess.run(
        [
            jiuyuan,
            "users",
            "create",
            "wang.fang",
            "--role",
            "store_clerk",
            *scope,
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        env=cli_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip().startswith("usr_")
    token = login(world.client, "wang.fang", PASSWORD).json()["access_token"]
    me = world.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["role"] == "store_clerk" and me["scope"] == world.ids["S-A1"]

    # The rest in this process (the console script's start is tested above).
    key = invoke(cli_env, "keys", "api-key", "--role", "device", "--scope", world.ids["WH-CD"])
    assert key.exit_code == 0, key.output
    me = world.client.get(
        "/v1/auth/me", headers={"Authorization": f"Bearer {key.stdout.strip()}"}
    ).json()
    assert me["role"] == "device" and me["scope"] == world.ids["WH-CD"]

    bad = invoke(cli_env, "keys", "api-key", "--role", "device", "--scope", world.ids["D-A"])
    assert bad.exit_code == 2 and "is not a warehouse" in bad.stderr


def test_the_store_clerk_dependency_admits_that_stores_clerks_and_hq(world: World) -> None:
    from fastapi import Depends

    from api.auth.dependencies import store_clerk_of
    from api.auth.service import Principal

    def ping(store_id: str, who: Principal = Depends(store_clerk_of)) -> dict[str, str | None]:
        return {"store": store_id, "scope": who.scope}

    world.client.app.add_api_route("/test-only/stores/{store_id}/ping", ping)  # type: ignore[attr-defined]
    a1, b1 = world.ids["S-A1"], world.ids["S-B1"]
    path = "/test-only/stores/{}/ping"
    assert world.get("clerk_a1", path.format(a1)).json() == {"store": a1, "scope": a1}
    assert world.get("clerk_a1", path.format(b1)).status_code == 403
    assert world.get("hq", path.format(b1)).status_code == 200
    assert world.get("staff_a", path.format(a1)).status_code == 403
    assert world.get("compliance", path.format(a1)).status_code == 403
    assert world.client.get(path.format(a1)).status_code == 401
