"""Integration: adding sequenced leaves to the stored tree.

Each run reads the leaves past the integrated size, extends the tree's right edge (a compact
range) and stores every subtree that became complete, then moves the integrated size on, all in
one transaction. The in-memory right edge is a cache; it is rebuilt from stored nodes whenever it
does not match the stored size (after a restart, or when another process integrated).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from api.db import INTEGRATOR_LOCK, lock_log
from api.log import repository as repo
from ledger.merkle import CompactRange
from ledger.tree import root_node_ids


class Integrator:
    def __init__(self, engine: Engine, *, batch: int = 100_000) -> None:
        self._engine = engine
        self._batch = batch
        self._edge: CompactRange | None = None

    def integrate(self) -> int:
        """Integrate everything sequenced so far; return the integrated size."""
        while True:
            size, done = self._step()
            if done:
                return size

    def _step(self) -> tuple[int, bool]:
        with self._engine.begin() as conn:
            lock_log(conn, INTEGRATOR_LOCK)
            size = repo.integrated_size(conn)
            total = repo.log_size(conn)
            if total <= size:
                return size, True
            edge = self._edge_at(conn, size)
            stop = min(total, size + self._batch)
            completed: list[tuple[int, int, bytes]] = []
            for leaf in repo.leaf_hashes(conn, size, stop):
                completed.extend(edge.append(leaf))
            if edge.size != stop:
                raise RuntimeError(f"log has a gap below seq {stop}: integrated to {edge.size}")
            repo.insert_nodes(conn, completed)
            repo.set_integrated_size(conn, stop)
        self._edge = edge
        return stop, stop >= total

    def _edge_at(self, conn: Connection, size: int) -> CompactRange:
        cached = self._edge
        if cached is not None and cached.size == size:
            # A copy, so a rolled-back transaction leaves the cache as it was.
            return CompactRange.from_hashes(size, cached.hashes)
        ids = root_node_ids(size)
        stored = repo.get_nodes(conn, ids)
        return CompactRange.from_hashes(size, [stored[i] for i in ids])
