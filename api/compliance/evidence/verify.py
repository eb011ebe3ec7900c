"""Offline verification of an evidence bundle: no database, no network, only ``ledger/``.

Each check is a numbered step; a step whose inputs failed is reported as not checked. The
bundle is good only when every step passed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from anchoring.receipt import verify_offline as verify_receipt
from api.compliance.evidence.bundle import Bundle, BundleEntry, ListedMember, MerkleMember
from ledger.canonical import canonical_json
from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.errors import LedgerError, VerificationError
from ledger.merkle import leaf_hash, verify_inclusion
from ledger.note import NoteVerifier

ALERT_KINDS = ("compliance.alert.raised", "compliance.alert.updated")
DECISION_KINDS = ("compliance.alert.decided", "compliance.alert.appealed")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None
    """None: not checked, because a step it needs failed."""
    detail: str


def parse_bundle(text: str) -> Bundle:
    """Parse a bundle strictly.

    :raises VerificationError: if it is not JSON or not a ``jiuyuan-evidence/1`` document.
    """
    try:
        return Bundle.model_validate_json(text)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError
        lines = str(exc).splitlines()
        raise VerificationError(
            f"not a jiuyuan-evidence/1 document: {' '.join(lines[:3]) if lines else exc}"
        ) from None


class _Steps:
    def __init__(self) -> None:
        self.checks: list[Check] = []
        self.failed: set[str] = set()

    def run(self, name: str, fn: Callable[[], str], *, needs: tuple[str, ...] = ()) -> None:
        blocked = [n for n in needs if n in self.failed]
        if blocked:
            self.checks.append(Check(name, None, "not checked: " + ", ".join(blocked) + " failed"))
            self.failed.add(name)
            return
        try:
            detail = fn()
        except (LedgerError, ValueError, KeyError, TypeError, binascii.Error) as exc:
            self.checks.append(Check(name, False, str(exc) or type(exc).__name__))
            self.failed.add(name)
            return
        self.checks.append(Check(name, True, detail))


def verify_bundle(bundle: Bundle, *, key: str | None = None) -> list[Check]:
    """Check every proof in ``bundle``; ``key`` pins the log's verifier key (obtained out of
    band). Without it the key in the bundle is used: that proves integrity, not authorship."""
    steps = _Steps()
    found: dict[str, Any] = {}

    # 1. The checkpoint is signed by the log's key, for the log's origin.
    def checkpoint() -> str:
        if key is not None and key.strip() != bundle.log.verifier_key:
            raise VerificationError("the bundle's verifier key is not the pinned key")
        verifier = NoteVerifier.from_verifier_key(bundle.log.verifier_key)
        cp = verify_checkpoint(bundle.checkpoint.note, verifier, bundle.log.origin)
        if cp.size != bundle.checkpoint.tree_size:
            raise VerificationError(
                f"the note is for tree size {cp.size}, "
                f"the bundle says {bundle.checkpoint.tree_size}"
            )
        found["checkpoint"] = cp
        who = "the pinned key" if key is not None else "the key in the bundle (not pinned)"
        return f"{cp.origin!r} tree size {cp.size}, signed by {who}"

    steps.run("checkpoint", checkpoint)

    # 2. Each entry: its bytes, its leaf hash, its proof into the checkpoint, its list items.
    entries: dict[int, dict[str, Any]] = {}
    for entry in bundle.entries:
        name = f"entry {entry.seq} ({entry.role})"
        steps.run(name, _entry_check(entry, found, entries), needs=("checkpoint",))

    # 3. The alert: its own entry names it, the signals' entries are all here, and the
    #    decisions and appeals follow one another from the state it was raised in.
    steps.run(
        "alert",
        lambda: _alert_check(bundle, entries),
        needs=tuple(f"entry {e.seq} ({e.role})" for e in bundle.entries),
    )

    # 4. Anchor receipts: each checks offline and is for an entry of the bundle, same bytes.
    for receipt in bundle.anchors:
        name = f"anchor of entry {receipt.entry.seq}"
        steps.run(name, _anchor_check(bundle, receipt, key))
    return steps.checks


def _entry_check(
    entry: BundleEntry, found: dict[str, Any], entries: dict[int, dict[str, Any]]
) -> Callable[[], str]:
    def check() -> str:
        cp = found["checkpoint"]
        assert isinstance(cp, Checkpoint)
        data = base64.b64decode(entry.data, validate=True)
        # 2a. The leaf hash is SHA-256(0x00 || bytes) and the bytes are a canonical entry.
        if leaf_hash(data) != bytes.fromhex(entry.leaf_hash):
            raise VerificationError("leaf hash is not SHA-256(0x00 || entry bytes)")
        try:
            parsed = json.loads(data)
        except RecursionError:
            raise VerificationError("entry bytes nest deeper than any entry does") from None
        if not isinstance(parsed, dict) or canonical_json(parsed) != data:
            raise VerificationError("entry bytes are not RFC 8785 canonical JSON of an object")
        if parsed.get("seq") != entry.seq:
            raise VerificationError(f"entry bytes say seq {parsed.get('seq')}, not {entry.seq}")
        # 2b. The entry is leaf `seq` of the checkpoint's tree.
        if entry.seq >= cp.size:
            raise VerificationError(f"seq {entry.seq} is beyond the checkpoint's {cp.size}")
        proof = [bytes.fromhex(h) for h in entry.proof]
        verify_inclusion(leaf_hash(data), entry.seq, cp.size, proof, cp.root_hash)
        # 2c. Each item is in the list the payload stands for.
        payload = parsed.get("payload")
        if not isinstance(payload, dict):
            raise VerificationError("entry has no payload object")
        for member in entry.members:
            _member_check(member, payload)
        entries[entry.seq] = parsed
        listed = f", {len(entry.members)} list item(s) proven" if entry.members else ""
        return f"{parsed.get('kind')} at {parsed.get('ts')}: in tree {cp.size}{listed}"

    return check


def _member_check(member: MerkleMember | ListedMember, payload: dict[str, Any]) -> None:
    if isinstance(member, ListedMember):
        listed = payload.get(member.field)
        if member.item != listed and not (isinstance(listed, list) and member.item in listed):
            raise VerificationError(f"{member.item!r} is not in the payload's {member.field}")
        return
    root_hex = payload.get(member.root_field)
    if not isinstance(root_hex, str):
        raise VerificationError(f"the payload has no {member.root_field}")
    if payload.get(member.count_field) != member.size:
        raise VerificationError(
            f"the payload's {member.count_field} is {payload.get(member.count_field)}, "
            f"the proof is for a list of {member.size}"
        )
    verify_inclusion(
        leaf_hash(canonical_json(member.item)),
        member.index,
        member.size,
        [bytes.fromhex(h) for h in member.proof],
        bytes.fromhex(root_hex),
    )


def _alert_check(bundle: Bundle, entries: dict[int, dict[str, Any]]) -> str:
    by_id = {e["id"]: e for e in entries.values()}
    raised = [
        e
        for e in entries.values()
        if e["kind"] in ALERT_KINDS and e["payload"].get("alert") == bundle.alert_id
    ]
    if not raised:
        raise VerificationError(f"no entry raises alert {bundle.alert_id}")
    latest = max(raised, key=lambda e: e["seq"])
    wanted = [i for s in latest["payload"].get("signals", []) for i in s.get("entries", [])]
    missing = [i for i in wanted if i not in by_id]
    if missing:
        raise VerificationError(f"the alert rests on entry {missing[0]}, absent from the bundle")
    decisions = sorted(
        (
            e
            for e in entries.values()
            if e["kind"] in DECISION_KINDS and e["payload"].get("alert") == bundle.alert_id
        ),
        key=lambda e: e["seq"],
    )
    state = "new"
    for d in decisions:
        if d["payload"].get("from") != state:
            raise VerificationError(
                f"decision at seq {d['seq']} moves from {d['payload'].get('from')!r}, "
                f"but the alert was {state!r}"
            )
        state = d["payload"]["to"]
    if bundle.alert.get("state") not in (None, state):
        raise VerificationError(
            f"the bundle shows the alert {bundle.alert.get('state')!r}; its decisions say {state!r}"
        )
    return (
        f"alert {bundle.alert_id}: {latest['payload'].get('kind')} scored "
        f"{latest['payload'].get('score')}, {len(wanted)} signal entries present, "
        f"{len(decisions)} decision(s), now {state}"
    )


def _anchor_check(bundle: Bundle, receipt: Any, key: str | None) -> Callable[[], str]:
    def check() -> str:
        ours = next((e for e in bundle.entries if e.seq == receipt.entry.seq), None)
        if ours is None or ours.data != receipt.entry.data:
            raise VerificationError("the receipt is not for an entry of this bundle")
        failed = [
            c for c in verify_receipt(receipt, key=key or bundle.log.verifier_key) if not c.ok
        ]
        if failed:
            raise VerificationError(f"{failed[0].name}: {failed[0].detail}")
        return (
            f"anchored in tree {receipt.inclusion.tree_size} on chain {receipt.anchor.chain_id}, "
            f"tx {receipt.anchor.tx_hash[:18]}… (offline; check the chain itself with "
            "`jiuyuan receipt verify --rpc URL`)"
        )

    return check
