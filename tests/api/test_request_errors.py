"""A request body wrong as a whole — absent, not JSON, sent as another type — is refused with
an error that says so, not with a field-by-field account that names no field."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.db import Database
from tests.api.conftest import make_key

USER = '{"username": "qa.officer", "role": "compliance_officer", "password": "long-enough-pw-1"}'


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code", "message"),
    [
        (USER, "text/plain", 415, "unsupported_media_type", "application/json, not text/plain"),
        (USER, None, 415, "unsupported_media_type", "not an untyped body"),
        ("", "application/json", 422, "body_required", "needs a JSON body"),
        ('{"username":', "application/json", 422, "invalid_json", "at character 12"),
        ('{"username": "qa.officer"}', "application/json", 422, "invalid", "role: Field required"),
    ],
)
def test_the_body_as_a_whole(
    client: TestClient,
    db: Database,
    body: str,
    content_type: str | None,
    status: int,
    code: str,
    message: str,
) -> None:
    client.headers["Authorization"] = f"Bearer {make_key(db, 'admin')}"
    headers = {"Content-Type": content_type} if content_type else {}
    before = client.get("/v1/users").json()
    r = client.post("/v1/users", content=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
    assert message in r.json()["error"]["message"]
    assert client.get("/v1/users").json() == before
