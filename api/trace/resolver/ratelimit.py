"""Per-client token buckets for the public lookup, in process memory.

Clients are keyed by an HMAC of their address under a key made when the process starts, so
no address is kept, even in memory, beyond the request that carried it. Idle buckets are
dropped once they have refilled completely.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from dataclasses import dataclass, field


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
