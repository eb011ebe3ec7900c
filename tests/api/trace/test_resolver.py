"""The public scan lookup: answers, proofs a client can check alone, bad input, scans."""

from __future__ import annotations

import base64
import ipaddress
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.config import Settings
from api.db import Database
from api.trace.resolver.repository import secret, stored_secret
from api.trace.resolver.service import _client_key, client_hash
from ledger.canonical import canonical_json
from ledger.checkpoint import verify_checkpoint
from ledger.merkle import leaf_hash, verify_inclusion
from ledger.note import NoteVerifier
from tests.api.trace.conftest import make_history, ok


def settle(client: TestClient) -> None:
    """Sequence what the requests staged and publish a checkpoint covering it."""
    log = client.app.state.log  # type: ignore[attr-defined]
    log.relay()
    log.checkpoint_now()


def path_of(uri: str) -> str:
    return uri.split("://", 1)[1].split("/", 1)[1]


def lookup(client: TestClient, uri: str, **params: Any) -> Any:
    return client.get("/" + path_of(uri), params=params, headers={"Accept": "application/json"})


def verify_everything(body: dict[str, Any]) -> None:
    """What an independent client does with a lookup: nothing here trusts the server."""
    cp = body["checkpoint"]
    checkpoint = verify_checkpoint(cp["note"], NoteVerifier.from_verifier_key(cp["verifier_key"]))
    assert checkpoint.size == cp["tree_size"]
    for entry in body["entries"]:
        assert entry["status"] == "proven", entry
        data = base64.b64decode(entry["data"])
        leaf = leaf_hash(data)
        assert leaf.hex() == entry["leaf_hash"]
        assert entry["tree_size"] == cp["tree_size"]
        proof = [bytes.fromhex(h) for h in entry["proof"]]
        verify_inclusion(leaf, entry["seq"], entry["tree_size"], proof, checkpoint.root_hash)
        member = entry["member"]
        if member is not None:
            root_field = "codes_root" if "codes_root" in entry["payload"] else "readings_root"
            assert member["root"] == entry["payload"][root_field]
            verify_inclusion(
                leaf_hash(canonical_json(member["item"])),
                member["index"],
                member["size"],
                [bytes.fromhex(h) for h in member["proof"]],
                bytes.fromhex(member["root"]),
            )


def test_lookup_of_a_packed_bottle_verifies_independently(admin: TestClient) -> None:
    h = make_history(admin)
    settle(admin)
    body = ok(lookup(admin, h.bottles[3]))
    assert body["verdict"] == {"status": "genuine", "reasons": []}
    assert body["code"]["state"] == "packed" and body["code"]["case"] == h.cases[0]
    assert body["product"]["gtin"] == h.gtin and body["batch"]["lot"] == h.lot
    assert [b["vintage"] for b in body["blend"]["base_liquors"]] == [2019, 2021]
    assert [s["event"] for s in body["custody"]] == ["commissioned", "packed"]
    assert body["custody"][0]["region"] == "贵州 遵义"
    roles = [e["role"] for e in body["entries"]]
    assert roles[:4] == ["product", "batch", "blend", "base_liquor"]
    verify_everything(body)
    packed = body["entries"][body["custody"][1]["entry"]]
    assert packed["member"]["item"] == "/" + path_of(h.bottles[3])
    assert packed["member"]["size"] == 6


def test_large_code_lists_prove_membership_from_stored_subtrees(admin: TestClient) -> None:
    # 600 codes in one commissioning entry: more than SMALL_LIST, so the proof nodes are read
    # as slices of the stored subtrees (with the ledger's tree nodes, in one query).
    h = make_history(admin, bottles=600)
    settle(admin)
    for uri in (h.bottles[0], h.bottles[517], h.bottles[599]):
        body = ok(lookup(admin, uri))
        commissioned = body["entries"][body["custody"][0]["entry"]]
        assert commissioned["member"]["size"] == 600
        assert commissioned["member"]["item"] == "/" + path_of(uri)
        verify_everything(body)
    # A second lookup of the same bottle, its proofs now cached, is the same answer.
    again = ok(lookup(admin, h.bottles[517]))
    assert again["entries"] == ok(lookup(admin, h.bottles[517]))["entries"]
    verify_everything(again)


