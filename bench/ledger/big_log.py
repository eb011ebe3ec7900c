"""A large log built quickly: correct rows and tree nodes computed here and bulk-copied in.

Every byte is what the sequencer and integrator would have stored (the same ``ledger`` functions
compute it) but written with COPY, so a million entries take seconds. Nothing is taken on trust:
the publisher signs checkpoints only after rebuilding their roots and consistency proofs from the
stored nodes and checking them against the roots computed here, and the audit of row 3 recomputes
every leaf, chain link and node.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any

from sqlalchemy import text

from api.db import Database
from api.log.publisher import Publisher
from bench.ledger.workload import COLUMNS, COPY_TYPES, KIND, check_prefixes, transfers
from bench.postgres import driver_connection
from ledger.canonical import entry_bytes, format_ts
from ledger.chain import GENESIS, chain_hash
from ledger.merkle import CompactRange, leaf_hash

# One timestamp per group commit, as the sequencer gives them.
_COMMIT_ENTRIES = 2000
_COMMIT_GAP = timedelta(milliseconds=80)


@dataclass
class BigLog:
    size: int
    leaves: list[bytes] = field(default_factory=list)
    """Every leaf hash, to check inclusion proofs with."""
    data: list[bytes] = field(default_factory=list)
    """Every entry's stored bytes, for the in-memory hashing baseline."""
    roots: dict[int, bytes] = field(default_factory=dict)
    """Roots computed while building, at every size proofs or checkpoints are asked about."""
    checkpoints: list[int] = field(default_factory=list)


def build(
    db: Database, publisher: Publisher, size: int, sizes: Iterable[int], checkpoints: list[int]
) -> BigLog:
    """Fill the empty log with ``size`` entries and publish checkpoints at ``checkpoints``."""
    log = BigLog(size, checkpoints=sorted(checkpoints))
    wanted = {*sizes, *checkpoints, size}
    nodes: list[tuple[int, int, bytes]] = []
    with driver_connection(db.engine) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY ledger_entries ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(COPY_TYPES)
            for row in _entries(log, wanted, nodes):
                copy.write_row(row)
        with cur.copy("COPY ledger_tree_nodes (level, idx, hash) FROM STDIN (FORMAT BINARY)") as c:
            c.set_types(["int2", "int8", "bytea"])
            for node in nodes:
                c.write_row(node)
        conn.commit()
        conn.autocommit = True
        cur.execute("ANALYZE ledger_entries")
        cur.execute("ANALYZE ledger_tree_nodes")
        conn.autocommit = False
    for cp in log.checkpoints:
        _set_integrated(db, cp)
        published = publisher.publish()
        if published is None or published.root_hash != log.roots[cp]:
            raise AssertionError(f"checkpoint {cp} was not published with the computed root")
    _set_integrated(db, size)
    return log


def _entries(
    log: BigLog, wanted: set[int], nodes: list[tuple[int, int, bytes]]
) -> Iterator[tuple[Any, ...]]:
    work = transfers(log.size, seed=1_000_003)
    check_prefixes(work[:: max(1, log.size // 500)])
    edge = CompactRange()
    chain = GENESIS
    start = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    ts, ts_text = start, format_ts(start)
    for seq, entry in enumerate(work):
        if seq % _COMMIT_ENTRIES == 0:
            ts = start + _COMMIT_GAP * (seq // _COMMIT_ENTRIES)
            ts_text = format_ts(ts)
        prefix = entry.prefix()
        data = entry_bytes(prefix, seq, ts_text)
        leaf = leaf_hash(data)
        chain = chain_hash(chain, leaf)
        nodes.extend(edge.append(leaf))
        if edge.size in wanted:
            log.roots[edge.size] = edge.root()
        log.leaves.append(leaf)
        log.data.append(data)
        yield (seq, entry.entry_id, KIND, ts, sha256(prefix).digest(), data, leaf, chain)


def _set_integrated(db: Database, size: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_state SET integrated_size = :n WHERE id = 1"), {"n": size})
