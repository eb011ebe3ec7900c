"""C2SP transparency log checkpoints (https://c2sp.org/tlog-checkpoint).

A checkpoint is a signed note whose text is the log's origin, its tree size in decimal and its
RFC 6962 root hash in base64, one per line, then optional extension lines. The log signs it with
:mod:`ledger.note`; the key name should be the origin.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Final

from ledger.errors import VerificationError
from ledger.note import NoteSigner, NoteVerifier, open_note

MAX_TREE_SIZE: Final = 2**63 - 1
"""The largest tree size accepted: it fits a PostgreSQL ``bigint`` and Go's ``int64``."""

HASH_SIZE: Final = 32
"""Bytes in a SHA-256 root hash."""

_SIZE: Final = re.compile("0|[1-9][0-9]{0,18}")  # ASCII digits, no leading zeros
_CONTROL: Final = re.compile("[\x00-\x1f\ud800-\udfff]")  # includes "\n"


def _check_line(line: object, what: str) -> None:
    if not isinstance(line, str) or line == "":
        raise VerificationError(f"checkpoint {what} must be a non-empty str")
    if _CONTROL.search(line):
        raise VerificationError(f"checkpoint {what} must be one line of text without controls")


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed statement of its tree: origin, size and root hash."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # 1. The origin is one non-empty line.
        _check_line(self.origin, "origin")
        # 2. The size is a non-negative int (not a bool) within range.
        if type(self.size) is not int or not 0 <= self.size <= MAX_TREE_SIZE:
            raise VerificationError(f"checkpoint size must be an int in 0..2**63-1: {self.size!r}")
        # 3. The root hash is a 32-byte SHA-256 hash.
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise VerificationError("checkpoint root hash must be 32 bytes")
        # 4. Extension lines, if any, are each one non-empty line.
        if not isinstance(self.extensions, tuple):
            raise VerificationError("checkpoint extensions must be a tuple of str")
        for line in self.extensions:
            _check_line(line, "extension line")

    def body(self) -> str:
        """Return the checkpoint's note text, each line ending in a newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode("ascii")]
        return "".join(f"{line}\n" for line in (*lines, *self.extensions))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse a checkpoint's note text strictly.

        :raises VerificationError: if a line is missing, empty or malformed, the size has
            leading zeros or is out of range, or the root hash is not canonical base64 of 32 bytes.
        """
        # 1. Text of at least three lines, each ending in a newline.
        if not isinstance(text, str) or not text.endswith("\n"):
            raise VerificationError("malformed checkpoint: text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise VerificationError("malformed checkpoint: needs origin, size and root hash")
        origin, size_text, root_text, *extensions = lines
        # 2. The size: ASCII decimal without leading zeros.
        if _SIZE.fullmatch(size_text) is None:
            raise VerificationError(f"malformed checkpoint: bad tree size {size_text[:40]!r}")
        # 3. The root hash: standard padded base64, written the one canonical way.
        try:
            root_hash = base64.b64decode(root_text, validate=True)
        except (binascii.Error, ValueError):
            raise VerificationError("malformed checkpoint: root hash is not base64") from None
        if base64.b64encode(root_hash).decode("ascii") != root_text:
            raise VerificationError("malformed checkpoint: root hash is not canonical base64")
        # 4. The origin, range, hash length and extension lines are checked on construction.
        return cls(origin, int(size_text), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """Return ``checkpoint`` as a signed note by ``signer``.

    The spec recommends that the signer's key name equal the checkpoint's origin.
    """
    return signer.sign(checkpoint.body())


def verify_checkpoint(note: str, verifier: NoteVerifier, origin: str | None = None) -> Checkpoint:
    """Verify a checkpoint note signed by ``verifier`` and return the checkpoint.

    Other signatures (witness cosignatures, rotated keys) are ignored. The key name is not
    required to equal the origin: the spec only recommends it (the Go checksum database's key
    ``sum.golang.org`` signs origin ``go.sum database tree``), so pass ``origin`` to pin the log.

    :raises VerificationError: if ``verifier`` did not validly sign the note, the text is not a
        well-formed checkpoint, or ``origin`` is given and differs from the checkpoint's.
    """
    # 1. The note must carry a valid signature by the verifier's key.
    text = open_note(note, [verifier])
    # 2. Its text must be a well-formed checkpoint.
    checkpoint = Checkpoint.parse(text)
    # 3. It must be for the log the caller expects.
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(
            f"checkpoint is for origin {checkpoint.origin!r}, expected {origin!r}"
        )
    return checkpoint
