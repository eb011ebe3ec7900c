"""A small channel for tests: two regions' worth of parties, one account per role.

Parties are made through the real services; accounts get a real Argon2id hash (computed once
per test session, it is slow by design) and real bearer tokens from the app's token issuer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

import pytest
from fastapi.testclient import TestClient

from api.auth import repository as auth_repo
from api.auth.passwords import hash_password
from api.auth.service import Principal, Role, create_api_key
from api.auth.tokens import issuer_for
from api.channel import service
from api.channel.schemas import DealerIn, Location, RegionIn, StoreIn, WarehouseIn
from api.config import Settings
from api.db import Database

PASSWORD = "correct horse battery"
ROOT = Principal("test-root", Role.ADMIN)


@cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def loc(admin_code: str, lat: float, lon: float, address: str = "测试地址") -> Location:
    return Location(
        admin_code=admin_code, address=address, lat_e6=round(lat * 1e6), lon_e6=round(lon * 1e6)
    )


@dataclass
class World:
    client: TestClient
    db: Database
    settings: Settings
    ids: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str, path: str, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers=self.headers(who), **kw)  # type: ignore[arg-type]

    def post(self, who: str, path: str, json: object = None, **kw: object):  # type: ignore[no-untyped-def]
        return self.client.post(path, headers=self.headers(who), json=json, **kw)  # type: ignore[arg-type]

    def patch(self, who: str, path: str, json: object = None):  # type: ignore[no-untyped-def]
        return self.client.patch(path, headers=self.headers(who), json=json)

    def delete(self, who: str, path: str):  # type: ignore[no-untyped-def]
        return self.client.delete(path, headers=self.headers(who))

    def put(self, who: str, path: str, json: object = None):  # type: ignore[no-untyped-def]
        return self.client.put(path, headers=self.headers(who), json=json)

    def add_user(self, label: str, role: Role, scope: str | None) -> str:
        user_id = f"usr_{secrets.token_hex(10)}"
        with self.db.writer.begin() as conn:
            auth_repo.insert_user(
                conn,
                user_id=user_id,
                username=f"{label}-{secrets.token_hex(3)}".lower().replace("_", "-"),
                password_hash=password_hash(),
                role=role.value,
                scope=scope,
                display_name=label,
                created_at=datetime.now(UTC),
            )
        issuer = issuer_for(
            self.settings.resolved_token_secret_file, self.settings.token_lifetime_s
        )
        self.tokens[label] = issuer.issue(user_id, role.value, scope)
        return user_id


def build_world(client: TestClient, db: Database, settings: Settings) -> World:
    w = World(client, db, settings)
    with db.writer.begin() as conn:
        w.ids["hq"] = service.ensure_hq(conn).party_id
        for code, name, areas in [
            ("R-SC", "四川大区", ["510000"]),
            ("R-GZ", "贵州大区", ["520000"]),
            ("R-GD", "广东大区", ["440000"]),
            ("R-SZ", "深圳大区", ["440300"]),
        ]:
            w.ids[code] = service.create_region(
                conn, RegionIn(code=code, name=name, admin_codes=areas)
            ).id
        for code, kind, at in [
            ("WH-CENTRAL", "central", loc("520100", 26.647, 106.630)),  # 贵阳
            ("WH-CD", "regional", loc("510100", 30.573, 104.067)),  # 成都
            ("WH-GZ", "regional", loc("440100", 23.129, 113.264)),  # 广州
        ]:
            w.ids[code] = service.create_warehouse(
                conn, ROOT, WarehouseIn(code=code, name=code, kind=kind, location=at)
            ).id
        for code, region, at in [
            ("D-A", "R-SC", loc("510104", 30.657, 104.081)),
            ("D-B", "R-GD", loc("440106", 23.125, 113.361)),
        ]:
            body = DealerIn(
                code=code,
                name=f"dealer {code}",
                region_id=w.ids[region],
                tier="gold",
                credit_limit_fen=100_000_000,
                location=at,
            )
            dealer = service.create_dealer(conn, ROOT, body).id
            w.ids[code] = dealer
            w.ids[f"WH-{code}"] = service.create_warehouse(
                conn,
                ROOT,
                WarehouseIn(
                    code=f"WH-{code}",
                    name=f"{code} 仓",
                    kind="dealer",
                    dealer_id=dealer,
                    location=at,
                ),
            ).id
        for code, dealer, at in [
            ("S-A1", "D-A", loc("510105", 30.667, 104.043)),
            ("S-A2", "D-A", loc("510107", 30.642, 104.043)),
            ("S-B1", "D-B", loc("440104", 23.129, 113.264)),
        ]:
            w.ids[code] = service.create_store(
                conn, ROOT, w.ids[dealer], StoreIn(code=code, name=f"store {code}", location=at)
            ).id
    w.add_user("hq", Role.HQ_ADMIN, None)
    w.add_user("compliance", Role.COMPLIANCE_OFFICER, None)
    w.add_user("rm_sc", Role.REGION_MANAGER, w.ids["R-SC"])
    w.add_user("rm_gd", Role.REGION_MANAGER, w.ids["R-GD"])
    w.add_user("staff_a", Role.DEALER_STAFF, w.ids["D-A"])
    w.add_user("staff_b", Role.DEALER_STAFF, w.ids["D-B"])
    w.add_user("clerk_a1", Role.STORE_CLERK, w.ids["S-A1"])
    w.add_user("clerk_b1", Role.STORE_CLERK, w.ids["S-B1"])
    with db.writer.begin() as conn:
        w.tokens["device_central"] = create_api_key(
            conn, "device", "scanner 1", w.ids["WH-CENTRAL"]
        )
        w.tokens["device_a"] = create_api_key(conn, "device", "scanner A", w.ids["WH-D-A"])
        w.tokens["writer"] = create_api_key(conn, "writer", "writer")
    return w


@pytest.fixture
def world(client: TestClient, db: Database, settings: Settings) -> World:
    return build_world(client, db, settings)
