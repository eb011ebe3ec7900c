"""The anchoring benchmark: what anchoring costs on chain, and what a receipt weighs.

* Gas per anchor, measured on anvil (``node_modules/.bin/anvil``; web3's in-process chain when
  it is missing), next to a plain ether transfer sent in the same run (21,000 gas).
* Transactions per day at the default interval (600 s): the real anchorer driven through a
  simulated day on a settable clock, at two entry volumes, next to one transaction per entry.
* Receipt size at 1M and 100M entries: a real receipt (a real entry, note and anchor) whose
  proof has ⌈log2 n⌉ hashes (the longest an inclusion proof gets), next to the entry's bytes;
  at 1M the proof is computed and verified from a real tree of 1M leaves.
"""

from __future__ import annotations

import math
import os
import statistics
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from anchoring.anchorer import AnchorPolicy, Web3Anchorer
from anchoring.chain import IN_PROCESS, Web3Chain
from anchoring.devchain import Anvil, find_anvil, free_port
from anchoring.keys import AnchorKey
from anchoring.receipt import build_receipt, verify_offline
from api.config import Settings
from api.db import Database
from api.log.sequencer import Submission
from api.log.service import LogService
from bench.postgres import fresh_schema
from bench.report import Baseline, Options, Row, Target, note
from ledger.merkle import inclusion_proof, leaf_hash, root, verify_inclusion
from ledger.note import NoteSigner

ORIGIN = "bench.jiuyuan.local/log"
ROOT = Path(__file__).resolve().parents[1]
GAS_TARGET = 23_000
DAY_S = 86_400
TICK_S = 300  # the simulated worker looks at the chain every 5 minutes
VOLUMES = (10, 1_000)  # entries per simulated 5 minutes: 2,880 and 288,000 a day
SIZES = (1_000_000, 100_000_000)


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def run(options: Options, base_url: str) -> list[Row]:
    binary = find_anvil(ROOT)
    anvil = Anvil(binary, free_port()) if binary is not None else None
    if anvil is not None:
        anvil.start()
    where = "anvil" if anvil is not None else "web3 in-process chain (no anvil)"
    try:
        rows = _gas(anvil, where, options)
        for volume in VOLUMES:
            with fresh_schema(base_url, "bench_anchor") as url:
                rows.append(_per_day(url, anvil, volume))
        with fresh_schema(base_url, "bench_anchor") as url:
            rows += _receipt_sizes(url, anvil)
    finally:
        if anvil is not None:
            anvil.stop()
    return rows


def _chain(anvil: Anvil | None, key: AnchorKey) -> Web3Chain:
    if anvil is None:
        chain = Web3Chain.connect(IN_PROCESS)
        chain.fund_in_process(key.address, 10**21)
        return chain
    anvil.fund(key.address)
    return Web3Chain.connect(anvil.url)


def _gas(anvil: Anvil | None, where: str, options: Options) -> list[Row]:
    """Anchor ``reps`` random checkpoints and send as many plain transfers, interleaved."""
    key = AnchorKey.generate()
    chain = _chain(anvil, key)
    chain_id = chain.chain_id()
    reps = max(3, options.reps)
    note(f"anchoring gas: {reps} anchors and {reps} plain transfers on {where}")
    anchors: list[int] = []
    transfers: list[int] = []
    nonce = chain.nonce(key.address, "pending")
    for _ in range(reps):
        payload = b"JYA\x01" + os.urandom(8) + (1_000_000).to_bytes(8, "big") + os.urandom(32)
        for data, sink in ((payload, anchors), (b"", transfers)):
            quote = chain.fee_quote()
            signed = key.sign(
                {
                    "type": 2,
                    "chainId": chain_id,
                    "nonce": nonce,
                    "to": key.address,
                    "value": 0,
                    "data": data,
                    "gas": 30_000,
                    "maxFeePerGas": 2 * quote.base_fee + quote.priority_fee,
                    "maxPriorityFeePerGas": quote.priority_fee,
                }
            )
            chain.broadcast(signed.raw)
            nonce += 1
            mined = chain.receipt(signed.tx_hash)
            assert mined is not None and mined.success, "automine should mine at once"
            sink.append(mined.gas_used)
    gas = statistics.median(anchors)
    transfer = statistics.median(transfers)
    return [
        Row(
            section=f"Anchoring (calldata, on {where})",
            measure="gas per anchor (52 bytes of calldata)",
            figure=f"{gas:,.0f} gas",
            runs=f"median of {reps}",
            baselines=[Baseline("plain ether transfer", f"{transfer:,.0f} gas", gas / transfer)],
            targets=[Target(f"≤ {GAS_TARGET:,} gas", gas <= GAS_TARGET)],
        )
    ]


