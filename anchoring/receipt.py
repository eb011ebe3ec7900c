"""Self-contained anchor receipts: one entry, proven into an anchored checkpoint.

A receipt carries everything a third party needs besides a chain node: the entry's exact
bytes, its leaf hash, the inclusion proof to the anchored tree, the signed checkpoint note and
its verifier key, and the anchor (chain id, sender, transaction, block, calldata). Offline,
:func:`verify_offline` checks the proof, the signature and that the calldata carries the
checkpoint; :func:`verify_on_chain` then checks, against any node, that the transaction is on
the chain, canonical, deep enough and carries those bytes.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection

from anchoring import repository as repo
from anchoring.encoding import AnchorPayload
from anchoring.errors import AnchoringError
from api.errors import NotFound
from api.log import proofs
from api.log import repository as log_repo
from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.errors import VerificationError
from ledger.merkle import leaf_hash, verify_inclusion
from ledger.note import NoteVerifier

if TYPE_CHECKING:
    from anchoring.chain import Web3Chain

FORMAT: Final = "jiuyuan-anchor-receipt/1"

_HEX32 = r"^[0-9a-f]{64}$"
_HEX32_0X = r"^0x[0-9a-f]{64}$"
_ADDRESS = r"^0x[0-9a-fA-F]{40}$"


class ReceiptEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seq: int = Field(ge=0)
    data: str = Field(description="base64 of the entry's exact canonical JSON bytes")
    leaf_hash: str = Field(pattern=_HEX32, description="hex SHA-256(0x00 || data)")


class ReceiptInclusion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    leaf_index: int = Field(ge=0)
    tree_size: int = Field(ge=1)
    proof: list[str] = Field(description="hex hashes, leaf to root (RFC 9162 §2.1.3)")


class ReceiptCheckpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field(description="the C2SP signed checkpoint note of tree_size")
    verifier_key: str = Field(description="the log's note verifier key (name+hash+key)")


class ReceiptAnchor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    chain_id: int = Field(ge=1)
    sender: str = Field(pattern=_ADDRESS, description="the log's anchoring address")
    tx_hash: str = Field(pattern=_HEX32_0X)
    block_number: int = Field(ge=0)
    block_hash: str = Field(pattern=_HEX32_0X)
    calldata: str = Field(
        pattern=r"^0x([0-9a-f]{2})*$", description="the transaction's input: 52 bytes"
    )
    confirmations: int = Field(ge=1, description="depth the log waited for before confirming")


class Receipt(BaseModel):
    """An entry's anchor receipt (docs/anchoring.md shows one)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["jiuyuan-anchor-receipt/1"] = FORMAT
    entry: ReceiptEntry
    inclusion: ReceiptInclusion
    checkpoint: ReceiptCheckpoint
    anchor: ReceiptAnchor


@dataclass(frozen=True)
class Check:
    """One verification step and its outcome (``ok`` None: not checked, an earlier one failed)."""

    name: str
    ok: bool | None
    detail: str


class EntryNotFound(NotFound):
    code = "entry_not_found"


class NotAnchored(NotFound):
    code = "not_anchored"


def build_receipt(conn: Connection, seq: int, verifier_key: str) -> Receipt:
    """Return the receipt of entry ``seq`` against its earliest confirmed anchor.

    The receipt is verified offline before it is returned, so damaged storage never yields a
    receipt that does not check.

    :raises EntryNotFound: if there is no entry ``seq``.
    :raises NotAnchored: if no confirmed anchor covers it yet.
    :raises AnchoringError: if the stored data do not verify.
    """
    entry = log_repo.get_entry(conn, seq)
    if entry is None:
        size = log_repo.log_size(conn)
        raise EntryNotFound(f"there is no entry {seq}; the log has {size} entries")
    anchor = repo.anchor_covering(conn, seq)
    if anchor is None:
        raise NotAnchored(
            f"entry {seq} is not anchored yet; a receipt exists once a checkpoint covering it "
            "is anchored and confirmed on chain (see GET /v1/anchors)"
        )
    checkpoint = log_repo.checkpoint_at(conn, anchor.tree_size)
    if checkpoint is None or anchor.tx_hash is None or anchor.block_hash is None:
        raise AnchoringError(f"anchor of tree size {anchor.tree_size} lacks its checkpoint or tx")
    assert anchor.block_number is not None
    path = proofs.inclusion_proof(conn, seq, anchor.tree_size)
    receipt = Receipt(
        entry=ReceiptEntry(
            seq=seq,
            data=base64.b64encode(entry.data).decode("ascii"),
            leaf_hash=entry.leaf_hash.hex(),
        ),
        inclusion=ReceiptInclusion(
            leaf_index=seq, tree_size=anchor.tree_size, proof=[h.hex() for h in path]
        ),
        checkpoint=ReceiptCheckpoint(note=checkpoint.note, verifier_key=verifier_key),
        anchor=ReceiptAnchor(
            chain_id=anchor.chain_id,
            sender=anchor.sender,
            tx_hash="0x" + anchor.tx_hash.hex(),
            block_number=anchor.block_number,
            block_hash="0x" + anchor.block_hash.hex(),
            calldata="0x" + anchor.calldata.hex(),
            confirmations=anchor.confirmations,
        ),
    )
    failed = [c for c in verify_offline(receipt) if not c.ok]
    if failed:
        raise AnchoringError(f"receipt of entry {seq} does not verify: {failed[0].detail}")
    return receipt


