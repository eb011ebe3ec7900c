"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.

Keys, key hashes, signature lines and signed bytes are those of golang.org/x/mod/sumdb/note, so a
note signed here opens with the Go tooling (and witnesses built on it) and the other way round.

A note is its text (ending in a newline), a blank line, then lines
``— <key name> base64(key hash || signature)``; each signature covers the text bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import LedgerError, VerificationError

ALG_ED25519: Final = 0x01
"""The signature type byte of Ed25519 in key hashes and encoded keys."""

MAX_SIGNATURES: Final = 100
"""Notes with more signature lines than this are rejected, as golang.org/x/mod/sumdb/note does."""

_SIG_PREFIX: Final = "\u2014 "  # EM DASH, space
_BAD_NAME_CHAR: Final = re.compile(r"[\s+\ud800-\udfff]")
_CONTROL: Final = re.compile("[\x00-\x09\x0b-\x1f]")  # every ASCII control except "\n"
_HEX8: Final = re.compile("[0-9a-fA-F]{8}")


def is_valid_key_name(name: str) -> bool:
    """Return whether ``name`` may name a note key: non-empty, no whitespace, no ``+``."""
    return isinstance(name, str) and name != "" and _BAD_NAME_CHAR.search(name) is None


def key_hash(name: str, public_key: bytes) -> int:
    """Return the key hash (key ID) of an Ed25519 key: SHA-256(name, 0x0A, 0x01, key)[:4]."""
    digest = sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(text: str) -> bytes | None:
    """Decode standard padded base64, refusing any other spelling of the same bytes.

    Go accepts nonzero padding bits; refusing them keeps a note's bytes unique for its content.
    """
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if _b64(data) == text else None


def _check_text(text: str) -> str | None:
    """Return why ``text`` cannot be a note's text, or None if it can."""
    if not isinstance(text, str):
        return f"note text must be a str (got {type(text).__name__})"
    if not text.endswith("\n"):
        return "note text must end with a newline"
    if _CONTROL.search(text):
        return "note text must not contain control characters other than newline"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "note text is not valid Unicode (lone surrogate)"
    return None


@dataclass(frozen=True)
class NoteVerifier:
    """A trusted Ed25519 note key: its name, key hash and 32-byte public key."""

    name: str
    key_hash: int
    public_key_bytes: bytes

    def __post_init__(self) -> None:
        # 1. The name must be usable in a signature line.
        if not is_valid_key_name(self.name):
            raise VerificationError(f"invalid key name {self.name!r}: empty, or has space or '+'")
        # 2. The key must be a 32-byte Ed25519 public key.
        if not isinstance(self.public_key_bytes, bytes) or len(self.public_key_bytes) != 32:
            raise VerificationError("an Ed25519 public key is 32 bytes")
        # 3. The key hash must be the one this name and key give.
        if self.key_hash != key_hash(self.name, self.public_key_bytes):
            raise VerificationError(f"key hash does not match the key for {self.name!r}")

    @classmethod
    def from_public_key(cls, name: str, public_key_bytes: bytes) -> NoteVerifier:
        """Return the verifier for an Ed25519 public key under ``name``.

        :raises VerificationError: if the name or the key is invalid.
        """
        if not isinstance(public_key_bytes, bytes) or len(public_key_bytes) != 32:
            raise VerificationError("an Ed25519 public key is 32 bytes")
        return cls(name, key_hash(name, public_key_bytes), public_key_bytes)

    @classmethod
    def from_verifier_key(cls, vkey: str) -> NoteVerifier:
        """Parse a verifier key ``<name>+<8 hex digits key hash>+<base64(0x01 || key)>``.

        :raises VerificationError: if the string is malformed, names another algorithm, or its
            key hash does not match its name and key.
        """
        if not isinstance(vkey, str):
            raise VerificationError(f"verifier key must be a str (got {type(vkey).__name__})")
        # 1. Split at the first two '+': the name has none, the base64 may.
        name, _, rest = vkey.partition("+")
        hash_hex, _, key_b64 = rest.partition("+")
        if not is_valid_key_name(name):
            raise VerificationError("malformed verifier key: bad or missing key name")
        # 2. The key hash is exactly 8 hex digits.
        if _HEX8.fullmatch(hash_hex) is None:
            raise VerificationError("malformed verifier key: key hash is not 8 hex digits")
        # 3. The key is canonical base64 of an algorithm byte and the key.
        key = _b64decode(key_b64)
        if not key:
            raise VerificationError("malformed verifier key: key is not valid base64")
        # 4. Only Ed25519 is supported.
        if key[0] != ALG_ED25519:
            raise VerificationError(f"unsupported verifier key algorithm 0x{key[0]:02x}")
        # 5. The name, key length and key hash are checked on construction.
        return cls(name, int(hash_hex, 16), key[1:])

    def verifier_key(self) -> str:
        """Return this key as a verifier key string (the inverse of ``from_verifier_key``)."""
        encoded = _b64(bytes([ALG_ED25519]) + self.public_key_bytes)
        return f"{self.name}+{self.key_hash:08x}+{encoded}"

    def _accepts(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key_bytes).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 note signing key with its name; ``key_hash`` is derived from both."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    public_key_bytes: bytes = field(init=False)
    key_hash: int = field(init=False)

    def __post_init__(self) -> None:
        if not is_valid_key_name(self.name):
            raise LedgerError(f"invalid key name {self.name!r}: empty, or has space or '+'")
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise LedgerError("a note signer needs an Ed25519 private key")
        public = self.private_key.public_key().public_bytes_raw()
        object.__setattr__(self, "public_key_bytes", public)
        object.__setattr__(self, "key_hash", key_hash(self.name, public))

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """Return a signer with a new random key.

        :raises LedgerError: if ``name`` is not a valid key name.
        """
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_private_key(cls, text: str) -> NoteSigner:
        """Parse a Go note private key ``PRIVATE+KEY+<name>+<hash>+<base64(0x01 || seed)>``.

        :raises LedgerError: if the string is malformed or its key hash does not match.
        """
        if not isinstance(text, str):
            raise LedgerError(f"private key must be a str (got {type(text).__name__})")
        # 1. The fixed "PRIVATE+KEY+" marker, then name and key hash up to the next '+'.
        marker, _, rest = text.partition("+KEY+")
        name, _, rest = rest.partition("+")
        hash_hex, _, seed_b64 = rest.partition("+")
        if marker != "PRIVATE" or _HEX8.fullmatch(hash_hex) is None:
            raise LedgerError("malformed note private key")
        # 2. An algorithm byte and a 32-byte Ed25519 seed.
        seed = _b64decode(seed_b64)
        if not seed or seed[0] != ALG_ED25519 or len(seed) != 33:
            raise LedgerError("malformed note private key: not an Ed25519 seed")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(seed[1:]))
        # 3. The stated key hash must match the public key derived from the seed.
        if signer.key_hash != int(hash_hex, 16):
            raise LedgerError("note private key hash does not match its key")
        return signer

    def private_key_text(self) -> str:
        """Return the key in Go's note private key format; keep it secret."""
        seed = self.private_key.private_bytes_raw()
        return f"PRIVATE+KEY+{self.name}+{self.key_hash:08x}+{_b64(bytes([ALG_ED25519]) + seed)}"

    def verifier(self) -> NoteVerifier:
        """Return the verifier for this key."""
        return NoteVerifier(self.name, self.key_hash, self.public_key_bytes)

    def verifier_key(self) -> str:
        """Return the verifier key string for this key, to publish."""
        return self.verifier().verifier_key()

    def sign(self, text: str) -> str:
        """Return ``text`` as a signed note bearing one signature by this key.

        :raises LedgerError: if ``text`` does not end in a newline, holds control characters
            other than newline, or is not valid Unicode.
        """
        problem = _check_text(text)
        if problem is not None:
            raise LedgerError(problem)
        signature = self.private_key.sign(text.encode())
        blob = self.key_hash.to_bytes(4, "big") + signature
        return f"{text}\n{_SIG_PREFIX}{self.name} {_b64(blob)}\n"


