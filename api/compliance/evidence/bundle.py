"""The evidence bundle format, ``jiuyuan-evidence/1`` (docs/compliance.md shows one).

One JSON document: the alert as the compliance officer saw it, the log's origin and verifier
key, one signed checkpoint, and every ledger entry the alert rests on — its exact canonical
bytes with an inclusion proof into that checkpoint, plus, where an entry stands for a list
(the case codes of a transfer, the consumer scans an alert observed), the proof that the
relevant item is in that list. Anchor receipts (``jiuyuan-anchor-receipt/1``) are added for
entries whose checkpoint is anchored on chain.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from anchoring.receipt import Receipt

FORMAT = "jiuyuan-evidence/1"
_HEX32 = r"^[0-9a-f]{64}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MerkleMember(_Strict):
    """``item`` is leaf ``index`` of the list of ``size`` items whose root is the entry
    payload's ``root_field`` (and whose length is its ``count_field``)."""

    kind: Literal["merkle"] = "merkle"
    item: Any = Field(description="leaf = SHA-256(0x00 ‖ RFC 8785 JSON of the item)")
    root_field: str
    count_field: str
    index: int = Field(ge=0)
    size: int = Field(ge=1)
    proof: list[str] = Field(description="hex, leaf to root (RFC 9162)")


class ListedMember(_Strict):
    """``item`` is written out in the entry payload's ``field``: one of its items when the
    field is a list, the field itself otherwise."""

    kind: Literal["listed"] = "listed"
    item: Any
    field: str


class BundleEntry(_Strict):
    seq: int = Field(ge=0)
    role: str = Field(description="why the entry is here: alert.raised, signal:…, decision, …")
    data: str = Field(description="base64 of the entry's exact canonical JSON bytes")
    leaf_hash: str = Field(pattern=_HEX32)
    proof: list[str] = Field(description="inclusion proof into the bundle's checkpoint (hex)")
    members: list[MerkleMember | ListedMember] = Field(default_factory=list)


class BundleLog(_Strict):
    origin: str
    verifier_key: str = Field(description="the log's note verifier key (name+hash+key)")


class BundleCheckpoint(_Strict):
    tree_size: int = Field(ge=1)
    note: str = Field(description="the C2SP signed checkpoint note")


class Bundle(_Strict):
    format: Literal["jiuyuan-evidence/1"] = "jiuyuan-evidence/1"
    exported_at: str
    alert: dict[str, Any] = Field(description="the alert as shown to people (not itself proof)")
    alert_id: str
    log: BundleLog
    checkpoint: BundleCheckpoint
    entries: list[BundleEntry]
    anchors: list[Receipt] = Field(default_factory=list)