def _per_day(url: str, anvil: Anvil | None, volume: int) -> Row:
    """The real anchorer over a simulated day with ``volume`` entries every 5 minutes."""
    note(f"transactions per day: a simulated day at {volume * DAY_S // TICK_S:,} entries/day")
    db = Database(url)
    signer = NoteSigner.generate(ORIGIN)
    log = LogService(db, Settings(database_url=url, log_origin=ORIGIN), signer, background=False)
    key = AnchorKey.generate()
    clock = _Clock()
    anchorer = Web3Anchorer(
        db,
        _chain(anvil, key),
        key,
        signer.verifier(),
        ORIGIN,
        AnchorPolicy(interval_s=600, confirmations=1, max_fee_wei=10**12, stuck_after_s=180),
        clock=clock,
    )
    sent = entries = 0
    try:
        for _ in range(DAY_S // TICK_S):
            subs = [
                Submission.of(str(uuid.uuid4()), "bench.entry", {"n": n}) for n in range(volume)
            ]
            log.sequencer.append(subs)
            log.checkpoint_now()
            entries += volume
            # Two looks per tick: a new anchor is sent and, with automine, confirmed.
            for _look in range(2):
                if anchorer.step().action == "submitted":
                    sent += 1
            clock.now += timedelta(seconds=TICK_S)
    finally:
        log.close()
        db.dispose()
    return Row(
        section="Anchoring (calldata)",
        measure=f"transactions/day at 600 s, {entries:,} entries/day",
        figure=f"{sent:,} tx",
        runs="1 simulated day",
        baselines=[Baseline("one transaction per entry", f"{entries:,} tx", sent / entries)],
        targets=[Target("= 86,400 / 600 = 144", sent == DAY_S // 600)],
    )


def _receipt_sizes(url: str, anvil: Anvil | None) -> list[Row]:
    """A real receipt from a small anchored log; its proof then set to the length at size n."""
    note("receipt size: a real receipt, and a real 1M-leaf proof")
    db = Database(url)
    signer = NoteSigner.generate(ORIGIN)
    log = LogService(db, Settings(database_url=url, log_origin=ORIGIN), signer, background=False)
    key = AnchorKey.generate()
    anchorer = Web3Anchorer(
        db,
        _chain(anvil, key),
        key,
        signer.verifier(),
        ORIGIN,
        AnchorPolicy(interval_s=600, confirmations=1, max_fee_wei=10**12, stuck_after_s=180),
    )
    payload: dict[str, Any] = {
        "lot": "L20261125A",
        "gtin": "06901234567892",
        "bottles": 1200,
        "line": "灌装线 3",
    }
    try:
        log.sequencer.append([Submission.of(str(uuid.uuid4()), "production.batch", payload)])
        log.checkpoint_now()
        while anchorer.step().action != "confirmed":
            pass
        with db.engine.connect() as conn:
            receipt = build_receipt(conn, 0, signer.verifier_key())
    finally:
        log.close()
        db.dispose()
    entry_size = len(receipt.entry.data) * 3 // 4
    # A real 1M-leaf tree: the proof of its last leaf is computed and verified.
    leaves = [leaf_hash(i.to_bytes(8, "big")) for i in range(SIZES[0])]
    real = inclusion_proof(leaves, SIZES[0] - 1, SIZES[0])
    verify_inclusion(leaves[-1], SIZES[0] - 1, SIZES[0], real, root(leaves))
    rows = []
    for size in SIZES:
        hashes = math.ceil(math.log2(size))
        proof = [h.hex() for h in real] if size == SIZES[0] and len(real) == hashes else None
        proof = proof or [os.urandom(32).hex() for _ in range(hashes)]
        sized = receipt.model_copy(
            update={"inclusion": receipt.inclusion.model_copy(update={"proof": proof})}
        )
        assert verify_offline(sized)[0].ok  # the entry part is still the real one
        text = sized.model_dump_json(indent=2)
        rows.append(
            Row(
                section="Anchoring (calldata)",
                measure=f"receipt at {size:,} entries ({hashes} proof hashes)",
                figure=f"{len(text.encode()):,} B",
                runs="1",
                baselines=[
                    Baseline("the entry's own bytes", f"{entry_size:,} B", len(text) / entry_size)
                ],
                targets=[Target("proof = ⌈log2 n⌉ hashes", len(proof) == hashes)],
            )
        )
    return rows
