"""Receipts: built from storage, checked offline and on chain, refused when anything is off."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from anchoring.chain import Web3Chain
from anchoring.devchain import Anvil
from anchoring.receipt import (
    NotAnchored,
    Receipt,
    build_receipt,
    parse_receipt,
    verify_offline,
    verify_on_chain,
)
from api.app import create_app
from api.config import Settings
from api.db import Database
from ledger.errors import VerificationError
from ledger.note import NoteSigner
from tests.anchoring.conftest import ROOT, Ledger, MakeAnchorer, invoke


@pytest.fixture
def anchored(ledger: Ledger, make_anchorer: MakeAnchorer, anvil: Anvil) -> int:
    """A log of 13 entries, anchored and confirmed at 2 blocks; then 4 more, not anchored."""
    ledger.append(6)
    size = ledger.append(7)
    anchorer = make_anchorer(confirmations=2)
    assert anchorer.step().action == "submitted"
    anvil.rpc("anvil_mine", ["0x1"])
    assert anchorer.step().action == "confirmed"
    ledger.append(4)
    return size


def receipt_of(db: Database, signer: NoteSigner, seq: int) -> Receipt:
    with db.engine.connect() as conn:
        return build_receipt(conn, seq, signer.verifier_key())


def failed(checks: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {c.name: c.detail for c in checks if not c.ok}


def test_every_anchored_entry_has_a_receipt_that_verifies(
    anchored: int, db: Database, signer: NoteSigner, anvil: Anvil
) -> None:
    chain = Web3Chain.connect(anvil.url)
    for seq in (0, 5, anchored - 1):
        receipt = receipt_of(db, signer, seq)
        assert receipt.inclusion.tree_size == anchored
        offline = verify_offline(receipt, key=signer.verifier_key())
        assert [c.name for c in offline] == ["entry", "signature", "inclusion", "calldata"]
        assert all(c.ok for c in offline), offline
        online = verify_on_chain(receipt, chain, sender=receipt.anchor.sender)
        assert [c.name for c in online] == ["chain", "transaction", "block", "confirmations"]
        assert all(c.ok for c in online), online
    # The round trip through JSON is lossless.
    text = receipt.model_dump_json()
    assert parse_receipt(text) == receipt
    with db.engine.connect() as conn, pytest.raises(NotAnchored, match="not anchored yet"):
        build_receipt(conn, anchored, signer.verifier_key())


def _tamper(receipt: Receipt, change: Callable[[dict], None]) -> Receipt:  # type: ignore[type-arg]
    doc = json.loads(receipt.model_dump_json())
    change(doc)
    return Receipt.model_validate(doc)


def _flip_hex(text: str) -> str:
    body = text[2:] if text.startswith("0x") else text
    flipped = body[:-1] + ("1" if body[-1] == "0" else "0")
    return ("0x" if text.startswith("0x") else "") + flipped


def _flip_data(doc: dict) -> None:  # type: ignore[type-arg]
    data = bytearray(base64.b64decode(doc["entry"]["data"]))
    data[-3] ^= 1
    doc["entry"]["data"] = base64.b64encode(bytes(data)).decode()


def _nest_data(doc: dict) -> None:  # type: ignore[type-arg]
    """Entry bytes of JSON nested beyond any parser's depth, the leaf hash made to match."""
    nested = b"[" * 100_000 + b"]" * 100_000
    doc["entry"]["data"] = base64.b64encode(nested).decode()
    doc["entry"]["leaf_hash"] = hashlib.sha256(b"\x00" + nested).hexdigest()


OFFLINE_TAMPERING = {
    "entry bytes": (_flip_data, "entry"),
    "entry bytes nested too deep": (_nest_data, "entry"),
    "proof hash": (
        lambda d: d["inclusion"]["proof"].__setitem__(0, _flip_hex(d["inclusion"]["proof"][0])),
        "inclusion",
    ),
    "leaf index": (lambda d: d["inclusion"].__setitem__("leaf_index", 1), "entry"),
    "note text": (
        lambda d: d["checkpoint"].__setitem__(
            "note", d["checkpoint"]["note"].replace("\n13\n", "\n12\n")
        ),
        "signature",
    ),
    "calldata": (
        lambda d: d["anchor"].__setitem__("calldata", _flip_hex(d["anchor"]["calldata"])),
        "calldata",
    ),
}


