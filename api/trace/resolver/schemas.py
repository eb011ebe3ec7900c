"""The lookup's response: what a scanning client shows and verifies."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Verdict(BaseModel):
    status: Literal["genuine", "suspicious", "unknown"]
    reasons: list[str] = Field(description="Why, in plain words; empty when genuine.")


class Membership(BaseModel):
    """Proof that ``item`` is in the list whose Merkle root the entry's payload carries."""

    item: Any = Field(
        description="The list item: a code's Digital Link path, or a reading object; its leaf "
        "is SHA-256(0x00 ‖ RFC 8785 JSON of the item)."
    )
    index: int
    size: int
    root: str = Field(description="hex; equals the payload's codes_root / readings_root")
    proof: list[str] = Field(description="hex, leaf to root (RFC 9162)")


class Anchor(BaseModel):
    chain_id: int
    tree_size: int = Field(description="The anchored checkpoint's tree size.")
    root_hash: str
    tx_hash: str | None
    block_number: int | None
    block_hash: str | None
    state: str


class ProvenEntry(BaseModel):
    """A ledger entry and its inclusion proof, shaped as ``GET /v1/entries/{seq}?proof=true``
    with the proof fields also at the top level."""

    role: str = Field(description="What the entry is to this bottle: product, blend, packed…")
    seq: int | None = Field(description="None while the entry waits to be sequenced.")
    id: str
    kind: str
    ts: str | None
    payload: dict[str, Any]
    data: str | None = Field(description="base64 of the exact canonical bytes that were hashed")
    leaf_hash: str | None
    chain_hash: str | None
    tree_size: int | None = Field(description="The checkpoint the proof leads to.")
    proof: list[str] | None = Field(description="hex inclusion proof (RFC 9162 §2.1.3)")
    status: Literal["proven", "pending"]
    member: Membership | None = None
    anchor: Anchor | None = Field(
        default=None,
        description="The confirmed public-chain anchor covering this entry (one per answer: it "
        "covers every entry shown).",
    )


class CheckpointOut(BaseModel):
    tree_size: int
    root_hash: str
    note: str = Field(description="The signed checkpoint (C2SP signed note).")
    verifier_key: str


class ProductInfo(BaseModel):
    gtin: str
    name_zh: str
    name_en: str
    volume_ml: int
    abv: str
    aroma: str
    aroma_zh: str
    case_size: int


class BaseLiquorInfo(BaseModel):
    lot: str
    vintage: int
    distillery: str
    grade: str
    tank: str
    abv_permille: int
    volume_ml: int = Field(description="Volume of this lot in the blend.")
    share_bp: int = Field(description="Share of the blend in basis points.")


class BlendInfo(BaseModel):
    blend_no: str
    blender: str
    blended_on: str
    abv_permille: int
    volume_ml: int
    notes: str
    base_liquors: list[BaseLiquorInfo]


class BatchInfo(BaseModel):
    lot: str
    line: str
    bottled_on: str
    planned_qty: int
    status: str
    recall_reason: str | None = None


class CustodyStep(BaseModel):
    event: str
    at: str = Field(description="Asia/Shanghai time")
    region: str | None
    entry: int = Field(description="Index into `entries` of the ledger entry recording it.")


class Excursion(BaseModel):
    hour: str
    metric: Literal["temperature", "humidity"]
    direction: Literal["above", "below"]
    readings: int
    peak: str
    limit: str
    entry_id: str = Field(description="The hourly ledger entry that records it.")
    entry: int | None = Field(default=None, description="Index into `entries`.")


class StorageLeg(BaseModel):
    zone: str
    name: str
    kind: str
    region: str | None
    since: str
    until: str | None
    hours: int
    readings: int
    temperature_c: dict[str, str] | None = Field(description="min / max / mean, °C")
    humidity_rh: dict[str, str] | None = Field(description="min / max / mean, %RH")
    excursions: list[Excursion]


class Scans(BaseModel):
    count: int
    first_scan_at: str | None
    distinct_devices: int
    recorded: bool = Field(description="Whether this lookup was recorded as a scan.")


class CodeInfo(BaseModel):
    uri: str
    kind: str
    state: str
    serial: str
    case: str | None = None


class Lookup(BaseModel):
    verdict: Verdict
    code: CodeInfo | None
    product: ProductInfo
    batch: BatchInfo | None
    blend: BlendInfo | None
    storage: list[StorageLeg]
    custody: list[CustodyStep]
    scans: Scans | None
    checkpoint: CheckpointOut | None = Field(
        description="The checkpoint every proof leads to (None before the first one)."
    )
    entries: list[ProvenEntry]
