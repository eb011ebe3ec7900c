"""Tests of ledger.tree: proofs built from stored complete subtrees equal ledger.merkle's, need
only the nodes they name, and name O(log n) of them."""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger import merkle, tree
from ledger.errors import VerificationError
from ledger.tree import NodeId

MAX_SIZE = 300


@dataclass(frozen=True)
class _StoredTree:
    """Leaves and every complete node a log of ``len(leaves)`` leaves stores, as the log does."""

    leaves: list[bytes]
    nodes: dict[NodeId, bytes]


def _store(size: int) -> _StoredTree:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    nodes: dict[NodeId, bytes] = {}
    compact = merkle.CompactRange()
    for index, leaf in enumerate(leaves):
        nodes[(0, index)] = leaf
        for level, node_index, node in compact.append(leaf):
            nodes[(level, node_index)] = node
    return _StoredTree(leaves, nodes)


STORED = _store(MAX_SIZE)


@dataclass
class _Recording(Mapping[NodeId, bytes]):
    """Only the nodes a proof asked for, noting which ones are read."""

    nodes: dict[NodeId, bytes]
    read: list[NodeId] = field(default_factory=list)

    def __getitem__(self, node_id: NodeId) -> bytes:
        self.read.append(node_id)
        return self.nodes[node_id]

    def __iter__(self) -> Iterator[NodeId]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)


def _only(ids: list[NodeId], size: int) -> _Recording:
    """Fetch ``ids`` as storage would, checking each is a complete node of the tree of ``size``."""
    assert len(ids) == len(set(ids)), "a node is fetched twice"
    for level, index in ids:
        assert level >= 0 and (index + 1) << level <= size, f"{(level, index)} is not stored"
    return _Recording({node_id: STORED.nodes[node_id] for node_id in ids})


def _check_inclusion(index: int, size: int) -> None:
    ids = tree.inclusion_node_ids(index, size)
    fetched = _only(ids, size)
    assert tree.inclusion_proof_from_nodes(index, size, fetched) == merkle.inclusion_proof(
        STORED.leaves, index, size
    )
    assert sorted(fetched.read) == sorted(ids)


def _check_consistency(size1: int, size2: int) -> None:
    ids = tree.consistency_node_ids(size1, size2)
    fetched = _only(ids, size2)
    assert tree.consistency_proof_from_nodes(size1, size2, fetched) == merkle.consistency_proof(
        STORED.leaves, size1, size2
    )
    assert sorted(fetched.read) == sorted(ids)


def test_stored_nodes_are_every_complete_subtree() -> None:
    assert len(STORED.nodes) == 2 * MAX_SIZE - MAX_SIZE.bit_count()


def test_roots_from_nodes_equal_merkle_roots() -> None:
    compact = merkle.CompactRange()
    for size in range(MAX_SIZE + 1):
        ids = tree.root_node_ids(size)
        fetched = _only(ids, size)
        # Left to right, the same subtrees as a CompactRange of that size holds.
        assert [STORED.nodes[node_id] for node_id in ids] == list(compact.hashes)
        assert tree.root_from_nodes(size, fetched) == merkle.root(STORED.leaves[:size])
        if size < MAX_SIZE:
            compact.append(STORED.leaves[size])


def test_every_proof_of_small_trees_equals_merkle() -> None:
    for size in range(1, 65):
        for index in range(size):
            _check_inclusion(index, size)
        for size1 in range(1, size + 1):
            _check_consistency(size1, size)


def _index_in(max_size: int) -> st.SearchStrategy[tuple[int, int]]:
    """``(index, size)`` with ``0 <= index < size <= max_size``."""
    sizes = st.integers(min_value=1, max_value=max_size)
    return sizes.flatmap(lambda n: st.tuples(st.integers(min_value=0, max_value=n - 1), st.just(n)))


def _sizes_in(max_size: int) -> st.SearchStrategy[tuple[int, int]]:
    """``(size1, size2)`` with ``0 < size1 <= size2 <= max_size``."""
    sizes = st.integers(min_value=1, max_value=max_size)
    return sizes.flatmap(lambda n: st.tuples(st.integers(min_value=1, max_value=n), st.just(n)))


