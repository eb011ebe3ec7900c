"""Tests of ledger.merkle: transparency-dev's RFC 6962 test vectors, pymerkle as an independent
implementation, and properties of CompactRange."""

import base64
import contextlib
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pymerkle import InclusionProof, InmemoryTree
from pymerkle import verify_consistency as pymerkle_verify_consistency
from pymerkle import verify_inclusion as pymerkle_verify_inclusion

from ledger import merkle
from ledger.errors import VerificationError

VECTORS = Path(__file__).parent.parent / "assets" / "rfc6962"

# The leaves behind the vectors' happy paths: RFC 6962's test inputs, as used by
# transparency-dev/merkle's test data generator.
VECTOR_LEAVES = [
    merkle.leaf_hash(bytes.fromhex(data))
    for data in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]


def _b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def _vectors(kind: str) -> list[Any]:
    folder = VECTORS / kind
    return [
        pytest.param(json.loads(path.read_text()), id=path.relative_to(VECTORS).as_posix()[:-5])
        for path in sorted(folder.rglob("*.json"))
    ]


INCLUSION_VECTORS = _vectors("inclusion")
CONSISTENCY_VECTORS = _vectors("consistency")


def _happy_paths(vectors: list[Any]) -> list[Any]:
    return [vector for vector in vectors if vector.id.endswith("/happy-path")]


def _leaves(count: int, seed: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(f"{seed}:{i}".encode()) for i in range(count)]


H = bytes(range(32))  # a well-formed hash where the value does not matter


# --- hashing -------------------------------------------------------------------------------------


def test_hashes_are_rfc_6962_prefixed_sha256() -> None:
    left, right = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert left == hashlib.sha256(b"\x00a").digest()
    assert merkle.node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_root_of_known_trees() -> None:
    assert merkle.root([]) == merkle.EMPTY_ROOT
    assert merkle.root(VECTOR_LEAVES[:1]) == VECTOR_LEAVES[0]
    assert merkle.root(VECTOR_LEAVES[:3]) == merkle.node_hash(
        merkle.node_hash(VECTOR_LEAVES[0], VECTOR_LEAVES[1]), VECTOR_LEAVES[2]
    )
    # MTH of the eight RFC 6962 test leaves, as published with Certificate Transparency's tests.
    assert merkle.root(VECTOR_LEAVES).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


# --- transparency-dev test vectors ---------------------------------------------------------------


def test_every_vector_is_loaded() -> None:
    assert (len(INCLUSION_VECTORS), len(CONSISTENCY_VECTORS)) == (98, 98)
    assert len(_happy_paths(INCLUSION_VECTORS)) == len(_happy_paths(CONSISTENCY_VECTORS)) == 5


@pytest.mark.parametrize("vector", INCLUSION_VECTORS)
def test_inclusion_vector(vector: dict[str, Any]) -> None:
    proof = [_b64(p) for p in vector["proof"] or []]
    args = (_b64(vector["leafHash"]), vector["leafIdx"], vector["treeSize"], proof)
    if vector["wantErr"]:
        with pytest.raises(VerificationError):
            merkle.verify_inclusion(*args, _b64(vector["root"]))
    else:
        merkle.verify_inclusion(*args, _b64(vector["root"]))


@pytest.mark.parametrize("vector", CONSISTENCY_VECTORS)
def test_consistency_vector(vector: dict[str, Any]) -> None:
    proof = [_b64(p) for p in vector["proof"] or []]
    args = (vector["size1"], vector["size2"], proof, _b64(vector["root1"]))
    if vector["wantErr"]:
        with pytest.raises(VerificationError):
            merkle.verify_consistency(*args, _b64(vector["root2"]))
    else:
        merkle.verify_consistency(*args, _b64(vector["root2"]))


@pytest.mark.parametrize("vector", _happy_paths(INCLUSION_VECTORS))
def test_inclusion_proof_reproduces_vector(vector: dict[str, Any]) -> None:
    index, size = vector["leafIdx"], vector["treeSize"]
    assert VECTOR_LEAVES[index] == _b64(vector["leafHash"])
    assert merkle.root(VECTOR_LEAVES[:size]) == _b64(vector["root"])
    expected = [_b64(p) for p in vector["proof"] or []]
    assert merkle.inclusion_proof(VECTOR_LEAVES, index, size) == expected