def test_unknown_serial_of_a_known_lot_leaks_nothing(admin: TestClient) -> None:
    h = make_history(admin)
    settle(admin)
    real = h.bottles[0]
    first = lookup(admin, real[:-1] + ("0" if real[-1] != "0" else "1"))
    second = lookup(admin, real[:-8] + "ZZZZZZZZ")
    assert first.status_code == second.status_code == 404
    assert first.json() == second.json()
    body = first.json()
    assert body["verdict"]["status"] == "unknown" and "not ours" in body["verdict"]["reasons"][0]
    assert body["batch"]["lot"] == h.lot and body["code"] is None
    assert admin.get("/01/06901234567892/10/NOSUCHLOT/21/ABC").status_code == 404


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("01/06901234567891/10/L1/21/ABC", "check digit"),
        ("01/06901234567892/21/ABC/10/L1", "order"),
        ("01/6901234567892/10/L1/21/ABC", "14 digits"),
        ("01/06901234567892/10/L1/21/" + "A" * 21, "too long"),
        ("01/06901234567892/10/L1/21/", "empty"),
    ],
)
def test_malformed_digital_links_name_the_problem(
    client: TestClient, path: str, words: str
) -> None:
    response = client.get("/" + path, headers={"Accept": "application/json"})
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("01/06901234567891/10/L1/21/ABC", 400, "invalid_digital_link"),
        ("01/06901234567892/10/NOSUCHLOT/21/ABC", 404, "unknown_code"),
        ("01/06901234567892", 404, "unknown_code"),
    ],
)
def test_a_browser_gets_a_page_for_a_link_that_is_not_ours(
    client: TestClient, path: str, status: int, code: str
) -> None:
    """Not JSON in a consumer's browser: the scan page, which says so and offers another scan
    (or, with ?format=html, the plain page); the status an API client gets."""
    page = client.get("/" + path, headers={"Accept": "text/html"})
    assert page.status_code == status and page.headers["content-type"].startswith("text/html")
    assert f'"code":"{code}"' in page.text and 'id="lookup"' in page.text
    plain = client.get("/" + path, params={"format": "html"})
    assert plain.status_code == status and "Not a code of ours" in plain.text
    assert "<script" not in plain.text


@pytest.mark.parametrize(
    ("place", "words"),
    [
        ({"lat": "NaN", "lon": "NaN"}, "lat: Input should be a finite number"),
        ({"lat": "30.6", "lon": "inf"}, "lon: Input should be a finite number"),
        ({"lat": "91", "lon": "104.1"}, "lat: Input should be less than or equal to 90"),
    ],
)
def test_a_place_off_the_globe_is_named(client: TestClient, place: Any, words: str) -> None:
    response = client.get("/01/06901234567892/10/L1/21/ABC", params=place)
    assert response.status_code == 422, response.text
    assert words in response.json()["error"]["message"]


def test_a_link_without_a_serial_vouches_for_no_bottle(admin: TestClient) -> None:
    """A lot's or a product's link is ours, but a counterfeiter could print it on any bottle:
    its verdict is never "genuine"."""
    h = make_history(admin)
    settle(admin)
    gtin = path_of(h.bottles[0]).split("/")[1]
    for path, what in ((f"01/{gtin}/10/{h.lot}", f"lot {h.lot}"), (f"01/{gtin}", "product")):
        response = admin.get("/" + path, headers={"Accept": "application/json"})
        assert response.status_code == 200
        verdict = response.json()["verdict"]
        assert verdict["status"] == "unknown" and what in verdict["reasons"][0]
        verify_everything(response.json())
        page = admin.get("/" + path, params={"format": "html"})
        assert "Not a bottle code" in page.text and "Genuine" not in page.text
    ok(admin.post(f"/v1/batches/{h.lot}/recall", json={"reason": "cap seal defect."}))
    settle(admin)
    recalled = admin.get(f"/01/{gtin}/10/{h.lot}", headers={"Accept": "application/json"})
    assert recalled.status_code == 410
    reasons = recalled.json()["verdict"]["reasons"]
    assert recalled.json()["verdict"]["status"] == "unknown"
    assert reasons[1].startswith(f"Batch {h.lot} was recalled: cap seal defect. Do not drink it")


