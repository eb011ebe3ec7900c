"""The running log: a sequencer, and a background worker that integrates and publishes."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from api.config import Settings
from api.db import Database
from api.log import outbox
from api.log import repository as repo
from api.log.integrator import Integrator
from api.log.publisher import Publisher
from api.log.sequencer import Sequenced, Sequencer
from ledger.note import NoteSigner

log = logging.getLogger(__name__)


class LogService:
    """Everything that writes the log, for one process.

    With ``background=True`` a worker thread integrates new entries as soon as a batch commits
    and publishes a checkpoint at most every ``checkpoint_interval_s`` while the log grows.
    """

    def __init__(
        self, db: Database, settings: Settings, signer: NoteSigner, *, background: bool = True
    ) -> None:
        self.db = db
        self.signer = signer
        self.integrator = Integrator(db.writer, batch=settings.integrate_batch)
        self.publisher = Publisher(db.writer, signer, settings.log_origin)
        self.sequencer = Sequencer(
            db.writer,
            max_batch=settings.max_batch_entries,
            max_pending=settings.max_pending_entries,
            on_commit=self._on_commit if background else None,
        )
        self._interval = settings.checkpoint_interval_s
        self._relay_batch = settings.max_batch_entries
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        if background:
            self._worker = threading.Thread(target=self._run, name="jiuyuan-log", daemon=True)
            self._worker.start()

    def relay(self, ids: Sequence[str] | None = None) -> list[Sequenced]:
        """Sequence staged outbox entries (``ids``, or all) and clear them; return the results.

        Domain endpoints call this after their transaction commits, so a response can carry
        the seq of what it wrote; the background worker sweeps up anything left behind.
        """
        done: list[Sequenced] = []
        while True:
            with self.db.engine.connect() as conn:
                subs = outbox.pending(conn, self._relay_batch, ids)
            if not subs:
                return done
            results = self.sequencer.append(subs)
            with self.db.engine.begin() as conn:
                outbox.remove(conn, [r.entry_id for r in results])
            done.extend(results)
            if ids is not None:
                return done

    def checkpoint_now(self) -> repo.CheckpointRow | None:
        """Integrate everything sequenced and publish a checkpoint if the tree grew."""
        self.integrator.integrate()
        return self.publisher.publish()

    def close(self) -> None:
        """Stop the worker (letting a relay in progress finish), then the sequencer. Entries
        still staged stay in the outbox for the next start to relay."""
        self._stop.set()
        self._wake.set()
        if self._worker is not None:
            self._worker.join()
        self.sequencer.close()

    def wake(self) -> None:
        """Ask the worker to relay, integrate and publish now (after a domain commit)."""
        self._wake.set()

    def _on_commit(self, _size: int) -> None:
        self._wake.set()

    def _run(self) -> None:
        last_publish = 0.0
        failures = 0
        while not self._stop.is_set():
            self._wake.wait(timeout=self._interval)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.relay()
                self.integrator.integrate()
                if time.monotonic() - last_publish >= self._interval:
                    self.publisher.publish()
                    last_publish = time.monotonic()
                failures = 0
            except Exception:
                failures += 1
                log.exception("integrating or publishing failed (%d in a row)", failures)
                self._stop.wait(min(30.0, 0.5 * 2**failures))
