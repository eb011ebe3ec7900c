"""The web3 anchorer: moves each checkpoint's anchor through pending → submitted → confirmed.

Each :meth:`Web3Anchorer.step` reads the persisted state, asks the chain where things stand and
makes at most one move, so a restart resumes wherever the last process stopped:

* no anchor in flight, the log grown and the interval passed: the latest checkpoint becomes a
  ``pending`` anchor with the next nonce;
* a signed transaction is stored *before* it is broadcast, so a crash in between leads to the
  same bytes being broadcast again, never a second transaction;
* unmined after ``stuck_after``: replaced with the same nonce and a higher fee (capped);
* mined, then ``confirmations`` deep in the canonical chain: ``confirmed``; a reorg that drops
  it before then sends it again (the same nonce, so at most one of its transactions can ever
  be mined): one checkpoint, one anchor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from anchoring import repository as repo
from anchoring.chain import MinedTx, Web3Chain
from anchoring.encoding import AnchorPayload, intrinsic_gas
from anchoring.errors import AnchoringConfigError, AnchoringError, ChainRejected
from anchoring.fees import Fees, bumped_fees, initial_fees
from anchoring.keys import AnchorKey
from api.db import Database
from api.log import repository as log_repo
from ledger.checkpoint import verify_checkpoint
from ledger.errors import VerificationError
from ledger.note import NoteVerifier

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StepReport:
    """What one step did: ``action`` is a word for machines, ``message`` a line for people."""

    action: str
    message: str
    anchor: repo.AnchorRecord | None = None


@dataclass(frozen=True)
class AnchorPolicy:
    """How often, how deep and at what price to anchor."""

    interval_s: float
    confirmations: int
    max_fee_wei: int
    stuck_after_s: float


class Web3Anchorer:
    """Anchors the log's checkpoints as calldata of self-addressed transactions."""

    backend = "web3"

    def __init__(
        self,
        db: Database,
        chain: Web3Chain,
        key: AnchorKey,
        verifier: NoteVerifier,
        origin: str,
        policy: AnchorPolicy,
        *,
        expected_chain_id: int | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.chain = chain
        self.key = key
        self.verifier = verifier
        self.origin = origin
        self.policy = policy
        self.expected_chain_id = expected_chain_id
        self.clock = clock

    def describe(self) -> str:
        """Return where anchors go and from which address (no secrets)."""
        return f"web3: {self.chain.description} from {self.key.address}"

    def step(self) -> StepReport:
        """Advance anchoring by one move; see the module docstring.

        :raises ChainUnavailable: the node could not be reached (retry with backoff).
        :raises ChainRejected: the node refused a transaction (funds, fees); it is recorded.
        :raises AnchoringConfigError: the node is on another chain than configured.
        """
        chain_id = self._check_chain()
        with self.db.engine.connect() as conn:
            anchor = repo.active_anchor(conn, chain_id)
        if anchor is None:
            started = self._start(chain_id)
            if isinstance(started, StepReport):
                return started
            anchor = started
        return self._advance(anchor)

    # -- choosing what to anchor ------------------------------------------------------------

    def _check_chain(self) -> int:
        actual = self.chain.chain_id()
        if self.expected_chain_id is not None and actual != self.expected_chain_id:
            raise AnchoringConfigError(
                f"the node at {self.chain.description} is on chain {actual}, not "
                f"JIUYUAN_CHAIN_ID={self.expected_chain_id}; refusing to anchor there"
            )
        return actual

    def _start(self, chain_id: int) -> repo.AnchorRecord | StepReport:
        now = self.clock()
        with self.db.engine.connect() as conn:
            latest = log_repo.latest_checkpoint(conn)
            last = repo.last_anchor(conn, chain_id)
            known_nonce = repo.max_nonce(conn, chain_id, self.key.address)
        # 1. Only when the log has grown past the last anchor ...
        if latest is None:
            return StepReport("idle", "the log has no checkpoint yet")
        if last is not None and latest.tree_size <= last.tree_size:
            return StepReport(
                "idle", f"the log has not grown since the anchor of tree size {last.tree_size}"
            )
        # 2. ... and at most once per interval, whatever the volume.
        if last is not None:
            due = last.created_at + timedelta(seconds=self.policy.interval_s)
            if now < due:
                return StepReport("idle", f"next anchor due at {due.isoformat()}")
        # 3. Anchor exactly what the signed note says, not what a table row claims.
        try:
            checkpoint = verify_checkpoint(latest.note, self.verifier, self.origin)
        except VerificationError as exc:
            raise AnchoringError(
                f"checkpoint {latest.tree_size} does not verify; not anchoring it: {exc}"
            ) from exc
        if checkpoint.size != latest.tree_size or checkpoint.root_hash != latest.root_hash:
            raise AnchoringError(
                f"stored checkpoint {latest.tree_size} disagrees with its signed note"
            )
        calldata = AnchorPayload.for_checkpoint(checkpoint).encode()
        # 4. The next nonce, from the node: every earlier anchor is confirmed, so the chain
        #    counts all of them. Fewer means the chain was reset (a development chain).
        nonce = self.chain.nonce(self.key.address, "pending")
        if known_nonce is not None and nonce <= known_nonce:
            log.warning(
                "the chain holds %d transactions from %s, but this log sent nonce %d: was the "
                "chain reset? Anchors confirmed before cannot be checked on it",
                nonce,
                self.key.address,
                known_nonce,
            )
        with self.db.engine.begin() as conn:
            anchor = repo.create_anchor(
                conn,
                {
                    "chain_id": chain_id,
                    "tree_size": checkpoint.size,
                    "root_hash": checkpoint.root_hash,
                    "calldata": calldata,
                    "sender": self.key.address,
                    "nonce": nonce,
                    "state": "pending",
                    "confirmations": self.policy.confirmations,
                    "reorgs": 0,
                    "created_at": now,
                },
            )
            if anchor is None:  # another process anchored it first
                found = repo.active_anchor(conn, chain_id)
                if found is None:
                    return StepReport("idle", f"checkpoint {checkpoint.size} is already anchored")
                anchor = found
        log.info("anchoring checkpoint %d with nonce %d", anchor.tree_size, anchor.nonce)
        return anchor

    # -- moving an anchor along -------------------------------------------------------------

    def _advance(self, anchor: repo.AnchorRecord) -> StepReport:
        with self.db.engine.connect() as conn:
            sent = repo.transactions_of(conn, anchor.id)
        # 1. The mined nonce first, then receipts: a transaction mined in between shows up in
        #    the receipts, so a used nonce with no receipt of ours really is someone else's.
        mined_nonce = self.chain.nonce(anchor.sender, "latest")
        head = self.chain.head()
        for tx in reversed(sent):
            if tx.rejected is not None and tx.broadcast_at is None:
                continue
            receipt = self.chain.receipt(tx.tx_hash)
            if receipt is not None:
                return self._track_mined(anchor, tx, receipt, head)
        # 2. In no block. If it was in one, a reorg has dropped it: send it again.
        if anchor.block_number is not None:
            log.warning(
                "reorg: block %d no longer holds the anchor of checkpoint %d; re-anchoring",
                anchor.block_number,
                anchor.tree_size,
            )
            with self.db.engine.begin() as conn:
                repo.update_anchor(
                    conn,
                    anchor.id,
                    block_number=None,
                    block_hash=None,
                    gas_used=None,
                    effective_gas_price=None,
                    reorgs=anchor.reorgs + 1,
                )
        # 3. A fresh nonce when the old one can no longer carry it: the anchoring key was
        #    changed, or a transaction this log did not send used the nonce (a shared key).
        why = None
        if anchor.sender != self.key.address:
            pooled = [tx for tx in sent if tx.rejected is None and tx.broadcast_at is not None]
            if any(self.chain.transaction(tx.tx_hash) is not None for tx in pooled):
                # It may still be mined; a second anchor from the new key could be mined too.
                return StepReport(
                    "waiting", f"the previous key's transaction is still pending ({anchor.sender})"
                )
            why = f"the anchoring key changed from {anchor.sender}"
        elif mined_nonce > anchor.nonce:
            why = f"another transaction used nonce {anchor.nonce}"
        if why is not None:
            nonce = self.chain.nonce(self.key.address, "pending")
            log.warning(
                "%s: anchoring checkpoint %d from %s with nonce %d",
                why,
                anchor.tree_size,
                self.key.address,
                nonce,
            )
            with self.db.engine.begin() as conn:
                repo.update_anchor(conn, anchor.id, sender=self.key.address, nonce=nonce)
                for tx in sent:
                    if tx.rejected is None:
                        repo.update_transaction(conn, tx.tx_hash, rejected=why)
            anchor = replace(anchor, sender=self.key.address, nonce=nonce)
            sent = []
        live = [tx for tx in sent if tx.rejected is None]
        # 4. Nothing sent yet: the first transaction.
        if not live:
            fees = initial_fees(self.chain.fee_quote(), self.policy.max_fee_wei)
            gas = max(intrinsic_gas(anchor.calldata), self._estimate(anchor))
            return self._send(anchor, fees, gas, "submitted")
        latest = live[-1]
        # 5. The node forgot it (dropped from its pool, a reorg, a restart): the same bytes again.
        if latest.broadcast_at is None or self.chain.transaction(latest.tx_hash) is None:
            return self._rebroadcast(anchor, latest)
        # 6. Stuck: the same nonce, a higher fee, never above the ceiling.
        waited = (self.clock() - latest.broadcast_at).total_seconds()
        if waited >= self.policy.stuck_after_s:
            previous = Fees(latest.max_fee_per_gas, latest.max_priority_fee_per_gas)
            bumped = bumped_fees(previous, self.chain.fee_quote(), self.policy.max_fee_wei)
            if bumped is None:
                log.warning(
                    "anchor of checkpoint %d unmined for %.0f s at the fee ceiling (%d wei); "
                    "raise JIUYUAN_ANCHOR_MAX_FEE_GWEI or wait for fees to fall",
                    anchor.tree_size,
                    waited,
                    self.policy.max_fee_wei,
                )
                return StepReport("stuck", "stuck at the fee ceiling", anchor)
            log.warning(
                "anchor of checkpoint %d unmined for %.0f s; replacing nonce %d at max fee %d wei",
                anchor.tree_size,
                waited,
                anchor.nonce,
                bumped.max_fee_per_gas,
            )
            return self._send(anchor, bumped, latest.gas_limit, "bumped")
        return StepReport(
            "waiting", f"waiting for 0x{latest.tx_hash.hex()} to be mined ({waited:.0f} s)", anchor
        )

    def _estimate(self, anchor: repo.AnchorRecord) -> int:
        try:
            return self.chain.estimate_gas(anchor.sender, anchor.calldata)
        except AnchoringError:
            return 0  # the intrinsic gas is exact for a self-send; the estimate is a cross-check

    def _send(self, anchor: repo.AnchorRecord, fees: Fees, gas: int, action: str) -> StepReport:
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": anchor.chain_id,
            "nonce": anchor.nonce,
            "to": anchor.sender,
            "value": 0,
            "data": anchor.calldata,
            "gas": gas,
            "maxFeePerGas": fees.max_fee_per_gas,
            "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
        }
        signed = self.key.sign(tx)
        record = repo.TxRecord(
            tx_hash=signed.tx_hash,
            anchor_id=anchor.id,
            nonce=anchor.nonce,
            max_fee_per_gas=fees.max_fee_per_gas,
            max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
            gas_limit=gas,
            raw=signed.raw,
            created_at=self.clock(),
            broadcast_at=None,
            rejected=None,
        )
        # Stored before it is broadcast: a crash in between re-sends these very bytes.
        with self.db.engine.begin() as conn:
            if repo.get_transaction(conn, signed.tx_hash) is None:
                repo.insert_transaction(conn, record)
            else:  # the same offer again (e.g. after a refusal for funds): the same bytes
                repo.update_transaction(conn, signed.tx_hash, rejected=None)
        return self._rebroadcast(anchor, record, action=action)

    def _rebroadcast(
        self, anchor: repo.AnchorRecord, tx: repo.TxRecord, action: str = "resent"
    ) -> StepReport:
        try:
            self.chain.broadcast(tx.raw)
        except ChainRejected as exc:
            with self.db.engine.begin() as conn:
                repo.update_transaction(conn, tx.tx_hash, rejected=str(exc)[:500])
            raise ChainRejected(
                f"the node refused the anchor of checkpoint {anchor.tree_size} "
                f"(nonce {tx.nonce}): {exc}"
            ) from exc
        now = self.clock()
        with self.db.engine.begin() as conn:
            repo.update_transaction(conn, tx.tx_hash, broadcast_at=now)
            repo.update_anchor(
                conn,
                anchor.id,
                state="submitted",
                tx_hash=tx.tx_hash,
                submitted_at=anchor.submitted_at or now,
            )
            anchor = repo.get_anchor(conn, anchor.id)
        if action == "resent":
            log.info("re-sent 0x%s for checkpoint %d", tx.tx_hash.hex(), anchor.tree_size)
        message = f"0x{tx.tx_hash.hex()} sent with nonce {tx.nonce}"
        return StepReport(action, message, anchor)

    def _track_mined(
        self, anchor: repo.AnchorRecord, tx: repo.TxRecord, mined: MinedTx, head: int
    ) -> StepReport:
        if not mined.success:
            # A self-send of calldata runs no code: only too little gas could fail it. Its
            # nonce is spent, so the anchor moves on to a fresh one with the exact gas.
            nonce = self.chain.nonce(anchor.sender, "pending")
            with self.db.engine.begin() as conn:
                repo.update_anchor(conn, anchor.id, nonce=nonce, block_number=None)
                repo.update_transaction(conn, tx.tx_hash, rejected="mined but failed")
            raise AnchoringError(
                f"0x{mined.tx_hash.hex()} was mined but failed; re-anchoring with nonce {nonce}"
            )
        moved = anchor.block_hash is not None and anchor.block_hash != mined.block_hash
        if moved:
            log.warning(
                "reorg: the anchor of checkpoint %d moved from block %s to block %d",
                anchor.tree_size,
                anchor.block_number,
                mined.block_number,
            )
        depth = head - mined.block_number + 1
        values: dict[str, Any] = {
            "state": "submitted",
            "tx_hash": mined.tx_hash,
            "block_number": mined.block_number,
            "block_hash": mined.block_hash,
            "gas_used": mined.gas_used,
            "effective_gas_price": mined.effective_gas_price,
            "reorgs": anchor.reorgs + (1 if moved else 0),
            "submitted_at": anchor.submitted_at or self.clock(),
        }
        action, message = (
            "mined",
            (
                f"in block {mined.block_number}, {max(depth, 0)} of "
                f"{anchor.confirmations} confirmations"
            ),
        )
        if depth >= anchor.confirmations and self._canonical(anchor, mined):
            values.update(state="confirmed", confirmed_at=self.clock())
            action, message = (
                "confirmed",
                (
                    f"checkpoint {anchor.tree_size} anchored by 0x{mined.tx_hash.hex()} in block "
                    f"{mined.block_number} ({depth} confirmations, {mined.gas_used} gas)"
                ),
            )
        with self.db.engine.begin() as conn:
            repo.update_anchor(conn, anchor.id, **values)
            anchor = repo.get_anchor(conn, anchor.id)
        if action == "confirmed":
            log.info("%s", message)
        return StepReport(action, message, anchor)

    def _canonical(self, anchor: repo.AnchorRecord, mined: MinedTx) -> bool:
        """Whether the block of ``mined`` is the chain's block at its height, carrying our data."""
        if self.chain.block_hash(mined.block_number) != mined.block_hash:
            return False
        onchain = self.chain.transaction(mined.tx_hash)
        if onchain is None or onchain.block_hash != mined.block_hash:
            return False
        if onchain.data != anchor.calldata or onchain.sender.lower() != anchor.sender.lower():
            raise AnchoringError(
                f"0x{mined.tx_hash.hex()} does not carry the anchor of checkpoint "
                f"{anchor.tree_size}; refusing to confirm it"
            )
        return True