def test_recall_answers_410(admin: TestClient) -> None:
    h = make_history(admin)
    ok(admin.post(f"/v1/batches/{h.lot}/recall", json={"reason": "cap seal defect"}))
    settle(admin)
    response = lookup(admin, h.bottles[0])
    assert response.status_code == 410
    assert "recalled" in response.json()["verdict"]["reasons"][0]
    verify_everything(response.json())


def test_scans_and_clone_detection(admin: TestClient) -> None:
    h = make_history(admin)
    uri = h.bottles[0]
    beijing = {"lat": 39.9, "lon": 116.4}
    chengdu = {"lat": 30.6, "lon": 104.1}
    first = admin.get(
        "/" + path_of(uri),
        params=beijing,
        headers={"Accept": "application/json", "X-Device-Id": "phone-1"},
    ).json()
    assert first["scans"]["count"] == 1 and first["scans"]["recorded"] is True
    assert first["verdict"]["status"] == "genuine"
    second = admin.get(
        "/" + path_of(uri),
        params=chengdu,
        headers={"Accept": "application/json", "X-Device-Id": "phone-2"},
    ).json()
    assert second["scans"]["count"] == 2 and second["scans"]["distinct_devices"] == 2
    assert second["verdict"]["status"] == "suspicious"
    assert "北京" in second["verdict"]["reasons"][0] and "成都" in second["verdict"]["reasons"][0]
    # A lookup without a device id is not a scan.
    assert lookup(admin, uri).json()["scans"]["count"] == 2
    # A browser gets HTML and a device cookie; its visit counts as a scan.
    page = admin.get("/" + path_of(h.bottles[1]), headers={"Accept": "text/html"})
    assert page.status_code == 200 and "酒源·酱香典藏" in page.text
    assert "jy_device" in page.cookies


def test_one_client_cannot_make_a_genuine_bottle_look_cloned(admin: TestClient) -> None:
    """Device ids and positions are the client's word: six device ids and two cities from one
    address are one consumer; two addresses are two (loopback: every consumer behind a proxy
    that is not trusted, so they are told apart by device id alone)."""
    h = make_history(admin)

    def scan(client: TestClient, uri: str, device: str, where: dict[str, float]) -> Any:
        headers = {"Accept": "application/json", "X-Device-Id": device}
        return client.get("/" + path_of(uri), params=where, headers=headers).json()

    beijing, chengdu = {"lat": 39.9, "lon": 116.4}, {"lat": 30.6, "lon": 104.1}
    one = TestClient(admin.app, client=("198.51.100.7", 5000))
    for k in range(6):
        body = scan(one, h.bottles[0], f"phone-{k}", chengdu if k % 2 else beijing)
    assert body["scans"]["count"] == 6 and body["scans"]["distinct_devices"] == 1
    assert body["verdict"]["status"] == "genuine"
    # A second consumer, 1,500 km away within minutes: the clone rules judge two clients.
    other = TestClient(admin.app, client=("2001:db8:1:2::9", 5000))
    second = scan(other, h.bottles[0], "phone-x", chengdu)
    assert second["scans"]["distinct_devices"] == 2
    assert second["verdict"]["status"] == "suspicious"
    assert "北京" in second["verdict"]["reasons"][0]
    local = TestClient(admin.app, client=("127.0.0.1", 5000))
    for k in range(2):
        last = scan(local, h.bottles[1], f"phone-{k}", beijing)
    assert last["scans"]["distinct_devices"] == 2


