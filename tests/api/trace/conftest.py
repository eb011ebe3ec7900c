"""Fixtures for traceability: an admin client and a small production history."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.db import Database
from tests.api.conftest import make_key

GTIN = "06901234567892"


@pytest.fixture
def admin(client: TestClient, db: Database) -> TestClient:
    client.headers["Authorization"] = f"Bearer {make_key(db, 'admin')}"
    return client


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


@dataclass
class History:
    gtin: str
    lot: str
    blend: str
    bottles: list[str]
    cases: list[str]


def make_history(
    api: TestClient, *, lot: str = "L20261125A", bottles: int = 12, at: str | None = None
) -> History:
    """A product, two base-liquor lots, a blend, a batch, commissioned bottles packed in cases."""
    if api.get(f"/v1/products/{GTIN}").status_code == 404:
        ok(
            api.post(
                "/v1/products",
                json={
                    "gtin": "6901234567892",
                    "name_zh": "酒源·酱香典藏",
                    "name_en": "Jiuyuan Reserve",
                    "volume_ml": 500,
                    "abv_permille": 530,
                    "aroma": "jiang",
                    "case_size": 6,
                },
            ),
            201,
        )
    blend = f"BD-{lot}"
    for base, vintage in ((f"B1-{lot}", 2019), (f"B2-{lot}", 2021)):
        ok(
            api.post(
                "/v1/base-liquors",
                json={
                    "lot": base,
                    "tank": "T-1",
                    "distillery": "仁怀一号酒厂",
                    "vintage": vintage,
                    "grade": "优级",
                    "abv_permille": 535,
                    "volume_ml": 5_000_000,
                },
            ),
            201,
        )
    ok(
        api.post(
            "/v1/blends",
            json={
                "blend_no": blend,
                "blender": "王建国",
                "blended_on": "2026-10-08",
                "abv_permille": 530,
                "inputs": [
                    {"lot": f"B1-{lot}", "volume_ml": 600_000},
                    {"lot": f"B2-{lot}", "volume_ml": 400_000},
                ],
            },
        ),
        201,
    )
    ok(
        api.post(
            "/v1/batches",
            json={
                "lot": lot,
                "gtin": GTIN,
                "blend_no": blend,
                "line": "灌装线 3",
                "bottled_on": "2026-11-25",
                "planned_qty": 1200,
            },
        ),
        201,
    )
    bottle_batch = ok(api.post("/v1/code-batches", json={"lot": lot, "count": bottles}), 201)
    case_batch = ok(
        api.post("/v1/code-batches", json={"lot": lot, "count": bottles // 6, "kind": "case"}),
        201,
    )
    ok(
        api.post(
            "/v1/codes/commission",
            json={
                "lot": lot,
                "code_batch": bottle_batch["batch_id"],
                "location": "GY-LINE-3",
                "region": "贵州 遵义",
                "at": at,
            },
        )
    )
    uris = api.get(f"/v1/code-batches/{bottle_batch['batch_id']}/export").text.split()
    cases = api.get(f"/v1/code-batches/{case_batch['batch_id']}/export").text.split()
    body = {
        "cases": [{"case": c, "bottles": uris[i * 6 : i * 6 + 6]} for i, c in enumerate(cases)],
        "at": at,
    }
    ok(api.post("/v1/codes/pack", json=body))
    return History(GTIN, lot, blend, uris, cases)
