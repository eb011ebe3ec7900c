"""Anchoring over real JSON-RPC to anvil: the state machine, restart, one anchor per checkpoint."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from anchoring import repository as repo
from anchoring.devchain import Anvil
from anchoring.encoding import AnchorPayload, intrinsic_gas, origin_id
from anchoring.errors import AnchoringConfigError, ChainUnavailable
from anchoring.keys import AnchorKey
from anchoring.service import anchor_for
from api.db import Database
from api.log import repository as log_repo
from tests.anchoring.conftest import Clock, Ledger, MakeAnchorer


def count_transactions(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(repo.transactions)).scalar_one())


def anchors(db: Database) -> list[repo.AnchorRecord]:
    with db.engine.connect() as conn:
        return list(reversed(repo.list_anchors(conn, state=None, before=None, limit=100)))


def test_anchors_latest_checkpoint_as_calldata(
    ledger: Ledger, make_anchorer: MakeAnchorer, anvil: Anvil, db: Database
) -> None:
    anchorer = make_anchorer(confirmations=3)
    assert anchorer.step().action == "idle"  # an empty log has nothing to anchor
    ledger.append(5)
    size = ledger.append(7)

    report = anchorer.step()
    assert report.action == "submitted"
    assert report.anchor is not None and report.anchor.tree_size == size
    report = anchorer.step()
    assert report.action == "mined" and "1 of 3" in report.message
    anvil.rpc("anvil_mine", ["0x1"])
    assert anchorer.step().action == "mined"  # 2 of 3: not yet
    anvil.rpc("anvil_mine", ["0x1"])
    report = anchorer.step()
    assert report.action == "confirmed"
    anchor = report.anchor
    assert anchor is not None and anchor.state == "confirmed"

    # The transaction on chain carries exactly the signed checkpoint, from the anchoring key.
    assert anchor.tx_hash is not None
    tx = anchorer.chain.transaction(anchor.tx_hash)
    assert tx is not None and tx.sender == anchorer.key.address == tx.to
    with db.engine.connect() as conn:
        checkpoint = log_repo.checkpoint_at(conn, size)
    assert checkpoint is not None
    payload = AnchorPayload.decode(tx.data)
    assert payload == AnchorPayload(origin_id("test.jiuyuan.local/log"), size, checkpoint.root_hash)
    # Gas: exactly the intrinsic cost of the 52 bytes, under the 23,000 target.
    assert anchor.gas_used == intrinsic_gas(tx.data) <= 23_000
    print(f"\ngas per anchor on anvil: {anchor.gas_used}")

    # Every entry of that tree is covered by it; later entries are not, yet.
    with db.engine.connect() as conn:
        assert anchor_for(conn, 0) == anchor
        assert anchor_for(conn, size - 1) == anchor
        assert anchor_for(conn, size) is None
    assert anchorer.step().action == "idle"


def test_one_anchor_per_interval_whatever_the_volume(
    ledger: Ledger, make_anchorer: MakeAnchorer, anvil: Anvil, db: Database, clock: Clock
) -> None:
    anchorer = make_anchorer(confirmations=1, interval_s=600)
    ledger.append(3)
    assert anchorer.step().action == "submitted"
    assert anchorer.step().action == "confirmed"
    # The log grows a lot within the interval: no new anchor until the interval has passed.
    for _ in range(4):
        ledger.append(50)
        clock.advance(120)
        report = anchorer.step()
        assert report.action == "idle" and "due at" in report.message
    clock.advance(120)
    report = anchorer.step()
    assert report.action == "submitted"
    assert report.anchor is not None and report.anchor.tree_size == 203
    assert anchorer.step().action == "confirmed"
    assert [a.tree_size for a in anchors(db)] == [3, 203]
    assert [a.nonce for a in anchors(db)] == [0, 1]
    # No growth, no anchor, however long it has been.
    clock.advance(3600)
    assert anchorer.step().action == "idle"


def test_restart_between_storing_and_broadcasting_sends_the_same_bytes(
    ledger: Ledger, make_anchorer: MakeAnchorer, anvil: Anvil, db: Database
) -> None:
    ledger.append(4)
    first = make_anchorer(confirmations=2)

    def crash(raw: bytes) -> None:
        raise ChainUnavailable("the process died before the broadcast")

    first.chain.broadcast = crash  # type: ignore[method-assign]
    with pytest.raises(ChainUnavailable):
        first.step()
    (pending,) = anchors(db)
    assert pending.state == "pending" and count_transactions(db) == 1

    # A new process over the same database resumes: the stored bytes, not a new signature.
    second = make_anchorer(confirmations=2)
    report = second.step()
    assert report.action == "resent" and report.anchor is not None
    with db.engine.connect() as conn:
        (stored,) = repo.transactions_of(conn, pending.id)
    assert report.anchor.tx_hash == stored.tx_hash
    assert second.step().action == "mined"
    anvil.rpc("anvil_mine", ["0x1"])
    # And another restart while it gains depth.
    third = make_anchorer(confirmations=2)
    assert third.step().action == "confirmed"
    assert count_transactions(db) == 1
    assert second.chain.nonce(second.key.address, "latest") == 1  # one transaction in all


def test_restart_after_broadcast_resumes_waiting(
    ledger: Ledger, make_anchorer: MakeAnchorer, anvil: Anvil, db: Database
) -> None:
    ledger.append(2)
    anvil.rpc("evm_setAutomine", [False])
    assert make_anchorer().step().action == "submitted"
    # Restarted while the transaction waits in the pool: it waits on, sending nothing new.
    restarted = make_anchorer(confirmations=1)
    assert restarted.step().action == "waiting"
    assert count_transactions(db) == 1
    anvil.rpc("evm_mine")
    report = restarted.step()
    # Confirmations are the anchor's own (3, set when it was created), not the new default.
    assert report.action == "mined"


def test_a_checkpoint_is_anchored_once_even_by_two_anchorers(
    ledger: Ledger, make_anchorer: MakeAnchorer, db: Database
) -> None:
    ledger.append(3)
    a, b = make_anchorer(confirmations=1), make_anchorer(confirmations=1)
    assert a.step().action == "submitted"
    assert b.step().action == "confirmed"  # b finds a's anchor in flight and follows it
    assert a.step().action == "idle"
    assert len(anchors(db)) == 1 and count_transactions(db) == 1
    # The table refuses a second anchor of the same checkpoint on the same chain.
    with db.engine.begin() as conn:
        again = repo.create_anchor(
            conn,
            {
                "chain_id": 31337,
                "tree_size": 3,
                "root_hash": b"\0" * 32,
                "calldata": b"",
                "sender": a.key.address,
                "nonce": 9,
                "state": "pending",
                "confirmations": 1,
                "reorgs": 0,
                "created_at": a.clock(),
            },
        )
    assert again is None


def test_refuses_a_node_on_another_chain(
    ledger: Ledger, make_anchorer: MakeAnchorer, db: Database
) -> None:
    ledger.append(1)
    anchorer = make_anchorer()
    anchorer.expected_chain_id = 1
    with pytest.raises(AnchoringConfigError, match="on chain 31337, not JIUYUAN_CHAIN_ID=1"):
        anchorer.step()
    assert anchors(db) == []


def test_a_shared_or_changed_key_moves_the_anchor_to_a_fresh_nonce(
    ledger: Ledger, make_anchorer: MakeAnchorer, anvil: Anvil, clock: Clock
) -> None:
    ledger.append(2)
    anvil.rpc("evm_setAutomine", [False])
    anchorer = make_anchorer(confirmations=1)
    assert anchorer.step().action == "submitted"
    # Someone else spends the nonce with the same key: the pooled anchor can never be mined.
    foreign = anchorer.key.sign(
        {
            "type": 2,
            "chainId": 31337,
            "nonce": 0,
            "to": "0x" + "33" * 20,
            "value": 1,
            "gas": 21_000,
            "maxFeePerGas": 50 * 10**9,
            "maxPriorityFeePerGas": 10 * 10**9,
        }
    )
    anvil.rpc("eth_sendRawTransaction", ["0x" + foreign.raw.hex()])
    anvil.rpc("evm_mine")
    anvil.rpc("evm_setAutomine", [True])
    report = anchorer.step()
    assert report.action == "submitted" and report.anchor.nonce == 1
    assert anchorer.step().action == "confirmed"

    # The operator rotates the anchoring key while an anchor is in flight: the old key's
    # transaction is followed while the node holds it, and replaced only once it is gone.
    ledger.append(3)
    clock.advance(3600)
    anvil.rpc("evm_setAutomine", [False])
    report = anchorer.step()
    assert report.action == "submitted"
    old_tx = report.anchor.tx_hash
    rotated = AnchorKey.generate()
    anvil.fund(rotated.address)
    anchorer.key = rotated
    assert anchorer.step().action == "waiting"
    anvil.rpc("anvil_dropTransaction", ["0x" + old_tx.hex()])
    anvil.rpc("evm_setAutomine", [True])
    report = anchorer.step()
    assert report.action == "submitted" and report.anchor.sender == rotated.address
    assert report.anchor.nonce == 0
    report = anchorer.step()
    assert report.action == "confirmed" and report.anchor.tx_hash != old_tx
    assert anchorer.chain.receipt(old_tx) is None
