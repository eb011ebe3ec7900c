"""Member tokens (the member's own access) and the counter QR code (short-lived, rotating).

Both are MACs under a key derived from the member master key, so nothing secret is stored:

- member token ``mt.<member id>.<generation>.<mac>``: lets a member read their own balance and
  history; valid until the member's token generation is bumped (re-issue) or they are erased.
- QR code ``mq.<member id>.<expiry>.<mac>``: shown on the member's phone at the counter instead
  of the phone number; valid for ``member_qr_lifetime_s`` seconds, a new one on every request.
"""

from __future__ import annotations

import base64
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api.errors import Unauthorized, Unprocessable
from api.stored_value.privacy import MemberKeys

_MAC_BYTES = 20


class QrCodeInvalid(Unprocessable):
    code = "qr_invalid"


class QrCodeExpired(Unprocessable):
    code = "qr_expired"


def _mac(keys: MemberKeys, *parts: str) -> str:
    raw = keys.token_mac("\x00".join(parts))[:_MAC_BYTES]
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def member_token(keys: MemberKeys, member_id: str, generation: int) -> str:
    return f"mt.{member_id}.{generation}.{_mac(keys, 'member', member_id, str(generation))}"


@dataclass(frozen=True, slots=True)
class MemberTokenClaims:
    member_id: str
    generation: int


def read_member_token(keys: MemberKeys, token: str) -> MemberTokenClaims:
    bad = Unauthorized(
        "invalid member token; ask the store to issue a new one",
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "mt" or not parts[2].isdigit():
        raise bad
    _, member_id, generation, mac = parts
    if not hmac.compare_digest(mac, _mac(keys, "member", member_id, generation)):
        raise bad
    return MemberTokenClaims(member_id, int(generation))


def qr_code(
    keys: MemberKeys, member_id: str, now: datetime, lifetime_s: int
) -> tuple[str, datetime]:
    expires = int(now.timestamp()) + lifetime_s
    token = f"mq.{member_id}.{expires}.{_mac(keys, 'qr', member_id, str(expires))}"
    return token, datetime.fromtimestamp(expires, UTC)


def read_qr_code(keys: MemberKeys, token: str, now: datetime) -> str:
    """The member a QR code names, if it is genuine and not expired."""
    parts = token.strip().split(".")
    if len(parts) != 4 or parts[0] != "mq" or not parts[2].isdigit():
        raise QrCodeInvalid("this is not a Jiuyuan member QR code")
    _, member_id, expires, mac = parts
    if not hmac.compare_digest(mac, _mac(keys, "qr", member_id, expires)):
        raise QrCodeInvalid("this member QR code is not genuine")
    if now >= datetime.fromtimestamp(int(expires), UTC):
        late = now - datetime.fromtimestamp(int(expires), UTC)
        raise QrCodeExpired(
            f"this member QR code expired {late // timedelta(seconds=1)} s ago; ask the member "
            "to refresh it"
        )
    return member_id
