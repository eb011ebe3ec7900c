"""The anchor calldata: what one transaction writes on chain for one checkpoint.

Fifty-two bytes, so that a self-addressed transaction carrying them costs at most 22,990 gas
even under EIP-7623's calldata floor (Prague and later):

======  =====  ==============================================================
offset  bytes  field
======  =====  ==============================================================
0       3      magic ``JYA`` (0x4a 0x59 0x41)
3       1      format version, 0x01
4       8      origin id: the first 8 bytes of SHA-256(origin, UTF-8)
12      8      tree size, unsigned big-endian
20      32     RFC 6962 root hash of the tree of that size
======  =====  ==============================================================

Pure: no I/O. Every malformed input raises :class:`ledger.errors.VerificationError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from hashlib import sha256
from typing import Final

from ledger.checkpoint import MAX_TREE_SIZE, Checkpoint
from ledger.errors import VerificationError

MAGIC: Final = b"JYA"
VERSION: Final = 1
SIZE: Final = 52
"""Bytes of an encoded anchor."""

ORIGIN_ID_SIZE: Final = 8

TX_BASE_GAS: Final = 21_000
"""The intrinsic gas of any transaction."""

_ZERO_BYTE_GAS: Final = 4
_NONZERO_BYTE_GAS: Final = 16
_FLOOR_GAS_PER_TOKEN: Final = 10  # EIP-7623: a zero byte is 1 token, a nonzero byte 4


def origin_id(origin: str) -> bytes:
    """Return the 8-byte id of a log origin: SHA-256 of its UTF-8 bytes, truncated."""
    return sha256(origin.encode()).digest()[:ORIGIN_ID_SIZE]


@dataclass(frozen=True)
class AnchorPayload:
    """One checkpoint as anchored: the origin's id, the tree size and the root hash."""

    origin_id: bytes
    tree_size: int
    root_hash: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.origin_id, bytes) or len(self.origin_id) != ORIGIN_ID_SIZE:
            raise VerificationError("anchor origin id must be 8 bytes")
        if type(self.tree_size) is not int or not 0 <= self.tree_size <= MAX_TREE_SIZE:
            raise VerificationError(f"anchor tree size out of range: {self.tree_size!r}")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != 32:
            raise VerificationError("anchor root hash must be 32 bytes")

    @classmethod
    def for_checkpoint(cls, checkpoint: Checkpoint) -> AnchorPayload:
        """Return the payload that anchors ``checkpoint``."""
        return cls(origin_id(checkpoint.origin), checkpoint.size, checkpoint.root_hash)

    def encode(self) -> bytes:
        """Return the 52 calldata bytes of this anchor."""
        return (
            MAGIC
            + bytes([VERSION])
            + self.origin_id
            + self.tree_size.to_bytes(8, "big")
            + self.root_hash
        )

    @classmethod
    def decode(cls, data: bytes) -> AnchorPayload:
        """Parse anchor calldata strictly.

        :raises VerificationError: if ``data`` is not exactly one version-1 anchor.
        """
        # 1. Exactly 52 bytes.
        if not isinstance(data, bytes) or len(data) != SIZE:
            got = len(data) if isinstance(data, bytes) else type(data).__name__
            raise VerificationError(f"anchor calldata must be {SIZE} bytes (got {got})")
        # 2. The magic and a version this code knows.
        if data[:3] != MAGIC:
            raise VerificationError("calldata is not a Jiuyuan anchor (no JYA magic)")
        if data[3] != VERSION:
            raise VerificationError(f"unsupported anchor format version {data[3]}")
        # 3. The fields; their ranges are checked on construction.
        return cls(data[4:12], int.from_bytes(data[12:20], "big"), data[20:52])

    def matches(self, checkpoint: Checkpoint) -> bool:
        """Return whether this payload anchors exactly ``checkpoint``."""
        return self == AnchorPayload.for_checkpoint(checkpoint)


def intrinsic_gas(data: bytes) -> int:
    """Return the gas a plain transaction carrying ``data`` uses (no contract code runs).

    The larger of the standard cost (21,000 + 4 per zero byte + 16 per other byte) and the
    EIP-7623 floor (21,000 + 10 per token, a zero byte being 1 token and any other 4). Before
    Prague only the first applies, and it is never above the second.
    """
    zeros = data.count(0)
    nonzero = len(data) - zeros
    standard = TX_BASE_GAS + _ZERO_BYTE_GAS * zeros + _NONZERO_BYTE_GAS * nonzero
    floor = TX_BASE_GAS + _FLOOR_GAS_PER_TOKEN * (zeros + 4 * nonzero)
    return max(standard, floor)
