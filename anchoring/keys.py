"""The anchoring account's key: from an encrypted keystore file, or from the environment.

The key never leaves this object: its ``repr`` shows the address only, and errors say which
setting to fix without echoing any secret.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from anchoring.errors import AnchoringConfigError
from anchoring.ethereum import Account, LocalAccount


@dataclass(frozen=True)
class SignedTx:
    """A signed transaction: its hash and the raw bytes to (re)broadcast."""

    tx_hash: bytes
    raw: bytes


@dataclass(frozen=True)
class AnchorKey:
    """The account that sends anchors; ``address`` is its public identity."""

    address: str
    _account: LocalAccount = field(repr=False, compare=False)

    @classmethod
    def from_private_key(cls, key: SecretStr) -> AnchorKey:
        """Load a hex private key (with or without 0x).

        :raises AnchoringConfigError: if it is not a valid secp256k1 private key.
        """
        try:
            account: LocalAccount = Account.from_key(key.get_secret_value().strip())
        except Exception:
            raise AnchoringConfigError(
                "JIUYUAN_CHAIN_PRIVATE_KEY is not a valid 32-byte hex private key"
            ) from None
        return cls(account.address, account)

    @classmethod
    def from_keystore(cls, path: Path, password: SecretStr | None) -> AnchorKey:
        """Decrypt an Ethereum JSON keystore (v3, as eth-account and geth write it).

        :raises AnchoringConfigError: if the file is missing or malformed, the password is
            missing, or it does not decrypt the file.
        """
        if password is None:
            raise AnchoringConfigError(
                f"JIUYUAN_CHAIN_KEYSTORE_PASSWORD is needed to decrypt the keystore {path}"
            )
        try:
            document: Any = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AnchoringConfigError(f"no keystore file at {path}") from None
        except (OSError, ValueError) as exc:
            raise AnchoringConfigError(f"keystore {path} is not readable JSON: {exc}") from None
        try:
            secret = Account.decrypt(document, password.get_secret_value())
        except ValueError:
            raise AnchoringConfigError(
                f"cannot decrypt keystore {path}: wrong password or damaged file"
            ) from None
        except (KeyError, TypeError):
            raise AnchoringConfigError(f"keystore {path} is not an Ethereum v3 keystore") from None
        account: LocalAccount = Account.from_key(secret)
        return cls(account.address, account)

    @classmethod
    def generate(cls) -> AnchorKey:
        """Return a new random key (for development chains and tests)."""
        account: LocalAccount = Account.create()
        return cls(account.address, account)

    def sign(self, tx: dict[str, Any]) -> SignedTx:
        """Sign a transaction dict (EIP-1559 fields) and return its hash and raw bytes."""
        signed = self._account.sign_transaction(tx)
        return SignedTx(bytes(signed.hash), bytes(signed.raw_transaction))

    def write_keystore(
        self, path: Path, password: SecretStr, *, iterations: int | None = None
    ) -> None:
        """Write this key as an encrypted v3 keystore, readable by the owner only (0600).

        ``iterations`` lowers the scrypt work factor (tests); the default is eth-account's.
        """
        kwargs: dict[str, Any] = {} if iterations is None else {"iterations": iterations}
        document = Account.encrypt(self._account.key, password.get_secret_value(), **kwargs)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh)

    def private_key_hex(self) -> str:
        """Return the private key as hex; only for handing to a child process's environment."""
        return "0x" + bytes(self._account.key).hex()
