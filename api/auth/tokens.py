"""Bearer tokens for people: HS256 JWTs (PyJWT) signed with a secret kept in the data dir.

The secret is created on first use (mode 0600, O_EXCL so concurrent workers agree on one) and
never logged. A token names its user; the role and scope it grants are re-read from the user
row on every request, so disabling a user or changing their role takes effect at once.
"""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from api.errors import Unauthorized

ALGORITHM = "HS256"
ISSUER = "jiuyuan"
AUDIENCE = "jiuyuan-api"


def load_or_create_secret(path: Path) -> bytes:
    """The token signing secret at ``path``, created (256 random bits) when absent."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32) + "\n")
    text = path.read_text().strip()
    if len(text) < 64:
        raise RuntimeError(f"token secret {path} is shorter than 256 bits; delete it to renew")
    return bytes.fromhex(text)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    role: str
    scope: str | None


class TokenIssuer:
    def __init__(self, secret: bytes, lifetime_s: int) -> None:
        self._secret = secret
        self.lifetime_s = lifetime_s

    def issue(self, user_id: str, role: str, scope: str | None) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": user_id,
            "role": role,
            "scope": scope,
            "iat": now,
            "exp": now + timedelta(seconds=self.lifetime_s),
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> TokenClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized(
                "bearer token expired; get a new one from POST /v1/auth/token",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        except jwt.InvalidTokenError as exc:
            raise Unauthorized(
                f"invalid bearer token ({exc})",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        return TokenClaims(str(claims["sub"]), str(claims.get("role")), claims.get("scope"))


_lock = threading.Lock()
_issuers: dict[tuple[Path, int], TokenIssuer] = {}


def issuer_for(secret_file: Path, lifetime_s: int) -> TokenIssuer:
    """One issuer per secret file and lifetime, loaded (or created) on first use."""
    key = (secret_file.resolve(), lifetime_s)
    with _lock:
        found = _issuers.get(key)
        if found is None:
            found = _issuers[key] = TokenIssuer(load_or_create_secret(secret_file), lifetime_s)
        return found
