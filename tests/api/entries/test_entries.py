"""Appending and reading entries over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from ledger.checkpoint import verify_checkpoint
from ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from ledger.note import NoteSigner, NoteVerifier


def entry(kind: str = "production.batch", **payload: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "kind": kind, "payload": payload or {"lot": "L1", "n": 1}}


def wait_for_checkpoint(client: TestClient, size: int, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get("/v1/checkpoint")
        if r.status_code == 200 and int(r.text.split("\n")[1]) >= size:
            return r.text
        time.sleep(0.05)
    raise AssertionError(f"no checkpoint of size {size} within {timeout}s")


def test_append_one_returns_seq_and_hashes(writer: TestClient) -> None:
    r = writer.post("/v1/entries", json=entry(lot="L20261125A", bottles=1200))
    assert r.status_code == 201, r.text
    [out] = r.json()["entries"]
    assert out["seq"] == 0
    stored = writer.get("/v1/entries/0").json()
    data = base64.b64decode(stored["data"])
    assert leaf_hash(data).hex() == out["leaf_hash"] == stored["leaf_hash"]
    assert json.loads(data)["payload"] == {"lot": "L20261125A", "bottles": 1200}
    assert json.loads(data)["seq"] == 0


def test_append_list_is_dense_and_ordered(writer: TestClient) -> None:
    r = writer.post("/v1/entries", json=[entry(n=i) for i in range(25)])
    assert r.status_code == 201
    assert [e["seq"] for e in r.json()["entries"]] == list(range(25))


def test_resubmission_returns_original_seq(writer: TestClient) -> None:
    e = entry()
    first = writer.post("/v1/entries", json=e).json()["entries"][0]
    writer.post("/v1/entries", json=entry())
    again = writer.post("/v1/entries", json=e)
    assert again.status_code == 200
    assert again.json()["entries"][0] == {**first, "duplicate": True}
    assert writer.get("/v1/entries/2").status_code == 404


def test_same_id_different_body_is_409_and_writes_nothing(writer: TestClient) -> None:
    e = entry()
    writer.post("/v1/entries", json=e)
    changed = {**e, "payload": {"lot": "L2"}}
    r = writer.post("/v1/entries", json=[entry(), changed])
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "entry_id_conflict"
    assert e["id"] in r.json()["error"]["message"]
    assert writer.get("/v1/entries/1").status_code == 404


def test_one_id_for_two_different_entries_of_a_request_is_named_and_writes_nothing(
    writer: TestClient,
) -> None:
    e = entry()
    r = writer.post("/v1/entries", json=[e, entry(), {**e, "payload": {"lot": "L2"}}])
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"] == (
        f"entry 2: id {e['id']} is also entry 0's in this request, with different contents; "
        "give each entry its own id"
    )
    assert writer.get("/v1/entries/0").status_code == 404


@pytest.mark.parametrize(
    ("body", "content_type", "status", "needle"),
    [
        (b'{"id": "x", ', "application/json", 422, "line 1"),
        (b'{"id":"%s","kind":"a","payload":{"price":1.5}}', "application/json", 422, "float"),
        (b'{"id":"%s","kind":"a","payload":{"n":1e3}}', "application/json", 422, "float"),
        (b'{"id":"%s","kind":"a","payload":{},"extra":1}', "application/json", 422, "unknown"),
        (b'{"id":"not-a-uuid","kind":"a","payload":{}}', "application/json", 422, "id"),
        (b'{"id":"%s","kind":"Bad Kind","payload":{}}', "application/json", 422, "kind"),
        (b'{"id":"%s","kind":"a","payload":[1]}', "application/json", 422, "payload"),
        (b'{"id":"%s","kind":"a","payload":{"a":1,"a":2}}', "application/json", 422, "duplicate"),
        (b'{"id":"%s","kind":"a","payload":{"n":9007199254740993}}', "application/json", 422, ""),
        (b'{"id":"%s","kind":"a","payload":{}}', "text/plain", 415, "application/json"),
        (b"[]", "application/json", 422, "empty"),
        (b'"just a string"', "application/json", 422, "entry object"),
        (b"\xff\xfe", "application/json", 422, ""),
    ],
)
def test_bad_input_is_4xx_with_message(
    writer: TestClient, body: bytes, content_type: str, status: int, needle: str
) -> None:
    if b"%s" in body:
        body = body % str(uuid.uuid4()).encode()
    r = writer.post("/v1/entries", content=body, headers={"Content-Type": content_type})
    assert r.status_code == status, r.text
    message = r.json()["error"]["message"]
    assert needle.lower() in message.lower()
    assert writer.get("/v1/entries/0").status_code == 404


def test_oversize_entry_and_request(writer: TestClient) -> None:
    big = entry(blob="x" * 70_000)
    r = writer.post("/v1/entries", json=big)
    assert r.status_code == 413
    assert "65536" in r.json()["error"]["message"]
    r = writer.post("/v1/entries", json=[entry() for _ in range(1001)])
    assert r.status_code == 413
    assert "1000" in r.json()["error"]["message"]


def test_writes_need_a_writer_key(client: TestClient) -> None:
    r = client.post("/v1/entries", json=entry())
    assert r.status_code == 401
    r = client.post("/v1/entries", json=entry(), headers={"Authorization": "Bearer jy_x_y"})
    assert r.status_code == 401
    r = client.post("/v1/entries", json=entry(), headers={"X-API-Key": "nonsense"})
    assert r.status_code == 401


def test_unknown_seq_is_404(client: TestClient) -> None:
    r = client.get("/v1/entries/5")
    assert r.status_code == 404
    assert "no entry with seq 5" in r.json()["error"]["message"]
    assert client.get("/v1/entries/abc").status_code == 422


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/entries/{2**63}",
        f"/v1/entries/{2**80}?proof=true",
        f"/v1/proofs/inclusion?seq={2**63}&size=1",
        f"/v1/proofs/consistency?first=1&second={2**64}",
        f"/v1/checkpoints?size={2**63}",
        f"/v1/entries/{2**63}/anchor",
        f"/v1/entries/{2**74}/receipt",
        f"/v1/anchors?before={2**63}",
    ],
)
def test_numbers_beyond_the_database_are_refused_by_name(client: TestClient, path: str) -> None:
    # Used to reach the driver and fail there (500): SQLite's and PostgreSQL's integers end at
    # 2**63 - 1.
    r = client.get(path)
    assert r.status_code == 422, r.text
    assert str(2**63 - 1) in r.text


def test_proofs_verify_against_signed_checkpoint(writer: TestClient, signer: NoteSigner) -> None:
    writer.post("/v1/entries", json=[entry(n=i) for i in range(13)])
    note = wait_for_checkpoint(writer, 13)
    verifier = NoteVerifier.from_verifier_key(writer.get("/v1/checkpoint/key").text.strip())
    assert verifier.key_hash == NoteVerifier.from_verifier_key(signer.verifier_key()).key_hash
    cp = verify_checkpoint(note, verifier, "test.jiuyuan.local/log")
    for seq in (0, 6, 12):
        got = writer.get(f"/v1/entries/{seq}", params={"proof": "true"}).json()
        inc = got["inclusion"]
        assert inc["checkpoint"] == note and inc["tree_size"] == 13
        verify_inclusion(
            bytes.fromhex(got["leaf_hash"]),
            seq,
            inc["tree_size"],
            [bytes.fromhex(h) for h in inc["proof"]],
            cp.root_hash,
        )
    first = writer.get("/v1/checkpoint").text
    writer.post("/v1/entries", json=[entry(n=i) for i in range(7)])
    second = wait_for_checkpoint(writer, 20)
    cp1 = verify_checkpoint(first, verifier)
    cp2 = verify_checkpoint(second, verifier)
    proof = writer.get(
        "/v1/proofs/consistency", params={"first": cp1.size, "second": cp2.size}
    ).json()["proof"]
    verify_consistency(
        cp1.size, cp2.size, [bytes.fromhex(h) for h in proof], cp1.root_hash, cp2.root_hash
    )
    assert writer.get("/v1/checkpoints", params={"size": cp1.size}).text == first


def test_proof_requests_out_of_range_are_4xx(writer: TestClient) -> None:
    writer.post("/v1/entries", json=[entry(n=i) for i in range(3)])
    wait_for_checkpoint(writer, 3)
    assert writer.get("/v1/proofs/inclusion", params={"seq": 3, "size": 3}).status_code == 422
    assert writer.get("/v1/proofs/inclusion", params={"seq": 0, "size": 99}).status_code == 422
    assert writer.get("/v1/proofs/consistency", params={"first": 3, "second": 2}).status_code == 422
    assert writer.get("/v1/proofs/inclusion", params={"seq": -1, "size": 2}).status_code == 422
    assert writer.get("/v1/checkpoints", params={"size": 2}).status_code == 404


def test_checkpoint_on_demand(writer: TestClient) -> None:
    writer.post("/v1/entries", json=entry())
    r = writer.post("/v1/checkpoint")
    assert r.status_code == 200
    assert r.text.split("\n")[1] == "1"


def test_no_checkpoint_yet_is_404(client: TestClient) -> None:
    r = client.get("/v1/checkpoint")
    assert r.status_code == 404
    assert "empty" in r.json()["error"]["message"]


def test_openapi_documents_entry_body(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "EntryIn" in spec["components"]["schemas"]
    assert client.get("/docs").status_code == 200


def test_the_api_docs_need_no_network_beyond_this_server(client: TestClient) -> None:
    """Swagger UI from the server's own copy (``make node-deps``), not from a CDN."""
    page = client.get("/docs").text
    assert "cdn.jsdelivr.net" not in page
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/vendor/swagger-ui/{asset}" in page
        served = client.get(f"/vendor/swagger-ui/{asset}")
        assert served.status_code == 200 and len(served.content) > 10_000