def parse_receipt(text: str) -> Receipt:
    """Parse a receipt document strictly.

    :raises VerificationError: if it is not JSON or not a receipt of this format.
    """
    try:
        return Receipt.model_validate_json(text)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        first = str(exc).splitlines()
        raise VerificationError(
            f"not a {FORMAT} document: {' '.join(first[:3]) if first else exc}"
        ) from None


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


class _Steps:
    """Numbered checks, each skipped once one it depends on has failed."""

    def __init__(self) -> None:
        self.checks: list[Check] = []

    def run(self, name: str, fn: Callable[[], str], *, needs: tuple[str, ...] = ()) -> bool:
        if any(c.name in needs and not c.ok for c in self.checks):
            self.checks.append(Check(name, None, "not checked: " + ", ".join(needs) + " failed"))
            return False
        try:
            detail = fn()
        except (VerificationError, ValueError, binascii.Error) as exc:
            self.checks.append(Check(name, False, str(exc)))
            return False
        self.checks.append(Check(name, True, detail))
        return True


def verify_offline(receipt: Receipt, *, key: str | None = None) -> list[Check]:
    """Check a receipt without any network: entry, signature, inclusion, calldata.

    ``key`` pins the log's verifier key (obtained out of band); without it the key inside the
    receipt is used, which proves integrity but not who signed.
    """
    steps = _Steps()
    found: dict[str, object] = {}

    # 1. The entry's bytes hash to its leaf hash, and say they are entry `seq`.
    def entry() -> str:
        data = base64.b64decode(receipt.entry.data, validate=True)
        if leaf_hash(data) != bytes.fromhex(receipt.entry.leaf_hash):
            raise VerificationError("leaf hash is not SHA-256(0x00 || entry bytes)")
        try:
            seq = json.loads(data).get("seq")
        except (ValueError, AttributeError, RecursionError):
            raise VerificationError("entry bytes are not a JSON object") from None
        if seq != receipt.entry.seq or receipt.inclusion.leaf_index != receipt.entry.seq:
            raise VerificationError(
                f"entry says seq {seq}, receipt says {receipt.entry.seq}, proof is for leaf "
                f"{receipt.inclusion.leaf_index}"
            )
        return f"entry {seq}: {len(data)} bytes, leaf hash {receipt.entry.leaf_hash[:16]}…"

    steps.run("entry", entry)

    # 2. The checkpoint note is signed by the verifier key (the pinned one, when given).
    def signature() -> str:
        if key is not None and key.strip() != receipt.checkpoint.verifier_key:
            raise VerificationError("the receipt's verifier key is not the pinned key")
        verifier = NoteVerifier.from_verifier_key(receipt.checkpoint.verifier_key)
        checkpoint = verify_checkpoint(receipt.checkpoint.note, verifier)
        found["checkpoint"] = checkpoint
        pinned = "pinned key" if key is not None else "key in the receipt (not pinned)"
        return f"checkpoint {checkpoint.origin!r} size {checkpoint.size}, signed by {pinned}"

    steps.run("signature", signature)

    # 3. The entry is in the checkpoint's tree.
    def inclusion() -> str:
        checkpoint = found["checkpoint"]
        assert isinstance(checkpoint, Checkpoint)
        if receipt.inclusion.tree_size != checkpoint.size:
            raise VerificationError(
                f"proof is for tree size {receipt.inclusion.tree_size}, "
                f"the checkpoint for {checkpoint.size}"
            )
        proof = [bytes.fromhex(h) for h in receipt.inclusion.proof]
        verify_inclusion(
            bytes.fromhex(receipt.entry.leaf_hash),
            receipt.inclusion.leaf_index,
            checkpoint.size,
            proof,
            checkpoint.root_hash,
        )
        return f"leaf {receipt.inclusion.leaf_index} of {checkpoint.size}, {len(proof)} hashes"

    steps.run("inclusion", inclusion, needs=("entry", "signature"))

    # 4. The anchor's calldata carries exactly this checkpoint.
    def calldata() -> str:
        checkpoint = found["checkpoint"]
        assert isinstance(checkpoint, Checkpoint)
        payload = AnchorPayload.decode(_unhex(receipt.anchor.calldata))
        if not payload.matches(checkpoint):
            raise VerificationError("the anchor's calldata does not carry this checkpoint")
        return f"calldata carries origin, size {payload.tree_size} and root"

    steps.run("calldata", calldata, needs=("signature",))
    return steps.checks


