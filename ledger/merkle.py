"""RFC 6962 / RFC 9162 Merkle tree maths: hashing, roots, proofs and their verification.

Pure functions over leaf hashes; nothing here does I/O. ``ledger.tree`` builds the same proofs from
stored subtree hashes, and ``CompactRange`` keeps the right edge of a growing tree so that the log
can be extended one leaf at a time.
"""

from collections.abc import Sequence
from hashlib import sha256
from hmac import compare_digest
from typing import Self

from ledger.errors import VerificationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

EMPTY_ROOT: bytes = sha256(b"").digest()
"""The root of the empty tree: ``SHA-256("")`` (RFC 9162 §2.1.1)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Return the leaf hash of ``data``: ``SHA-256(0x00 || data)``."""
    return sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash of two children: ``SHA-256(0x01 || left || right)``."""
    return sha256(_NODE_PREFIX + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash (RFC 9162 §2.1.1) of ``leaf_hashes``; ``EMPTY_ROOT`` if empty."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # Hashing pairs level by level, carrying an odd last node up unchanged, builds exactly the
    # left-balanced tree of the RFC's recursive definition, without the recursion.
    level = list(leaf_hashes)
    while len(level) > 1:
        paired = [
            sha256(_NODE_PREFIX + level[i] + level[i + 1]).digest()
            for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """Return the inclusion proof (RFC 6962 ``PATH``) of leaf ``index`` in a tree of ``size``.

    The proof lists sibling hashes from the leaf up to the root. Raises ``VerificationError``
    unless ``0 <= index < size <= len(leaf_hashes)``.
    """
    _check_count("index", index)
    _check_count("size", size)
    if index >= size:
        raise VerificationError(f"leaf index {index} is not below tree size {size}")
    if size > len(leaf_hashes):
        raise VerificationError(f"tree size {size} exceeds the {len(leaf_hashes)} leaves given")

    # Walk down from the root, noting the sibling subtree at each split, then reverse.
    siblings: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            siblings.append(root(leaf_hashes[mid:end]))
            end = mid
        else:
            siblings.append(root(leaf_hashes[start:mid]))
            start = mid
    siblings.reverse()
    return siblings


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """Return the consistency proof (RFC 6962 ``PROOF``) between tree sizes ``size1`` and ``size2``.

    Raises ``VerificationError`` unless ``0 < size1 <= size2 <= len(leaf_hashes)``; equal sizes
    give the empty proof.
    """
    _check_count("size1", size1)
    _check_count("size2", size2)
    if size1 == 0:
        raise VerificationError("a consistency proof from the empty tree is meaningless")
    if size1 > size2:
        raise VerificationError(f"size1 {size1} is greater than size2 {size2}")
    if size2 > len(leaf_hashes):
        raise VerificationError(f"tree size {size2} exceeds the {len(leaf_hashes)} leaves given")

    # SUBPROOF(m, D[start:start+n], complete), unrolled: walk down, then reverse.
    nodes: list[bytes] = []
    start, m, n, complete = 0, size1, size2, True
    while m != n:
        k = _split(n)
        if m <= k:
            nodes.append(root(leaf_hashes[start + k : start + n]))
            n = k
        else:
            nodes.append(root(leaf_hashes[start : start + k]))
            start, m, n, complete = start + k, m - k, n - k, False
    if not complete:
        # Left out only when size1 is a power of two: then the verifier holds that root already.
        nodes.append(root(leaf_hashes[start : start + n]))
    nodes.reverse()
    return nodes


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Verify that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` leaves with ``root``.

    Implements RFC 9162 §2.1.3.2. Returns ``None`` on success; raises ``VerificationError`` on any
    failure, including malformed input.
    """
    # 1. Index and size are leaf counts, and the leaf must lie inside the tree.
    _check_count("index", index)
    _check_count("size", size)
    if index >= size:
        raise VerificationError(f"leaf index {index} is not below tree size {size}")

    # 2. Every hash is a SHA-256 digest.
    _check_hash("leaf hash", leaf_hash)
    _check_hash("root", root)
    for i, p in enumerate(proof):
        _check_hash(f"proof[{i}]", p)

    # 3. The proof has one hash per level between the leaf and the root (RFC 9162 leaves this
    #    implicit; checking it first gives a clearer error than a root mismatch).
    inner = (index ^ (size - 1)).bit_length()
    expected = inner + (index >> inner).bit_count()
    if len(proof) != expected:
        raise VerificationError(
            f"inclusion proof for leaf {index} of {size} has {len(proof)} hashes, "
            f"expected {expected}"
        )

    # 4. fn is the leaf's index, sn the last leaf's index; r starts at the leaf hash.
    fn, sn = index, size - 1
    r = leaf_hash

    # 5. Hash up the path: p is on the left when fn is a right child or on the right edge.
    for p in proof:
        if sn == 0:
            raise VerificationError("inclusion proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1

    # 6. The path must end at the root, and the computed root must be the one given.
    if sn != 0:
        raise VerificationError("inclusion proof is shorter than the path to the root")
    if not compare_digest(r, root):
        raise VerificationError("inclusion proof does not lead to the given root")


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Verify that the tree ``(size2, root2)`` extends the tree ``(size1, root1)``.

    Implements RFC 9162 §2.1.4.2. Equal sizes need an empty proof and equal roots (and, for size
    0, both roots must be ``EMPTY_ROOT``); a proof from size 0 to a larger size is rejected as
    meaningless. Returns ``None`` on success; raises ``VerificationError`` on any failure.
    """
    # 1. Sizes are leaf counts, and a log only grows.
    _check_count("size1", size1)
    _check_count("size2", size2)
    if size1 > size2:
        raise VerificationError(f"size1 {size1} is greater than size2 {size2}")

    # 2. Equal sizes: nothing to hash, the roots must simply be the same. Their length is not
    #    checked here, as in the reference test vectors; the empty tree's root is known, though.
    if size1 == size2:
        if proof:
            raise VerificationError("sizes are equal but the consistency proof is not empty")
        if not (isinstance(root1, bytes) and isinstance(root2, bytes)):
            raise VerificationError("roots must be bytes")
        if size1 == 0 and not (root1 == EMPTY_ROOT and root2 == EMPTY_ROOT):
            raise VerificationError("the root of the empty tree must be SHA-256 of nothing")
        if not compare_digest(root1, root2):
            raise VerificationError("sizes are equal but the roots differ")
        return

    # 3. Every tree is consistent with the empty one: such a proof proves nothing.
    if size1 == 0:
        raise VerificationError("a consistency proof from the empty tree is meaningless")

    # 4. Every hash is a SHA-256 digest.
    _check_hash("root1", root1)
    _check_hash("root2", root2)
    for i, c in enumerate(proof):
        _check_hash(f"proof[{i}]", c)

    # 5. An empty proof fails (RFC step 1), and so does one of the wrong length: the suffix of
    #    the inclusion path of leaf size1 - 1 above its largest complete subtree, preceded by that
    #    subtree's root unless it is the whole old tree.
    if not proof:
        raise VerificationError("consistency proof is empty")
    shift = (size1 & -size1).bit_length() - 1
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = ((size1 - 1) >> inner).bit_count()
    size1_is_subtree = size1 & (size1 - 1) == 0
    expected = (0 if size1_is_subtree else 1) + inner - shift + border
    if len(proof) != expected:
        raise VerificationError(
            f"consistency proof from {size1} to {size2} has {len(proof)} hashes, "
            f"expected {expected}"
        )

    # 6. If size1 is a power of 2, the old root is itself a node of the new tree: prepend it.
    path = [root1, *proof] if size1_is_subtree else list(proof)

    # 7. fn and sn index the last leaf of each tree; skip the levels where fn is a right child,
    #    which the first path hash already covers.
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1

    # 8. fr rebuilds the old root and sr the new one, both from the first path hash.
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1

    # 9. Both roots must match, and the path must have reached the new root.
    if sn != 0:
        raise VerificationError("consistency proof is shorter than the path to the root")
    if not compare_digest(fr, root1):
        raise VerificationError("consistency proof does not lead to root1")
    if not compare_digest(sr, root2):
        raise VerificationError("consistency proof does not lead to root2")


class CompactRange:
    """The right edge of a growing tree: the roots of the complete subtrees covering its leaves.

    A tree of ``size`` leaves splits into one complete subtree per set bit of ``size``, largest
    (leftmost) first; those roots are all that is needed to append a leaf or compute the tree's
    root. Node ``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``.
    """

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        """Start an empty range (a tree of no leaves)."""
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_hashes(cls, size: int, hashes: Sequence[bytes]) -> Self:
        """Resume a tree of ``size`` leaves from its complete-subtree roots, largest first.

        Raises ``VerificationError`` if ``size`` is negative, if there is not exactly one hash per
        set bit of ``size``, or if a hash is not 32 bytes.
        """
        _check_count("size", size)
        if len(hashes) != size.bit_count():
            raise VerificationError(
                f"a tree of {size} leaves has {size.bit_count()} complete subtrees, "
                f"got {len(hashes)} hashes"
            )
        for i, h in enumerate(hashes):
            _check_hash(f"hashes[{i}]", h)
        compact = cls()
        compact._size = size
        compact._hashes = list(hashes)
        return compact

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The complete-subtree roots, largest (leftmost) first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf and return the interior nodes it completes.

        Each node is ``(level, index, hash)`` with ``level >= 1``, lowest level first. Raises
        ``VerificationError`` if ``leaf_hash`` is not 32 bytes.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise VerificationError(f"leaf hash must be {HASH_SIZE} bytes, got {len(leaf_hash)}")
        hashes = self._hashes
        completed: list[tuple[int, int, bytes]] = []
        # Each trailing one bit of the old size is a complete subtree that the new leaf's
        # subtree now pairs with, like a carry in binary addition.
        h = leaf_hash
        index = self._size
        level = 0
        while index & 1:
            h = sha256(_NODE_PREFIX + hashes.pop() + h).digest()
            index >>= 1
            level += 1
            completed.append((level, index, h))
        hashes.append(h)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """Return the RFC 9162 root of the tree so far; ``EMPTY_ROOT`` if it has no leaves."""
        hashes = self._hashes
        if not hashes:
            return EMPTY_ROOT
        h = hashes[-1]
        for left in reversed(hashes[:-1]):
            h = sha256(_NODE_PREFIX + left + h).digest()
        return h


def _split(n: int) -> int:
    """Return the largest power of 2 strictly below ``n`` (RFC 9162's ``k``), for ``n >= 2``."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_count(name: str, value: int) -> None:
    if not isinstance(value, int) or value < 0:
        raise VerificationError(f"{name} must be a non-negative integer, got {value!r}")


def _check_hash(name: str, value: bytes) -> None:
    if not isinstance(value, bytes) or len(value) != HASH_SIZE:
        length = len(value) if isinstance(value, bytes) else type(value).__name__
        raise VerificationError(f"{name} must be {HASH_SIZE} bytes, got {length}")
