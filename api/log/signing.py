"""The checkpoint signing key on disk: created once (mode 0600), never logged or served."""

from __future__ import annotations

import os
from pathlib import Path

from ledger.note import NoteSigner


class SigningKeyMissing(RuntimeError):
    pass


def init_signing_key(path: Path, name: str) -> tuple[NoteSigner, bool]:
    """Load the key at ``path``, creating it when absent. Returns (signer, created)."""
    if path.exists():
        return load_signing_key(path), False
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = NoteSigner.generate(name)
    # O_EXCL: two processes racing to create the key must not overwrite each other's.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_signing_key(path), False
    with os.fdopen(fd, "w") as fh:
        fh.write(signer.private_key_text() + "\n")
    return signer, True


def load_signing_key(path: Path) -> NoteSigner:
    if not path.exists():
        raise SigningKeyMissing(
            f"no checkpoint signing key at {path}; create one with `jiuyuan keys init`"
        )
    return NoteSigner.from_private_key(path.read_text().strip())