def verify_on_chain(
    receipt: Receipt,
    chain: Web3Chain,
    *,
    confirmations: int | None = None,
    sender: str | None = None,
) -> list[Check]:
    """Check a receipt's anchor against a chain node.

    ``confirmations`` is the depth to demand (default: the receipt's own); ``sender`` pins the
    log's anchoring address (obtained out of band).

    :raises ChainUnavailable: if the node cannot be reached.
    """
    anchor = receipt.anchor
    tx_hash = _unhex(anchor.tx_hash)
    steps = _Steps()
    depth_wanted = confirmations if confirmations is not None else anchor.confirmations

    # 5. The node serves the receipt's chain.
    def chain_id() -> str:
        actual = chain.chain_id()
        if actual != anchor.chain_id:
            raise VerificationError(
                f"the node is on chain {actual}, the anchor on {anchor.chain_id}"
            )
        return f"chain {actual}"

    if not steps.run("chain", chain_id):
        return steps.checks

    # 6. The transaction exists, from the log's address, carrying exactly the calldata.
    def transaction() -> str:
        tx = chain.transaction(tx_hash)
        if tx is None:
            raise VerificationError(f"the node knows no transaction {anchor.tx_hash}")
        if tx.sender.lower() != anchor.sender.lower():
            raise VerificationError(f"sent by {tx.sender}, not {anchor.sender}")
        if sender is not None and tx.sender.lower() != sender.lower():
            raise VerificationError(f"sent by {tx.sender}, not the pinned sender {sender}")
        if tx.data != _unhex(anchor.calldata):
            raise VerificationError("the transaction's input is not the receipt's calldata")
        return f"{anchor.tx_hash[:18]}… from {tx.sender} carries the calldata"

    steps.run("transaction", transaction)

    # 7. Mined successfully in the receipt's block, which is the canonical one at that height.
    def block() -> str:
        mined = chain.receipt(tx_hash)
        if mined is None:
            raise VerificationError("the transaction is not in a block")
        if not mined.success:
            raise VerificationError("the transaction failed")
        if mined.block_number != anchor.block_number or mined.block_hash != _unhex(
            anchor.block_hash
        ):
            raise VerificationError(
                f"mined in block {mined.block_number} (0x{mined.block_hash.hex()}), not the "
                f"receipt's {anchor.block_number} ({anchor.block_hash})"
            )
        if chain.block_hash(anchor.block_number) != mined.block_hash:
            raise VerificationError(f"block {anchor.block_number} is no longer canonical")
        return f"in canonical block {anchor.block_number}"

    steps.run("block", block, needs=("transaction",))

    # 8. Deep enough.
    def depth() -> str:
        depth = chain.head() - anchor.block_number + 1
        if depth < depth_wanted:
            raise VerificationError(f"{depth} confirmations, {depth_wanted} wanted")
        return f"{depth} confirmations (≥ {depth_wanted})"

    steps.run("confirmations", depth, needs=("block",))
    return steps.checks
