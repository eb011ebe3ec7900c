"""Text no column can hold (a lone surrogate, U+0000) and a key given twice are refused with a
422 naming them, before any handler runs, and nothing is written."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from api.body_guard import text_problem, unstorable
from api.db import Database
from tests.api.conftest import make_key

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "plain"}',
        rb'{"name": "\ud83c\udf76 \u9152"}',  # a pair (a sake bottle), then a BMP character
        rb'{"name": "\\ud800"}',  # an escaped backslash: the text \ud800, six characters
        rb'{"name": "\\u0000"}',
        rb'{"name": "\\\\ud800"}',
    ],
)
def test_text_that_can_be_stored_passes(body: bytes) -> None:
    assert text_problem(body) is None


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (rb'{"name": "\ud800"}', r"\ud800 at byte 10"),
        (rb'{"name": "\uDBFFx"}', r"\udbff at byte 10"),
        (rb'{"name": "a\udc00"}', r"\udc00 at byte 11"),
        (rb'{"a": "\ud800", "b": "\udc00"}', r"\ud800 at byte 7"),  # halves apart: no pair
        (rb'{"name": "\\\ud800"}', r"\ud800 at byte 12"),  # an escaped backslash, then a half
        (rb'{"name": "\ud800\\udc00"}', r"\ud800 at byte 10"),
        (rb'{"name": "a\u0000b"}', r"\u0000 (a NUL character) at byte 11"),
    ],
)
def test_a_lone_surrogate_or_a_nul_is_named_with_its_place(body: bytes, named: str) -> None:
    problem = text_problem(body)
    assert problem is not None and named in problem


def test_decoded_text_is_judged_the_same_way() -> None:
    assert unstorable("酒源 🍶") is None
    assert "NUL" in (unstorable("a\x00b") or "")
    assert "U+D800" in (unstorable("a\ud800") or "")


def test_the_api_refuses_it_and_writes_nothing(client: TestClient, db: Database) -> None:
    client.headers["Authorization"] = f"Bearer {make_key(db, 'admin')}"
    before = client.get("/v1/users").json()
    user = {"username": "qa.officer", "role": "compliance_officer", "password": "long-enough-pw-1"}
    clerk = {**user, "role": "store_clerk", "scope": "\ud800"}
    for bad in (clerk, {**user, "display_name": "a\x00b"}):
        # As JSON spells them (\ud800, \u0000): no encoder would send them as UTF-8.
        r = client.post("/v1/users", content=json.dumps(bad), headers=JSON)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["code"] == "invalid_text"
    assert client.get("/v1/users").json() == before
    # Nothing else about the request changed: the same body with real text is accepted.
    assert client.post("/v1/users", json={**user, "display_name": "李 🍶"}).status_code == 201


def test_a_key_given_twice_is_named_and_nothing_is_written(
    client: TestClient, db: Database
) -> None:
    client.headers["Authorization"] = f"Bearer {make_key(db, 'admin')}"
    before = client.get("/v1/users").json()
    body = (
        '{"username": "qa.twice", "role": "compliance_officer", "password": "long-enough-pw-1",'
        ' "display_name": "a", "display_name": "b"}'
    )
    r = client.post("/v1/users", content=body, headers=JSON)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == {
        "code": "duplicate_key",
        "message": "the key 'display_name' is given twice in one object of the body; give it once",
    }
    assert client.get("/v1/users").json() == before


@pytest.mark.parametrize(
    ("content_type", "status", "code"),
    [
        # Sent as text, a backslash is only a backslash: what is wrong is the type, and it is named.
        ("text/plain", 415, "unsupported_media_type"),
        # A media type is read whatever its case.
        ("APPLICATION/JSON; charset=UTF-8", 422, "invalid_text"),
    ],
)
def test_the_media_type_decides_whether_the_body_is_read_as_json(
    client: TestClient, db: Database, content_type: str, status: int, code: str
) -> None:
    client.headers["Authorization"] = f"Bearer {make_key(db, 'admin')}"
    r = client.post(
        "/v1/users", content=r'{"username": "a\ud800"}', headers={"Content-Type": content_type}
    )
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code
