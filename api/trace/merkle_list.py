"""Merkle trees over the list of items one ledger entry stands for (codes, sensor readings).

The entry carries only the list's root; the list's complete subtrees are stored next to it,
packed level by level (level 0 = the leaf hashes), so a proof for any item needs O(log n) slices
of that blob rather than the whole list. Leaves are ``leaf_hash(canonical_json(item))`` and the
tree is RFC 6962's, so the proofs verify with ``ledger.merkle.verify_inclusion``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ledger.canonical import canonical_json
from ledger.merkle import HASH_SIZE, leaf_hash, node_hash, root
from ledger.tree import NodeId, inclusion_node_ids, inclusion_proof_from_nodes

MAX_ITEMS = 4096
"""Most items one entry carries; longer lists are split over several entries."""


def item_leaf(item: Any) -> bytes:
    return leaf_hash(canonical_json(item))


@dataclass(frozen=True, slots=True)
class ListTree:
    root: bytes
    size: int
    nodes: bytes
    """Every complete subtree hash, level 0 first, each level left to right."""


def build(leaves: Sequence[bytes]) -> ListTree:
    levels: list[bytes] = []
    level = list(leaves)
    while level:
        levels.append(b"".join(level))
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
    return ListTree(root(leaves), len(leaves), b"".join(levels))


def node_offset(size: int, node: NodeId) -> int:
    """Byte offset of ``node`` in the packed blob of a list of ``size`` items."""
    level, index = node
    return (sum(size >> lvl for lvl in range(level)) + index) * HASH_SIZE


def proof_nodes(index: int, size: int) -> list[NodeId]:
    return inclusion_node_ids(index, size)


def proof(index: int, size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    return inclusion_proof_from_nodes(index, size, nodes)


def unpack(blob: bytes, size: int, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
    """The nodes ``ids`` out of a packed blob held in memory."""
    out = {}
    for node in ids:
        offset = node_offset(size, node)
        out[node] = blob[offset : offset + HASH_SIZE]
    return out
