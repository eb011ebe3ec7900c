"""The hash chain that links every entry to the one before it.

``chain[n] = SHA-256(chain[n-1] || leaf[n])`` with ``chain[-1]`` = 32 zero bytes. The chain lets a
reader check order and completeness of a stored log one row at a time, without the tree.
"""

from hashlib import sha256

GENESIS: bytes = bytes(32)
"""``chain[-1]``: the value the first entry's chain hash is computed from."""


def chain_hash(previous: bytes, leaf: bytes) -> bytes:
    """Return the chain hash of an entry given the previous chain hash and its leaf hash."""
    return sha256(previous + leaf).digest()