def test_tampered_receipts_fail_offline(anchored: int, db: Database, signer: NoteSigner) -> None:
    receipt = receipt_of(db, signer, 3)
    for what, (change, check) in OFFLINE_TAMPERING.items():
        assert check in failed(verify_offline(_tamper(receipt, change))), what


def test_a_key_other_than_the_pinned_one_fails(
    anchored: int, db: Database, signer: NoteSigner
) -> None:
    other = NoteSigner.generate("test.jiuyuan.local/log")
    receipt = receipt_of(db, signer, 3)
    assert "pinned key" in failed(verify_offline(receipt, key=other.verifier_key()))["signature"]
    # A receipt re-signed by another key verifies only against that key, never the pinned one.
    resigned = _tamper(
        receipt,
        lambda d: d["checkpoint"].update(
            note=other.sign(d["checkpoint"]["note"].split("\n\n")[0] + "\n"),
            verifier_key=other.verifier_key(),
        ),
    )
    assert all(c.ok for c in verify_offline(resigned))
    assert "signature" in failed(verify_offline(resigned, key=signer.verifier_key()))


def test_on_chain_checks_catch_a_wrong_anchor(
    anchored: int, db: Database, signer: NoteSigner, anvil: Anvil, ledger: Ledger
) -> None:
    chain = Web3Chain.connect(anvil.url)
    receipt = receipt_of(db, signer, 2)
    cases = {
        "block": _tamper(
            receipt,
            lambda d: d["anchor"].__setitem__("block_hash", _flip_hex(d["anchor"]["block_hash"])),
        ),
        "transaction": _tamper(
            receipt, lambda d: d["anchor"].__setitem__("tx_hash", "0x" + "ab" * 32)
        ),
    }
    for check, bad in cases.items():
        assert check in failed(verify_on_chain(bad, chain))
    wrong_chain = _tamper(receipt, lambda d: d["anchor"].__setitem__("chain_id", 1))
    assert "chain" in failed(verify_on_chain(wrong_chain, chain))
    # Deep enough for the log (2), not for a verifier who wants 10 - until the chain grows.
    assert "confirmations" in failed(verify_on_chain(receipt, chain, confirmations=10))
    anvil.rpc("anvil_mine", ["0x8"])
    assert not failed(verify_on_chain(receipt, chain, confirmations=10))
    assert "transaction" in failed(verify_on_chain(receipt, chain, sender="0x" + "11" * 20))


def test_parse_refuses_what_is_not_a_receipt() -> None:
    for text in ("", "[]", "{}", '{"format": "jiuyuan-anchor-receipt/9"}'):
        with pytest.raises(VerificationError, match="not a jiuyuan-anchor-receipt/1"):
            parse_receipt(text)


def test_receipt_and_anchor_endpoints(
    anchored: int, settings: Settings, signer: NoteSigner, anvil: Anvil
) -> None:
    with TestClient(create_app(settings, background=False)) as client:
        listed = client.get("/v1/anchors").json()
        assert [a["tree_size"] for a in listed["anchors"]] == [anchored]
        assert listed["next_before"] is None
        (anchor,) = listed["anchors"]
        assert anchor["state"] == "confirmed" and anchor["gas_used"] <= 23_000
        assert client.get("/v1/anchors", params={"state": "pending"}).json()["anchors"] == []
        assert client.get("/v1/entries/4/anchor").json() == anchor
        receipt = Receipt.model_validate(client.get("/v1/entries/4/receipt").json())
        assert all(c.ok for c in verify_offline(receipt, key=signer.verifier_key()))
        assert all(c.ok for c in verify_on_chain(receipt, Web3Chain.connect(anvil.url)))

        late = client.get(f"/v1/entries/{anchored}/receipt")
        assert late.status_code == 404 and late.json()["error"]["code"] == "not_anchored"
        missing = client.get("/v1/entries/999/receipt")
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "entry_not_found"
        assert client.get("/v1/entries/999/anchor").json()["error"]["code"] == "entry_not_found"
        assert client.get("/v1/entries/-1/receipt").status_code == 422
        assert client.get("/v1/anchors", params={"limit": 0}).status_code == 422
        paths = client.get("/openapi.json").json()["paths"]
        for path in ("/v1/anchors", "/v1/entries/{seq}/receipt", "/v1/entries/{seq}/anchor"):
            assert path in paths


