"""Request and response models for entries and proofs."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

KIND_PATTERN = r"^[a-z][a-z0-9_.\-]{0,63}$"


class EntryIn(BaseModel):
    """One entry as a client submits it; ``seq`` and ``ts`` are added by the sequencer."""

    model_config = ConfigDict(extra="forbid")

    id: UUID = Field(description="Client-chosen UUID; resubmitting it returns the original seq.")
    kind: str = Field(
        pattern=KIND_PATTERN,
        description="What the entry records, e.g. `production.batch` (lower case, ≤ 64 chars).",
    )
    payload: dict[str, Any] = Field(
        description="A JSON object. Numbers must be integers (money in fen, quantities in units)."
    )


class AppendedEntry(BaseModel):
    seq: int
    id: str
    leaf_hash: str = Field(description="hex")
    chain_hash: str = Field(description="hex")
    ts: str
    duplicate: bool = Field(description="true when this id was already in the log (a retry)")


class AppendResult(BaseModel):
    entries: list[AppendedEntry]


class InclusionProofOut(BaseModel):
    checkpoint: str = Field(description="The signed checkpoint note the proof leads to.")
    tree_size: int
    root_hash: str = Field(description="hex")
    proof: list[str] = Field(description="hex hashes, leaf to root (RFC 9162 §2.1.3)")


class PendingProof(BaseModel):
    status: Literal["pending"] = "pending"
    message: str


class EntryOut(BaseModel):
    seq: int
    id: str
    kind: str
    ts: str
    payload: dict[str, Any]
    data: str = Field(description="base64 of the exact canonical bytes that were hashed")
    leaf_hash: str
    chain_hash: str
    inclusion: InclusionProofOut | PendingProof | None = Field(
        default=None, description="present with ?proof=true"
    )


class ProofOut(BaseModel):
    proof: list[str]
