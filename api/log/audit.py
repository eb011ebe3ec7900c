"""``jiuyuan verify``: stream the stored log through :class:`ledger.audit.LogAudit`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Engine

from api.db import is_sqlite
from api.log import proofs
from api.log import repository as repo
from ledger.audit import LogAudit, StoredCheckpoint
from ledger.note import NoteVerifier


def audit_log(
    engine: Engine,
    verifier: NoteVerifier,
    origin: str,
    progress: Callable[[int], None] | None = None,
) -> LogAudit:
    """Check the whole stored log; raise :class:`ledger.audit.LogFault` at the first fault."""
    with engine.connect() as conn, conn.begin():
        # One read transaction: on PostgreSQL a consistent snapshot of a live log.
        stored = [
            StoredCheckpoint(c.tree_size, c.root_hash, c.note) for c in repo.all_checkpoints(conn)
        ]
        total = repo.log_size(conn)
        # Stop at the size this transaction saw; a live log may grow while we read.
        limit = max([total, *(c.tree_size for c in stored)])

        def consistency(size1: int, size2: int) -> Sequence[bytes]:
            return proofs.consistency_proof(conn, size1, size2)

        def nodes(level: int, start: int, stop: int) -> dict[int, bytes]:
            return repo.node_range(conn, level, start, stop)

        def node_digest(level: int, start: int, stop: int) -> bytes | None:
            return repo.node_range_digest(conn, level, start, stop)

        audit = LogAudit(
            verifier,
            origin,
            stored,
            consistency,
            nodes=nodes,
            integrated_size=repo.integrated_size(conn),
            node_digest=None if is_sqlite(conn) else node_digest,
        )
        # The consistency proofs need their own cursor while the entries stream on another.
        with engine.connect() as stream_conn, stream_conn.begin():
            for n, (seq, data, leaf, chain) in enumerate(repo.stream_entries(stream_conn)):
                if seq >= limit:
                    break
                audit.entry(seq, data, leaf, chain)
                if progress is not None and n % 10_000 == 9_999:
                    progress(10_000)
        if progress is not None:
            progress(audit.size % 10_000)
        audit.finish()
    return audit