def test_cli_writes_and_verifies_receipts(
    anchored: int, settings: Settings, signer: NoteSigner, anvil: Anvil, tmp_path: Path
) -> None:
    out = tmp_path / "receipt.json"
    made = invoke(["receipt", "7", "--out", str(out)], settings)
    assert made.exit_code == 0, made.output
    ok = invoke(["receipt", "verify", str(out), "--rpc", anvil.url, "--key", signer.verifier_key()])
    assert ok.exit_code == 0, ok.output
    assert "OK: entry 7" in ok.stdout and ok.stdout.count("ok  ") == 8
    offline = invoke(["receipt", "verify", str(out)])
    assert offline.exit_code == 0 and offline.stdout.count("ok  ") == 4

    doc = json.loads(out.read_text())
    doc["anchor"]["block_hash"] = _flip_hex(doc["anchor"]["block_hash"])
    out.write_text(json.dumps(doc))
    bad = invoke(["receipt", "verify", str(out), "--rpc", anvil.url])
    assert bad.exit_code == 1 and "FAIL block" in bad.stdout
    unpinned = invoke(["receipt", "verify", str(out), "--sender", doc["anchor"]["sender"]])
    assert unpinned.exit_code == 2 and "add --rpc" in unpinned.stderr
    out.write_text("{}")
    garbage = invoke(["receipt", "verify", str(out)])
    assert garbage.exit_code == 1 and "not a jiuyuan-anchor-receipt/1" in garbage.stderr

    late = invoke(["receipt", str(anchored)], settings)
    assert late.exit_code == 1 and "not anchored yet" in late.stderr


# Process exit codes and a receipt file do not depend on the database: SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_console_script_verifies_a_receipt(
    anchored: int, db: Database, signer: NoteSigner, anvil: Anvil, tmp_path: Path
) -> None:
    """Once through a real process: exit codes as a shell sees them."""
    out = tmp_path / "receipt.json"
    out.write_text(receipt_of(db, signer, 0).model_dump_json())
    command = [sys.executable, "-m", "api.cli", "receipt", "verify", str(out), "--rpc", anvil.url]
    ok = subprocess.run(command, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    stricter = subprocess.run([*command, "--confirmations", "50"], capture_output=True, text=True)
    assert stricter.returncode == 1 and "FAIL confirmations" in stricter.stdout


# Process exit codes and a receipt file do not depend on the database: SQLite only.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_independent_verifier_in_the_docs_accepts_and_refuses(
    anchored: int, db: Database, signer: NoteSigner, anvil: Anvil, tmp_path: Path
) -> None:
    """docs/anchoring.md's stdlib-and-cryptography verifier, run on real receipts."""
    doc = (ROOT / "docs" / "anchoring.md").read_text()
    code = doc.split("<!-- verify-receipt -->\n```python\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "verify_receipt.py"
    script.write_text(code)
    for seq in (0, 7, anchored - 1):
        out = tmp_path / f"receipt-{seq}.json"
        receipt = receipt_of(db, signer, seq)
        out.write_text(receipt.model_dump_json())
        args = [str(out), anvil.url, signer.verifier_key(), receipt.anchor.sender]
        ran = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True)
        assert ran.returncode == 0, ran.stderr
        assert f"entry {seq} is in test.jiuyuan.local/log at size {anchored}" in ran.stdout
    # The same script refuses a receipt whose proof was touched, or a wrong sender.
    bad = json.loads(out.read_text())
    bad["inclusion"]["proof"][0] = _flip_hex(bad["inclusion"]["proof"][0])
    out.write_text(json.dumps(bad))
    ran = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True)
    assert ran.returncode != 0 and "inclusion proof" in ran.stderr
    out.write_text(receipt.model_dump_json())
    other = [*args[:3], "0x" + "22" * 20]
    ran = subprocess.run([sys.executable, str(script), *other], capture_output=True, text=True)
    assert ran.returncode != 0 and "sender" in ran.stderr
