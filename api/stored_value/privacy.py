"""Keeping members' personal data: encrypted at rest, found by keyed hash, committed with salt.

One 256-bit master key in the data directory (made on first use, mode 0600, never logged)
yields, by HKDF, independent keys for AES-256-GCM encryption of phone, name and ID number,
for the HMAC-SHA256 lookup hash of a phone number, and for member tokens and counter QR codes.
The ledger only ever sees salted commitments: SHA-256 over a domain label, the member's own
random 256-bit salt and the value. Erasure deletes the salt with the data, after which the
commitments in the ledger can neither be opened nor tested against a guessed phone number.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from api.auth.tokens import load_or_create_secret
from api.errors import AppError

_SEALED_V1 = b"\x01"
_NONCE_BYTES = 12
_COMMITMENT_LABEL = b"jiuyuan/member-commitment/v1\x00"


class MemberDataUnreadable(AppError):
    status_code = 500
    code = "member_data_unreadable"


def _derive(master: bytes, label: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode())
    return hkdf.derive(master)


class MemberKeys:
    """The keys derived from the member master key. Its repr shows nothing secret."""

    __slots__ = ("_aead", "_lookup", "_tokens")

    def __init__(self, master: bytes) -> None:
        if len(master) < 32:
            raise ValueError("the member master key must have at least 256 bits")
        self._aead = AESGCM(_derive(master, "jiuyuan member data encryption v1"))
        self._lookup = _derive(master, "jiuyuan member phone lookup v1")
        self._tokens = _derive(master, "jiuyuan member tokens v1")

    def __repr__(self) -> str:
        return "MemberKeys(<secret>)"

    def seal(self, text: str, member_id: str, field: str) -> bytes:
        """AES-256-GCM with a random nonce; the member and field are bound as associated
        data, so a ciphertext copied to another row or column does not decrypt."""
        nonce = os.urandom(_NONCE_BYTES)
        aad = f"{member_id}\x00{field}".encode()
        return _SEALED_V1 + nonce + self._aead.encrypt(nonce, text.encode(), aad)

    def open(self, sealed: bytes, member_id: str, field: str) -> str:
        sealed = bytes(sealed)
        if sealed[:1] != _SEALED_V1:
            raise MemberDataUnreadable(f"member {member_id}'s {field} has an unknown format")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            plain = self._aead.decrypt(nonce, body, f"{member_id}\x00{field}".encode())
        except InvalidTag:
            raise MemberDataUnreadable(
                f"member {member_id}'s {field} does not decrypt with this server's member key "
                "(is JIUYUAN_MEMBER_KEY_FILE the key it was written with?)"
            ) from None
        return plain.decode()

    def phone_lookup(self, issuer_id: str, phone: str) -> bytes:
        """HMAC-SHA256 of the number within one issuer: equal numbers of different issuers'
        members do not match, so the lookup column links nobody across programmes."""
        return hmac.new(self._lookup, f"{issuer_id}\x00{phone}".encode(), hashlib.sha256).digest()

    def token_mac(self, message: str) -> bytes:
        return hmac.new(self._tokens, message.encode(), hashlib.sha256).digest()

    def request_digest(self, canonical: bytes) -> bytes:
        """Keyed digest of a request body (which may hold a phone number or an ID)."""
        return hmac.digest(self._tokens, b"request\x00" + canonical, "sha256")


def new_salt() -> bytes:
    return secrets.token_bytes(32)


def commitment(salt: bytes, field: str, value: str) -> str:
    """Hex SHA-256(label ‖ field ‖ 0x00 ‖ salt ‖ value): what the ledger holds instead of the
    value. The member, given the salt, can recompute it; nobody can without the salt."""
    digest = hashlib.sha256(_COMMITMENT_LABEL + field.encode() + b"\x00" + bytes(salt))
    digest.update(value.encode())
    return digest.hexdigest()


_lock = threading.Lock()
_keys: dict[Path, MemberKeys] = {}


def keys_for(path: Path) -> MemberKeys:
    """The member keys from the master key file at ``path``, created on first use."""
    resolved = path.resolve()
    with _lock:
        found = _keys.get(resolved)
        if found is None:
            found = _keys[resolved] = MemberKeys(load_or_create_secret(resolved))
        return found
