"""The chain's usual faults, on anvil: an RPC outage, reorgs, a stuck transaction."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from anchoring import repository as repo
from anchoring.devchain import Anvil
from anchoring.keys import AnchorKey
from anchoring.receipt import Receipt, verify_offline
from anchoring.runner import AnchorRunner
from api.app import create_app
from api.config import Settings
from api.db import Database
from tests.anchoring.conftest import GWEI, Clock, FlakyProxy, Ledger, MakeAnchorer


def only_anchor(db: Database) -> repo.AnchorRecord:
    with db.engine.connect() as conn:
        (anchor,) = repo.list_anchors(conn, state=None, before=None, limit=10)
        return anchor


def sent(db: Database, anchor_id: int) -> list[repo.TxRecord]:
    with db.engine.connect() as conn:
        return repo.transactions_of(conn, anchor_id)


def test_rpc_outage_backs_off_then_resumes(
    ledger: Ledger, make_anchorer: MakeAnchorer, proxy: FlakyProxy, db: Database, anvil: Anvil
) -> None:
    anchorer = make_anchorer(url=proxy.url, confirmations=2)
    runner = AnchorRunner(db, anchorer, poll_s=0.01, backoff_base_s=0.5, backoff_max_s=3)
    ledger.append(4)
    proxy.down()
    for failures in range(1, 5):
        assert runner.tick() is None
        assert runner.failures == failures
    # Exponential, jittered, capped: 0.5, 1, 2, then 3 (not 4).
    assert 3 * 0.8 <= runner.next_delay() <= 3 * 1.2
    with db.engine.connect() as conn:
        assert repo.active_anchor(conn, 31337) is None  # nothing half-done while down

    proxy.restore()
    report = runner.tick()
    assert report is not None and report.action == "submitted"
    assert runner.failures == 0 and runner.next_delay() == 0.01

    # Down again while the anchor gains depth: it waits, then confirms, still one transaction.
    proxy.down()
    assert runner.tick() is None
    anvil.rpc("anvil_mine", ["0x1"])
    proxy.restore()
    report = runner.tick()
    assert report is not None and report.action == "confirmed"
    assert len(sent(db, only_anchor(db).id)) == 1


def test_service_keeps_serving_while_the_chain_is_down(
    settings: Settings, signer: object, ledger: Ledger, proxy: FlakyProxy, key: AnchorKey
) -> None:
    settings = settings.model_copy(
        update={
            "anchor_backend": "web3",
            "chain_rpc_url": proxy.url,
            "chain_id": 31337,
            "chain_private_key": SecretStr(key.private_key_hex()),
            "anchor_interval_s": 0.2,
            "anchor_confirmations": 1,
        }
    )
    proxy.down()
    with TestClient(create_app(settings)) as client:
        ledger.append(3)
        for _ in range(5):
            assert client.get("/v1/checkpoint").status_code == 200
            assert client.get("/v1/anchors").json()["anchors"] == []
            time.sleep(0.1)
        proxy.restore()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            listed = client.get("/v1/anchors", params={"state": "confirmed"}).json()["anchors"]
            if listed:
                break
            time.sleep(0.1)
        assert listed and listed[0]["tree_size"] == 3
        response = client.get("/v1/entries/2/receipt")
        assert response.status_code == 200
        checks = verify_offline(Receipt.model_validate(response.json()))
        assert all(c.ok for c in checks), checks


@pytest.mark.parametrize("how", ["revert", "reorg", "moved"])
def test_reorg_below_confirmation_depth_re_anchors(
    how: str, ledger: Ledger, make_anchorer: MakeAnchorer, anvil: Anvil, db: Database
) -> None:
    ledger.append(5)
    anvil.rpc("anvil_mine", ["0x3"])  # some history for a reorg to cut into
    anchorer = make_anchorer(confirmations=3)
    snapshot = anvil.rpc("evm_snapshot")
    assert anchorer.step().action == "submitted"
    report = anchorer.step()
    assert report.action == "mined" and report.anchor is not None
    first_block = report.anchor.block_number, report.anchor.block_hash
    (tx,) = sent(db, report.anchor.id)

    if how == "revert":  # back to before the anchor, then the chain grows without it
        anvil.rpc("evm_revert", [snapshot])
        anvil.rpc("anvil_mine", ["0x2"])
    elif how == "reorg":  # the anchor's block replaced by one without it
        anvil.rpc("anvil_reorg", [1, []])
    else:  # the last two blocks replaced, the anchor mined again in the second new one
        anvil.rpc("anvil_reorg", [2, [["0x" + tx.raw.hex(), 1]]])

    report = anchorer.step()
    if how == "moved":
        assert report.action == "mined"
        assert (report.anchor.block_number, report.anchor.block_hash) != first_block
    else:
        assert report.action == "resent"  # the same bytes: the same nonce, one anchor
        assert report.anchor.block_number is None
        assert anchorer.step().action == "mined"
    anvil.rpc("anvil_mine", ["0x2"])
    report = anchorer.step()
    assert report.action == "confirmed"
    anchor = report.anchor
    assert anchor.reorgs == 1
    assert anchorer.chain.block_hash(anchor.block_number) == anchor.block_hash
    assert [t.tx_hash for t in sent(db, anchor.id)] == [tx.tx_hash]
    assert anchorer.chain.nonce(anchorer.key.address, "latest") == 1


def test_stuck_transaction_is_replaced_with_a_higher_fee(
    ledger: Ledger, make_anchorer: MakeAnchorer, anvil: Anvil, db: Database, clock: Clock
) -> None:
    anvil.rpc("evm_setAutomine", [False])
    ledger.append(3)
    anchorer = make_anchorer(confirmations=1, stuck_after_s=60)
    assert anchorer.step().action == "submitted"
    clock.advance(30)
    assert anchorer.step().action == "waiting"
    clock.advance(31)
    report = anchorer.step()
    assert report.action == "bumped"
    first, second = sent(db, report.anchor.id)
    assert first.nonce == second.nonce
    assert second.max_fee_per_gas * 8 >= first.max_fee_per_gas * 9
    assert second.max_priority_fee_per_gas * 8 >= first.max_priority_fee_per_gas * 9
    # The replacement pushed the original out of the node's pool.
    assert anchorer.chain.transaction(first.tx_hash) is None

    anvil.rpc("evm_mine")
    report = anchorer.step()
    assert report.action == "confirmed"
    assert report.anchor.tx_hash == second.tx_hash
    assert anchorer.chain.receipt(first.tx_hash) is None
    assert anchorer.chain.nonce(anchorer.key.address, "latest") == 1


def test_fee_bumps_stop_at_the_ceiling(
    ledger: Ledger, make_anchorer: MakeAnchorer, anvil: Anvil, db: Database, clock: Clock
) -> None:
    anvil.rpc("evm_setAutomine", [False])
    ledger.append(2)
    anchorer = make_anchorer(confirmations=1, stuck_after_s=10, max_fee_wei=2 * GWEI)
    assert anchorer.step().action == "submitted"
    clock.advance(11)
    report = anchorer.step()
    assert report.action == "stuck"
    (only,) = sent(db, report.anchor.id)
    assert only.max_fee_per_gas <= 2 * GWEI
    anvil.rpc("evm_mine")
    assert anchorer.step().action == "confirmed"
