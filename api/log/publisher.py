"""Publishing: signing a checkpoint of the integrated tree, never one that forks the last.

Before a new checkpoint is signed, the consistency proof from the previous checkpoint is built
from the stored nodes and verified against both roots, so a damaged node table or a rewritten
history stops publication instead of producing a signed fork.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import Engine

from api.db import PUBLISHER_LOCK, lock_log
from api.log import repository as repo
from api.log.proofs import consistency_proof, tree_root
from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.errors import VerificationError
from ledger.merkle import verify_consistency
from ledger.note import NoteSigner

log = logging.getLogger(__name__)


class ForkRefused(RuntimeError):
    """The new tree is not an extension of the last published one."""


class Publisher:
    def __init__(self, engine: Engine, signer: NoteSigner, origin: str) -> None:
        self._engine = engine
        self._signer = signer
        self._origin = origin

    def publish(self) -> repo.CheckpointRow | None:
        """Sign and store a checkpoint of the integrated tree if it grew; return it."""
        with self._engine.begin() as conn:
            lock_log(conn, PUBLISHER_LOCK)
            # 1. Only publish when the integrated tree has grown past the last checkpoint.
            size = repo.integrated_size(conn)
            latest = repo.latest_checkpoint(conn)
            if size == 0 or (latest is not None and latest.tree_size >= size):
                return None
            # 2. The new root, from O(log n) stored nodes.
            root = tree_root(conn, size)
            # 3. The new tree must extend the last published one.
            if latest is not None:
                proof = consistency_proof(conn, latest.tree_size, size)
                try:
                    verify_consistency(latest.tree_size, size, proof, latest.root_hash, root)
                except VerificationError as exc:
                    log.critical("refusing to publish size %d: %s", size, exc)
                    raise ForkRefused(
                        f"tree of size {size} is not consistent with checkpoint "
                        f"{latest.tree_size}: {exc}"
                    ) from exc
            # 4. Sign and store.
            note = sign_checkpoint(Checkpoint(self._origin, size, root), self._signer)
            row = repo.CheckpointRow(size, root, note, datetime.now(UTC))
            repo.insert_checkpoint(conn, row)
        log.info("published checkpoint %d", size)
        return row
