"""Merkle roots and proofs built from stored subtree hashes.

The log stores only complete subtrees, each under its ``NodeId`` ``(level, index)``: the node covers
leaves ``[index * 2**level, (index + 1) * 2**level)`` and level 0 holds the leaf hashes. A caller
first asks which ids a root or proof needs (``*_node_ids``), fetches them in one query, then passes
them in as a ``Mapping`` (``*_from_nodes``); this module never touches storage itself.

Every proof needs O(log n) ids. A proof hash is either a stored complete subtree or, at most once
per proof, the root of the incomplete subtree on the right edge of the tree (the "ephemeral" node
of transparency-dev/merkle's ``proof`` package), which is rebuilt from the complete subtrees that
cover it.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from ledger.errors import VerificationError
from ledger.merkle import CompactRange, node_hash

__all__ = [
    "NodeId",
    "consistency_node_ids",
    "consistency_proof_from_nodes",
    "inclusion_node_ids",
    "inclusion_proof_from_nodes",
    "root_from_nodes",
    "root_node_ids",
]

NodeId = tuple[int, int]
"""``(level, index)``: the complete subtree over ``[index << level, (index + 1) << level)``."""


@dataclass(frozen=True, slots=True)
class _ProofNodes:
    """The stored nodes of a proof, in proof order; ``ids[begin:end]`` make up the ephemeral node.

    The ephemeral node's nodes are listed lowest level (rightmost) first, so that folding them
    from the left rebuilds it; ``begin == end`` when the proof has no ephemeral node.
    """

    ids: tuple[NodeId, ...]
    begin: int
    end: int

    def without_first(self) -> "_ProofNodes":
        """Drop the node the proof starts from, which the verifier already holds."""
        if self.begin < self.end:
            return _ProofNodes(self.ids[1:], self.begin - 1, self.end - 1)
        return _ProofNodes(self.ids[1:], 0, 0)

    def hashes(self, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
        """Return the proof: the nodes' hashes with the ephemeral node's ones folded into one."""
        hashes = [nodes[node_id] for node_id in self.ids]
        if self.begin == self.end:
            return hashes
        ephemeral = hashes[self.begin]
        for left in hashes[self.begin + 1 : self.end]:
            ephemeral = node_hash(left, ephemeral)
        return [*hashes[: self.begin], ephemeral, *hashes[self.end :]]


def root_node_ids(size: int) -> list[NodeId]:
    """Return the complete subtrees that make up a tree of ``size`` leaves, left to right.

    Raises ``VerificationError`` if ``size`` is negative.
    """
    if size < 0:
        raise VerificationError(f"tree size must not be negative, got {size}")
    return _range_node_ids(0, size)


def root_from_nodes(size: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """Return the root of the tree of ``size`` leaves from the nodes of ``root_node_ids(size)``."""
    ids = root_node_ids(size)
    return CompactRange.from_hashes(size, [nodes[node_id] for node_id in ids]).root()


def inclusion_node_ids(index: int, size: int) -> list[NodeId]:
    """Return the ids of the stored nodes needed for the inclusion proof of leaf ``index``.

    Raises ``VerificationError`` unless ``0 <= index < size``.
    """
    return list(_inclusion_nodes(index, size).ids)


def inclusion_proof_from_nodes(index: int, size: int, nodes: Mapping[NodeId, bytes]) -> list[bytes]:
    """Return the RFC 6962 inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    ``nodes`` must hold every id of ``inclusion_node_ids(index, size)`` (a missing one raises
    ``KeyError``). Raises ``VerificationError`` unless ``0 <= index < size``.
    """
    return _inclusion_nodes(index, size).hashes(nodes)


def consistency_node_ids(size1: int, size2: int) -> list[NodeId]:
    """Return the ids of the stored nodes needed for the consistency proof from size1 to size2.

    Raises ``VerificationError`` unless ``0 < size1 <= size2``.
    """
    return list(_consistency_nodes(size1, size2).ids)


def consistency_proof_from_nodes(
    size1: int, size2: int, nodes: Mapping[NodeId, bytes]
) -> list[bytes]:
    """Return the RFC 6962 consistency proof from the tree of size1 leaves to that of size2.

    ``nodes`` must hold every id of ``consistency_node_ids(size1, size2)`` (a missing one raises
    ``KeyError``). Raises ``VerificationError`` unless ``0 < size1 <= size2``.
    """
    return _consistency_nodes(size1, size2).hashes(nodes)


def _inclusion_nodes(index: int, size: int) -> _ProofNodes:
    if not 0 <= index < size:
        raise VerificationError(f"leaf index {index} is not within tree size {size}")
    return _path_nodes(0, index, size).without_first()


def _consistency_nodes(size1: int, size2: int) -> _ProofNodes:
    if not 0 < size1 <= size2:
        raise VerificationError(
            f"a consistency proof needs 0 < size1 <= size2, got size1 {size1} and size2 {size2}"
        )
    if size1 == size2:
        return _ProofNodes((), 0, 0)
    # The old tree's last complete subtree, and the rest of the proof is its inclusion path in
    # the new tree; when that subtree is the whole old tree, the verifier holds it already.
    level = (size1 & -size1).bit_length() - 1
    nodes = _path_nodes(level, (size1 - 1) >> level, size2)
    return nodes.without_first() if size1 == 1 << level else nodes


def _path_nodes(level: int, index: int, size: int) -> _ProofNodes:
    """Return the node ``(level, index)`` and the stored nodes proving it is in the tree of size."""
    # The fork is the node's ancestor whose sibling holds leaf ``size``: below the fork the path's
    # siblings are complete, the fork's sibling is the ephemeral node covering [end, size), and
    # above it only complete subtrees to the left of the fork remain.
    inner = (index ^ (size >> level)).bit_length() - 1
    fork_level = level + inner
    begin = (index >> inner) << fork_level
    end = begin + (1 << fork_level)

    ids = [(level, index)]
    ids.extend((lvl, (index >> (lvl - level)) ^ 1) for lvl in range(level, fork_level))
    ephemeral_begin = len(ids)
    ids.extend(reversed(_range_node_ids(end, size)))
    ephemeral_end = len(ids)
    ids.extend(reversed(_range_node_ids(0, begin)))
    if ephemeral_begin == ephemeral_end:
        return _ProofNodes(tuple(ids), 0, 0)
    return _ProofNodes(tuple(ids), ephemeral_begin, ephemeral_end)


def _range_node_ids(begin: int, end: int) -> list[NodeId]:
    """Return the fewest complete subtrees covering leaves ``[begin, end)``, left to right."""
    ids: list[NodeId] = []
    while begin < end:
        # The largest subtree starting at begin is limited by begin's alignment and by end.
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        ids.append((level, begin >> level))
        begin += 1 << level
    return ids
