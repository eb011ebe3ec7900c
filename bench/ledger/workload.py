"""The entries the ledger benchmark writes: case transfers, as dealers' scanners send them."""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass
from typing import Any

from ledger.canonical import entry_prefix

KIND = "transfer.case"
COLUMNS = "seq, entry_id, kind, ts, body_digest, data, leaf_hash, chain_hash"
"""The columns of ``ledger_entries``, in the order rows are written by COPY and INSERT."""
COPY_TYPES = ["int8", "varchar", "varchar", "timestamptz", "bytea", "bytea", "bytea", "bytea"]


@dataclass(frozen=True, slots=True)
class Transfer:
    """The facts of one entry; ``payload()`` and ``prefix()`` are the same entry two ways."""

    entry_id: str
    lot: str
    qty: int
    source: str
    dest: str

    def payload(self) -> dict[str, Any]:
        return {
            "lot": self.lot,
            "gtin": "06901234567892",
            "qty": self.qty,
            "from": self.source,
            "to": self.dest,
            "note": "酱香型 53%vol 500ml",
        }

    def prefix(self) -> bytes:
        """The canonical prefix written out directly, for building a large log quickly.

        JCS sorts the keys (from, gtin, lot, note, qty, to) and these values need no escaping;
        :func:`check_prefixes` confirms the bytes equal :func:`ledger.canonical.entry_prefix`'s.
        """
        return (
            f'{{"id":"{self.entry_id}","kind":"{KIND}","payload":{{"from":"{self.source}",'
            f'"gtin":"06901234567892","lot":"{self.lot}","note":"酱香型 53%vol 500ml",'
            f'"qty":{self.qty},"to":"{self.dest}"}}'
        ).encode()


def transfers(count: int, seed: int) -> list[Transfer]:
    rng = random.Random(seed)
    return [
        Transfer(
            entry_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            lot=f"L2026{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{'ABC'[i % 3]}",
            qty=rng.randrange(1, 121),
            source=f"DEALER-{rng.randrange(10_000):04d}",
            dest=f"STORE-{rng.randrange(100_000):05d}",
        )
        for i in range(count)
    ]


def check_prefixes(sample: list[Transfer]) -> None:
    for t in sample:
        if t.prefix() != entry_prefix(t.entry_id, KIND, t.payload()):
            raise AssertionError(f"hand-written prefix of {t.entry_id} is not canonical")


def stdlib_json(t: Transfer) -> bytes:
    """The same entry through the stdlib's C encoder: the cheapest sorted-key JSON there is."""
    body = {"id": t.entry_id, "kind": KIND, "payload": t.payload()}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