@pytest.mark.parametrize("vector", _happy_paths(CONSISTENCY_VECTORS))
def test_consistency_proof_reproduces_vector(vector: dict[str, Any]) -> None:
    size1, size2 = vector["size1"], vector["size2"]
    assert merkle.root(VECTOR_LEAVES[:size1]) == _b64(vector["root1"])
    assert merkle.root(VECTOR_LEAVES[:size2]) == _b64(vector["root2"])
    expected = [_b64(p) for p in vector["proof"] or []]
    assert merkle.consistency_proof(VECTOR_LEAVES, size1, size2) == expected


# --- proofs round-trip, and every bad input is a VerificationError -------------------------------


def test_every_proof_of_small_trees_verifies_and_tampering_fails() -> None:
    leaves = _leaves(33)
    roots = [merkle.root(leaves[:size]) for size in range(len(leaves) + 1)]
    for size in range(1, len(leaves) + 1):
        for index in range(size):
            proof = merkle.inclusion_proof(leaves, index, size)
            merkle.verify_inclusion(leaves[index], index, size, proof, roots[size])
            for j in range(len(proof)):
                tampered = [*proof[:j], merkle.leaf_hash(proof[j]), *proof[j + 1 :]]
                with pytest.raises(VerificationError, match="does not lead to the given root"):
                    merkle.verify_inclusion(leaves[index], index, size, tampered, roots[size])
        for size1 in range(1, size + 1):
            proof = merkle.consistency_proof(leaves, size1, size2=size)
            merkle.verify_consistency(size1, size, proof, roots[size1], roots[size])
            for j in range(len(proof)):
                tampered = [*proof[:j], merkle.leaf_hash(proof[j]), *proof[j + 1 :]]
                with pytest.raises(VerificationError, match="does not lead to root"):
                    merkle.verify_consistency(size1, size, tampered, roots[size1], roots[size])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((H[:31], 0, 1, [], H), "leaf hash must be 32 bytes, got 31"),
        ((H, 0, 1, [], H + b"\x00"), "root must be 32 bytes, got 33"),
        ((H, 0, 2, [b""], H), r"proof\[0\] must be 32 bytes, got 0"),
        ((H, 0, 2, ["00" * 32], H), r"proof\[0\] must be 32 bytes, got str"),
        (("00" * 32, 0, 1, [], H), "leaf hash must be 32 bytes, got str"),
        ((H, 1, 1, [], H), "leaf index 1 is not below tree size 1"),
        ((H, 0, 0, [], H), "leaf index 0 is not below tree size 0"),
        ((H, -1, 1, [], H), "index must be a non-negative integer, got -1"),
        ((H, 0, 1.0, [], H), "size must be a non-negative integer, got 1.0"),
        ((H, 2, 5, [H, H], H), "has 2 hashes, expected 3"),
        ((H, 4, 5, [], H), "has 0 hashes, expected 1"),
        ((H, 0, 1, [], bytes(32)), "does not lead to the given root"),
    ],
)
def test_verify_inclusion_rejects(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        merkle.verify_inclusion(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2, 1, [], H, H), "size1 2 is greater than size2 1"),
        ((-1, 1, [], H, H), "size1 must be a non-negative integer"),
        ((0, 3, [H], merkle.EMPTY_ROOT, H), "from the empty tree is meaningless"),
        ((0, 0, [], H, H), "root of the empty tree"),
        ((3, 3, [H], H, H), "sizes are equal but the consistency proof is not empty"),
        ((3, 3, [], H, bytes(32)), "sizes are equal but the roots differ"),
        ((1, 2, [], H, H), "consistency proof is empty"),
        ((1, 2, [H, H], H, H), "from 1 to 2 has 2 hashes, expected 1"),
        ((3, 8, [H, H], H, H), "from 3 to 8 has 2 hashes, expected 4"),
        ((1, 2, [H], H[:5], H), "root1 must be 32 bytes, got 5"),
        ((1, 2, [H], H, None), "root2 must be 32 bytes, got NoneType"),
        ((1, 1, [], "root", "root"), "roots must be bytes"),
        ((1, 2, [H[1:]], H, H), r"proof\[0\] must be 32 bytes, got 31"),
        ((1, 2, [H], H, H), "does not lead to root2"),
        ((3, 4, [H, H, H], H, H), "does not lead to root1"),
    ],
)
def test_verify_consistency_rejects(args: tuple[Any, ...], message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        merkle.verify_consistency(*args)


def test_consistency_between_equal_sizes() -> None:
    merkle.verify_consistency(0, 0, [], merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)
    merkle.verify_consistency(5, 5, [], H, H)
    assert merkle.consistency_proof(_leaves(5), 5, 5) == []


_hashes: st.SearchStrategy[Any] = st.one_of(
    st.binary(min_size=32, max_size=32), st.binary(max_size=40), st.just(H), st.text(max_size=2)
)
_counts = st.integers(min_value=-2, max_value=2**64 + 1) | st.integers(min_value=-2, max_value=40)


@given(
    leaf=_hashes,
    index=_counts,
    size=_counts,
    proof=st.lists(_hashes, max_size=10),
    root=_hashes,
)
def test_verify_inclusion_fails_only_with_verification_error(
    leaf: bytes, index: int, size: int, proof: list[bytes], root: bytes
) -> None:
    with contextlib.suppress(VerificationError):
        merkle.verify_inclusion(leaf, index, size, proof, root)


@given(
    size1=_counts,
    size2=_counts,
    proof=st.lists(_hashes, max_size=10),
    root1=_hashes,
    root2=_hashes,
)
def test_verify_consistency_fails_only_with_verification_error(
    size1: int, size2: int, proof: list[bytes], root1: bytes, root2: bytes
) -> None:
    with contextlib.suppress(VerificationError):
        merkle.verify_consistency(size1, size2, proof, root1, root2)


@pytest.mark.parametrize(
    ("index", "size", "message"),
    [
        (3, 3, "leaf index 3 is not below tree size 3"),
        (-1, 3, "index must be a non-negative integer"),
        (0, 6, "tree size 6 exceeds the 5 leaves given"),
    ],
)
def test_inclusion_proof_rejects(index: int, size: int, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        merkle.inclusion_proof(_leaves(5), index, size)


@pytest.mark.parametrize(
    ("size1", "size2", "message"),
    [
        (0, 3, "from the empty tree is meaningless"),
        (0, 0, "from the empty tree is meaningless"),
        (4, 3, "size1 4 is greater than size2 3"),
        (1, 6, "tree size 6 exceeds the 5 leaves given"),
    ],
)
def test_consistency_proof_rejects(size1: int, size2: int, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        merkle.consistency_proof(_leaves(5), size1, size2)


# --- pymerkle, an independent implementation -----------------------------------------------------


@dataclass(frozen=True)
class _Pymerkle:
    entries: list[bytes]
    leaves: list[bytes]  # our leaf hashes of the entries
    tree: InmemoryTree


@pytest.fixture(scope="module")
def pymerkle_tree() -> _Pymerkle:
    rng = random.Random(6962)
    entries = [rng.randbytes(rng.randrange(48)) for _ in range(2000)]
    tree = InmemoryTree.init_from_entries(entries)  # sha256, security mode: RFC 6962 prefixes
    assert (tree.algorithm, tree.security) == ("sha256", True)
    return _Pymerkle(entries, [merkle.leaf_hash(entry) for entry in entries], tree)


def _size_pairs(count: int, seed: int, limit: int = 2000) -> list[tuple[int, int]]:
    """Edge cases (1, powers of two and their neighbours, the limit) plus a seeded sample."""
    rng = random.Random(seed)
    edges = [1, 2, 3, 7, 8, 9, 255, 256, 257, 1023, 1024, 1025, limit - 1, limit]
    pairs = [(a, b) for a in edges for b in edges if a <= b]
    for _ in range(count):
        b = rng.randrange(1, limit + 1)
        pairs.append((rng.randrange(1, b + 1), b))
    return pairs


def test_leaf_hashes_match_pymerkle(pymerkle_tree: _Pymerkle) -> None:
    for i, leaf in enumerate(pymerkle_tree.leaves):
        assert pymerkle_tree.tree.get_leaf(i + 1) == leaf


def test_roots_match_pymerkle_at_every_size(pymerkle_tree: _Pymerkle) -> None:
    """CompactRange's root at every size 0..2000, and merkle.root at a sample, equal pymerkle's."""
    compact = merkle.CompactRange()
    assert compact.root() == pymerkle_tree.tree.get_root(0)
    for size, leaf in enumerate(pymerkle_tree.leaves, start=1):
        compact.append(leaf)
        assert compact.root() == pymerkle_tree.tree.get_root(size)
    for size in {b for _, b in _size_pairs(40, seed=1)}:
        assert merkle.root(pymerkle_tree.leaves[:size]) == pymerkle_tree.tree.get_root(size)


def test_inclusion_proofs_match_pymerkle(pymerkle_tree: _Pymerkle) -> None:
    """pymerkle's inclusion path is the leaf hash followed by RFC 6962's PATH.

    For each (index, size): our proof equals pymerkle's path after the leaf; pymerkle's verifier
    accepts a pymerkle proof object carrying our path; our verifier accepts pymerkle's path; and
    the root is pymerkle's throughout.
    """
    tree, leaves = pymerkle_tree.tree, pymerkle_tree.leaves
    rng = random.Random(2)
    for _, size in _size_pairs(250, seed=3):
        for index in {0, size - 1, rng.randrange(size)}:
            root = tree.get_root(size)
            ours = merkle.inclusion_proof(leaves, index, size)
            theirs = tree.prove_inclusion(index + 1, size)  # pymerkle counts leaves from one
            assert theirs.path == [leaves[index], *ours]

            carrying_ours = InclusionProof(
                theirs.algorithm,
                theirs.security,
                size,
                index + 1,
                theirs.rule,
                [leaves[index], *ours],
            )
            pymerkle_verify_inclusion(
                leaves[index], root, carrying_ours, index=index + 1, size=size
            )
            merkle.verify_inclusion(leaves[index], index, size, theirs.path[1:], root)


def _consistency_from_pymerkle(pymerkle_tree: _Pymerkle, size1: int, size2: int) -> list[bytes]:
    """Assemble the RFC 6962 consistency proof from pymerkle's inclusion proofs and roots.

    pymerkle lays out its own consistency proofs differently (it splits some subtrees further
    and always carries the old tree's pieces), so they cannot be compared hash for hash. But an
    RFC 6962 PROOF(size1, size2) is the root of the old tree's last complete subtree, of
    2**k leaves where 2**k is the largest power of two dividing size1 (left out when it is the
    whole old tree), followed by the inclusion path of leaf size1 - 1 in the new tree above
    level k. pymerkle supplies both.
    """
    if size1 == size2:
        return []
    k = (size1 & -size1).bit_length() - 1
    path: list[bytes] = pymerkle_tree.tree.prove_inclusion(size1, size2).path[1 + k :]
    if size1 == 1 << k:
        return path
    subtree = InmemoryTree.init_from_entries(pymerkle_tree.entries[size1 - (1 << k) : size1])
    return [subtree.get_root(), *path]


def test_consistency_proofs_match_pymerkle(pymerkle_tree: _Pymerkle) -> None:
    """Our consistency proofs equal the ones assembled from pymerkle (see above), and verify
    against pymerkle's roots; pymerkle's own consistency proofs accept our roots."""
    tree, leaves = pymerkle_tree.tree, pymerkle_tree.leaves
    for size1, size2 in _size_pairs(250, seed=4):
        root1, root2 = tree.get_root(size1), tree.get_root(size2)
        ours = merkle.consistency_proof(leaves, size1, size2)
        assert ours == _consistency_from_pymerkle(pymerkle_tree, size1, size2)
        merkle.verify_consistency(size1, size2, ours, root1, root2)
        if size1 > 1:
            with pytest.raises(VerificationError):
                merkle.verify_consistency(size1, size2, ours, tree.get_root(size1 - 1), root2)

        theirs = tree.prove_consistency(size1, size2)
        pymerkle_verify_consistency(
            merkle.root(leaves[:size1]),
            merkle.root(leaves[:size2]),
            theirs,
            prior_size=size1,
            later_size=size2,
        )


# --- CompactRange --------------------------------------------------------------------------------


def test_empty_compact_range() -> None:
    compact = merkle.CompactRange()
    assert (compact.size, compact.hashes, compact.root()) == (0, (), merkle.EMPTY_ROOT)


@settings(max_examples=25, deadline=None)
@given(size=st.integers(min_value=0, max_value=300), seed=st.integers(0, 2**16))
@example(size=300, seed=0)
def test_compact_range_root_equals_merkle_root_at_every_size(size: int, seed: int) -> None:
    leaves = _leaves(size, seed)
    compact = merkle.CompactRange()
    for count, leaf in enumerate(leaves, start=1):
        compact.append(leaf)
        assert compact.size == count
        assert len(compact.hashes) == count.bit_count()
        assert compact.root() == merkle.root(leaves[:count])


@settings(max_examples=25, deadline=None)
@given(size=st.integers(min_value=0, max_value=300))
@example(size=256)
@example(size=300)
def test_append_returns_every_complete_subtree_once(size: int) -> None:
    leaves = _leaves(size)
    compact = merkle.CompactRange()
    returned: list[tuple[int, int, bytes]] = []
    for count, leaf in enumerate(leaves, start=1):
        completed = compact.append(leaf)
        # Lowest level first, and every node returned ends at the leaf just appended.
        assert [level for level, _, _ in completed] == list(range(1, len(completed) + 1))
        assert all((index + 1) << level == count for level, index, _ in completed)
        returned.extend(completed)

    ids = [(level, index) for level, index, _ in returned]
    assert len(ids) == len(set(ids))
    assert set(ids) == {
        (level, index) for level in range(1, size.bit_length()) for index in range(size >> level)
    }
    for level, index, node in returned:
        assert node == merkle.root(leaves[index << level : (index + 1) << level])


@settings(max_examples=25, deadline=None)
@given(size=st.integers(min_value=0, max_value=100), more=st.integers(min_value=0, max_value=100))
def test_compact_range_resumes_from_its_hashes(size: int, more: int) -> None:
    leaves = _leaves(size + more)
    compact = merkle.CompactRange()
    for leaf in leaves[:size]:
        compact.append(leaf)
    resumed = merkle.CompactRange.from_hashes(compact.size, compact.hashes)
    assert (resumed.size, resumed.hashes, resumed.root()) == (size, compact.hashes, compact.root())
    for leaf in leaves[size:]:
        assert resumed.append(leaf) == compact.append(leaf)
    assert resumed.root() == compact.root() == merkle.root(leaves)


@pytest.mark.parametrize(
    ("size", "hashes", "message"),
    [
        (5, [H], "a tree of 5 leaves has 2 complete subtrees, got 1 hashes"),
        (0, [H], "a tree of 0 leaves has 0 complete subtrees, got 1 hashes"),
        (-1, [], "size must be a non-negative integer"),
        (3, [H, H[:16]], r"hashes\[1\] must be 32 bytes, got 16"),
    ],
)
def test_compact_range_from_hashes_rejects(size: int, hashes: list[bytes], message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        merkle.CompactRange.from_hashes(size, hashes)


def test_compact_range_rejects_a_malformed_leaf_and_stays_unchanged() -> None:
    compact = merkle.CompactRange()
    compact.append(H)
    with pytest.raises(VerificationError, match="leaf hash must be 32 bytes, got 31"):
        compact.append(H[1:])
    assert (compact.size, compact.hashes) == (1, (H,))
