"""Per-client token buckets for the public lookup, in process memory.

Clients are keyed by an HMAC of their address under a key made when the process starts, so
no address is kept, even in memory, beyond the request that carried it. Idle buckets are
dropped once they have refilled completely.

Behind a reverse proxy every request comes from the proxy's address: ``client_address`` then
takes the client from ``X-Forwarded-For``, but only when the peer is a configured trusted
proxy (anyone else could write any address there to dodge the limit).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class TokenBuckets:
    rate_per_s: float
    burst: int
    _buckets: dict[bytes, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    _last_sweep: float = 0.0

    def take(self, client: str, now: float | None = None) -> float:
        """Take one token for ``client``; return 0 if allowed, else seconds until one is free."""
        now = time.monotonic() if now is None else now
        key = hmac.new(self._key, client.encode(), hashlib.sha256).digest()[:16]
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate_per_s
            )
            bucket.updated = now
            if now - self._last_sweep > 60:
                self._sweep(now)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return (1 - bucket.tokens) / self.rate_per_s

    def _sweep(self, now: float) -> None:
        full = self.burst / self.rate_per_s
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full}
        self._last_sweep = now


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The address to rate-limit: the peer, or, when the peer is a trusted proxy, the nearest
    address in ``X-Forwarded-For`` that is not itself a trusted proxy (read right to left:
    each proxy appends the address it received the request from)."""
    if peer is None:
        return "unknown"
    if not trusted or not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",")]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            # A hop that is not an address is the client's own claim, or garbage: either way
            # it is what the trusted chain saw, and it keys a bucket like any other value.
            return hop or peer
    return hops[0] or peer


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)
