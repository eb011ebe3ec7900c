"""Response models of anchoring, for its endpoints and for other domains that show anchors."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from anchoring.repository import AnchorRecord
from ledger.canonical import format_ts


class AnchorOut(BaseModel):
    """One checkpoint's anchor on a chain, and how far it has got."""

    tree_size: int = Field(description="the anchored checkpoint's tree size")
    root_hash: str = Field(description="hex")
    state: Literal["pending", "submitted", "confirmed"]
    chain_id: int
    sender: str = Field(description="the log's anchoring address")
    nonce: int
    tx_hash: str | None = Field(description="0x-hex; the transaction last sent or mined")
    block_number: int | None
    block_hash: str | None
    confirmations: int = Field(description="blocks deep (its own counted) before confirmed")
    gas_used: int | None
    calldata: str = Field(description="0x-hex, 52 bytes (docs/anchoring.md)")
    reorgs: int = Field(description="times a reorg dropped or moved it before confirmation")
    created_at: str
    submitted_at: str | None
    confirmed_at: str | None

    @classmethod
    def of(cls, anchor: AnchorRecord) -> AnchorOut:
        """Render an anchor row for the API."""
        return cls(
            tree_size=anchor.tree_size,
            root_hash=anchor.root_hash.hex(),
            state=anchor.state,  # type: ignore[arg-type]  # the table's CHECK constraint
            chain_id=anchor.chain_id,
            sender=anchor.sender,
            nonce=anchor.nonce,
            tx_hash=None if anchor.tx_hash is None else "0x" + anchor.tx_hash.hex(),
            block_number=anchor.block_number,
            block_hash=None if anchor.block_hash is None else "0x" + anchor.block_hash.hex(),
            confirmations=anchor.confirmations,
            gas_used=anchor.gas_used,
            calldata="0x" + anchor.calldata.hex(),
            reorgs=anchor.reorgs,
            created_at=format_ts(anchor.created_at),
            submitted_at=None if anchor.submitted_at is None else format_ts(anchor.submitted_at),
            confirmed_at=None if anchor.confirmed_at is None else format_ts(anchor.confirmed_at),
        )


class AnchorList(BaseModel):
    anchors: list[AnchorOut]
    next_before: int | None = Field(
        description="pass as ?before= for the next (older) page; null on the last page"
    )
