"""The public-chain anchor of a ledger entry, from the anchoring package.

``anchoring.service.anchor_for(conn, seq)`` answers with the confirmed anchor covering the
entry, or None. This module only adapts it to the lookup's shape, and answers None when the
anchoring package is not installed in this build.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from api.trace.resolver.schemas import Anchor

try:
    from anchoring.service import anchor_for as _anchor_for
except ImportError:  # pragma: no cover - a build without anchoring
    _anchor_for = None


def anchor_for(conn: Connection, seq: int) -> Anchor | None:
    if _anchor_for is None:
        return None
    record: Any = _anchor_for(conn, seq)
    if record is None:
        return None
    return Anchor(
        chain_id=record.chain_id,
        tree_size=record.tree_size,
        root_hash=record.root_hash.hex(),
        tx_hash=record.tx_hash.hex() if record.tx_hash else None,
        block_number=record.block_number,
        block_hash=record.block_hash.hex() if record.block_hash else None,
        state=record.state,
    )