def test_a_client_hash_is_keyed_and_per_network() -> None:
    key = b"k" * 32
    same = client_hash(key, "198.51.100.7")
    assert same is not None and len(same) == 16
    assert client_hash(key, "198.51.100.8") != same
    assert client_hash(b"l" * 32, "198.51.100.7") != same  # another day's key
    # A phone's privacy addresses within its /64 are one client.
    assert client_hash(key, "2001:db8:1:2::9") == client_hash(key, "2001:db8:1:2:a::1")
    assert client_hash(key, "2001:db8:1:3::9") != client_hash(key, "2001:db8:1:2::9")
    for nobody in (None, "unknown", "testclient", "127.0.0.1", "::1"):
        assert client_hash(key, nobody) is None


def test_a_days_client_key_is_gone_once_the_next_day_has_one(db: Database) -> None:
    with db.writer.begin() as conn:
        salt = secret(conn, "device-salt")
        yesterday = _client_key(conn, "2026-11-26")
        assert _client_key(conn, "2026-11-26") == yesterday
        today = _client_key(conn, "2026-11-27")
        assert today != yesterday
        assert stored_secret(conn, "client-key:2026-11-26") is None
        assert stored_secret(conn, "client-key:2026-11-27") == today
        assert stored_secret(conn, "device-salt") == salt  # other secrets stay


def test_rate_limit_per_client(settings: Settings, signer: object) -> None:
    tight = settings.model_copy(update={"lookup_burst": 3, "lookup_rate_per_s": 0.01})
    with TestClient(create_app(tight)) as client:
        codes = [
            client.get("/01/06901234567892", headers={"Accept": "application/json"})
            for _ in range(4)
        ]
    assert [c.status_code for c in codes[:3]] == [404, 404, 404]
    assert codes[3].status_code == 429
    assert int(codes[3].headers["Retry-After"]) >= 1


def test_rate_limit_keys_the_forwarded_client_only_behind_a_trusted_proxy(
    settings: Settings, signer: object
) -> None:
    tight = settings.model_copy(
        update={
            "lookup_burst": 2,
            "lookup_rate_per_s": 0.01,
            "trusted_proxies": [ipaddress.ip_network("10.0.0.0/8")],
        }
    )
    url, accept = "/01/06901234567892", {"Accept": "application/json"}

    def statuses(client: TestClient, forwarded: str) -> list[int]:
        headers = {**accept, "X-Forwarded-For": forwarded}
        return [client.get(url, headers=headers).status_code for _ in range(3)]

    app = create_app(tight)
    with TestClient(app, client=("10.1.2.3", 5000)) as proxy:
        # Behind the trusted proxy each consumer has a bucket of their own, found right to
        # left past the proxies' own hops; a client's forged left-most entry changes nothing.
        assert statuses(proxy, "203.0.113.7") == [404, 404, 429]
        assert statuses(proxy, "198.51.100.9, 10.9.9.9") == [404, 404, 429]
        assert proxy.get(url, headers={**accept, "X-Forwarded-For": "1.1.1.1, 198.51.100.9"})
        forged = proxy.get(url, headers={**accept, "X-Forwarded-For": "1.1.1.1, 198.51.100.9"})
        assert forged.status_code == 429
    with TestClient(app, client=("192.0.2.50", 5000)) as direct:
        # Anyone else's X-Forwarded-For is ignored: a new value each time does not help.
        codes = [
            direct.get(url, headers={**accept, "X-Forwarded-For": f"203.0.113.{i}"}).status_code
            for i in range(3)
        ]
        assert codes == [404, 404, 429]
    # Nothing in the limiter holds an address: buckets are keyed by a keyed hash.
    buckets = app.state.trace_lookup_buckets
    assert all(isinstance(k, bytes) and len(k) == 16 for k in buckets._buckets)
    assert not any(b"203.0.113" in k or b"10.1.2.3" in k for k in buckets._buckets)