@settings(max_examples=300, deadline=None)
@given(_index_in(MAX_SIZE))
@example((0, MAX_SIZE))
@example((MAX_SIZE - 1, MAX_SIZE))
def test_inclusion_proof_from_nodes_equals_merkle(index_size: tuple[int, int]) -> None:
    _check_inclusion(*index_size)


@settings(max_examples=300, deadline=None)
@given(_sizes_in(MAX_SIZE))
@example((1, MAX_SIZE))
@example((MAX_SIZE - 1, MAX_SIZE))
@example((MAX_SIZE, MAX_SIZE))
def test_consistency_proof_from_nodes_equals_merkle(sizes: tuple[int, int]) -> None:
    _check_consistency(*sizes)


def _bound(size: int) -> int:
    """At most two ids per level of the tree: below the fork, a path sibling and a piece of the
    ephemeral node; above it, a complete subtree to the left."""
    return 2 * (size - 1).bit_length()


HUGE = 2**40


@given(_index_in(HUGE))
@example((0, HUGE))
@example((HUGE - 1, HUGE))
@example((0, HUGE - 1))
@example((2**39, 2**39 + 1))
def test_inclusion_needs_logarithmically_many_nodes(index_size: tuple[int, int]) -> None:
    index, size = index_size
    ids = tree.inclusion_node_ids(index, size)
    assert len(ids) <= _bound(size)
    assert all((i + 1) << level <= size for level, i in ids)


@given(_sizes_in(HUGE))
@example((1, HUGE))
@example((HUGE - 1, HUGE))
@example((3, HUGE - 1))
@example((2**39 + 1, HUGE - 1))
def test_consistency_needs_logarithmically_many_nodes(sizes: tuple[int, int]) -> None:
    size1, size2 = sizes
    ids = tree.consistency_node_ids(size1, size2)
    assert len(ids) <= _bound(size2)
    assert all((i + 1) << level <= size2 for level, i in ids)


def test_the_bound_is_tight() -> None:
    worst = max(
        len(tree.inclusion_node_ids(index, size)) - _bound(size)
        for size in range(1, 130)
        for index in range(size)
    )
    assert worst == 0


@pytest.mark.parametrize(("index", "size"), [(0, 0), (3, 3), (4, 3), (-1, 3), (2**64, 2**64)])
def test_inclusion_rejects_index_outside_tree(index: int, size: int) -> None:
    with pytest.raises(VerificationError, match=f"leaf index {index} is not within tree size"):
        tree.inclusion_node_ids(index, size)
    with pytest.raises(VerificationError, match=f"leaf index {index} is not within tree size"):
        tree.inclusion_proof_from_nodes(index, size, STORED.nodes)


@pytest.mark.parametrize(("size1", "size2"), [(0, 0), (0, 5), (6, 5), (-1, 5), (1, -1)])
def test_consistency_rejects_bad_sizes(size1: int, size2: int) -> None:
    with pytest.raises(VerificationError, match="needs 0 < size1 <= size2"):
        tree.consistency_node_ids(size1, size2)
    with pytest.raises(VerificationError, match="needs 0 < size1 <= size2"):
        tree.consistency_proof_from_nodes(size1, size2, STORED.nodes)


def test_equal_sizes_need_no_nodes() -> None:
    assert tree.consistency_node_ids(7, 7) == []
    assert tree.consistency_proof_from_nodes(7, 7, {}) == []


def test_root_rejects_negative_size() -> None:
    with pytest.raises(VerificationError, match="tree size must not be negative"):
        tree.root_node_ids(-1)
    assert tree.root_node_ids(0) == []
    assert tree.root_from_nodes(0, {}) == merkle.EMPTY_ROOT


def test_missing_node_is_a_key_error() -> None:
    ids = tree.inclusion_node_ids(5, 11)
    partial = {node_id: STORED.nodes[node_id] for node_id in ids[1:]}
    with pytest.raises(KeyError):
        tree.inclusion_proof_from_nodes(5, 11, partial)
