"""The public-chain anchor of a ledger entry, from the anchoring package.

``anchoring.service.anchor_for(conn, seq)`` answers with the confirmed anchor covering the
entry, or None. This module adapts it to the lookup's shape, and answers None when the
anchoring package is not installed in this build.

Every lookup asks, so the confirmed anchors are read as a snapshot kept for a few seconds
(an anchor confirmed since shows up within that time); an entry older than every anchor in
the snapshot is asked of the database.
"""

from __future__ import annotations

import bisect
from typing import Any

from sqlalchemy import Connection

from api.db import engine_key
from api.trace.resolver.cache import TTLCache
from api.trace.resolver.schemas import Anchor

try:
    from anchoring.repository import list_anchors as _list_anchors
    from anchoring.service import anchor_for as _anchor_for
except ImportError:  # pragma: no cover - a build without anchoring
    _anchor_for = None
    _list_anchors = None

SNAPSHOT_S = 3.0
SNAPSHOT_SIZE = 1000


class _Confirmed:
    """Confirmed anchors, smallest tree first; ``complete`` if no older one was left out."""

    def __init__(self, records: list[Any], complete: bool) -> None:
        # Earliest first among anchors of one tree size, as anchor_covering orders them.
        self.records = sorted(records, key=_order)
        self.sizes = [r.tree_size for r in self.records]
        self.complete = complete


def _order(record: Any) -> tuple[int, float, int]:
    confirmed = record.confirmed_at.timestamp() if record.confirmed_at is not None else 0.0
    return (record.tree_size, confirmed, record.id)


_SNAPSHOTS = TTLCache[tuple[str, bytes], _Confirmed](ttl_s=SNAPSHOT_S, max_items=64)


def anchor_for(conn: Connection, seq: int, checkpoint_root: bytes) -> Anchor | None:
    """The earliest confirmed anchor covering ``seq``; the snapshot is kept per latest
    checkpoint (``checkpoint_root``) as well as per database."""
    if _anchor_for is None or _list_anchors is None:
        return None
    key = (engine_key(conn), checkpoint_root)
    snapshot = _SNAPSHOTS.get(key)
    if snapshot is None:
        records = _list_anchors(conn, state="confirmed", before=None, limit=SNAPSHOT_SIZE)
        snapshot = _Confirmed(records, complete=len(records) < SNAPSHOT_SIZE)
        _SNAPSHOTS.put(key, snapshot)
    at = bisect.bisect_right(snapshot.sizes, seq)
    record: Any
    if at == len(snapshot.records):
        record = None
    elif at == 0 and not snapshot.complete:
        record = _anchor_for(conn, seq)
    else:
        record = snapshot.records[at]
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