def open_note(note: str, verifiers: Sequence[NoteVerifier]) -> str:
    """Verify a signed note and return its text (including the final newline).

    Signatures by keys not in ``verifiers`` (name and key hash both matching) are ignored. Every
    signature by a known key must verify, and at least one must be present.

    :raises VerificationError: if the note is malformed, has more than ``MAX_SIGNATURES``
        signatures, has no signature by a known key, or has one that does not verify.
    """
    # 1. The whole note is Unicode text without control characters other than newline.
    if not isinstance(note, str):
        raise VerificationError(f"note must be a str (got {type(note).__name__})")
    if _CONTROL.search(note):
        raise VerificationError("malformed note: control character other than newline")
    # 2. The text ends at the last blank line; signature lines follow, each ending in newline.
    split = note.rfind("\n\n")
    if split < 0:
        raise VerificationError("malformed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise VerificationError("malformed note: signature lines must end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise VerificationError(f"malformed note: more than {MAX_SIGNATURES} signatures")
    try:
        message = text.encode()
    except UnicodeEncodeError:
        raise VerificationError("malformed note: not valid Unicode") from None
    # 3. Index the trusted keys by (name, key hash); None marks two different keys colliding.
    known: dict[tuple[str, int], NoteVerifier | None] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_hash)
        prior = known.get(slot, verifier)
        same = prior is not None and prior.public_key_bytes == verifier.public_key_bytes
        known[slot] = verifier if same else None
    verified = 0
    for line in lines:
        # 4. Each line is "— <name> <base64(key hash || signature)>".
        if not line.startswith(_SIG_PREFIX):
            raise VerificationError("malformed note: signature line does not start with '— '")
        name, _, encoded = line[len(_SIG_PREFIX) :].partition(" ")
        blob = _b64decode(encoded)
        if not is_valid_key_name(name) or blob is None or len(blob) < 5:
            raise VerificationError("malformed note: bad signature line")
        key_id = int.from_bytes(blob[:4], "big")
        # 5. Signatures by unknown keys are ignored, as the spec requires.
        if (name, key_id) not in known:
            continue
        trusted = known[(name, key_id)]
        if trusted is None:
            raise VerificationError(f"ambiguous key {name}+{key_id:08x}: two trusted keys match")
        # 6. A signature by a known key must verify.
        if not trusted._accepts(message, blob[4:]):
            raise VerificationError(f"invalid signature for key {name}+{key_id:08x}")
        verified += 1
    # 7. At least one known key must have signed.
    if verified == 0:
        raise VerificationError("note has no signature by a trusted key")
    return text
