"""Sequencing with group commit.

Requests from every thread of a process queue here; one writer thread takes as many as fit in a
batch, assigns dense sequence numbers under the log's writer lock and commits them in one
transaction. A request is answered only after its batch is durably committed. Across processes
the lock (PostgreSQL advisory lock, SQLite ``BEGIN IMMEDIATE``) and the primary key on ``seq``
keep the log linear: each batch continues from the tail it reads under the lock.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

from sqlalchemy import Engine

from api.db import SEQUENCER_LOCK, lock_log
from api.errors import AppError, Conflict, Overloaded
from api.log import repository as repo
from ledger.canonical import entry_bytes, entry_prefix, format_ts
from ledger.chain import GENESIS, chain_hash
from ledger.merkle import leaf_hash

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Submission:
    """A validated client entry, already canonically encoded up to its ``seq`` and ``ts``."""

    entry_id: str
    kind: str
    prefix: bytes
    digest: bytes

    @classmethod
    def of(cls, entry_id: str, kind: str, payload: dict[str, Any]) -> Submission:
        prefix = entry_prefix(entry_id, kind, payload)
        return cls(entry_id, kind, prefix, sha256(prefix).digest())


@dataclass(frozen=True, slots=True)
class Sequenced:
    """The durable result for one submitted entry."""

    seq: int
    entry_id: str
    leaf_hash: bytes
    chain_hash: bytes
    ts: datetime
    duplicate: bool = False


class EntryIdConflict(Conflict):
    code = "entry_id_conflict"


class StorageUnavailable(AppError):
    status_code = 503
    code = "storage_unavailable"


@dataclass
class _Request:
    subs: Sequence[Submission]
    future: Future[list[Sequenced]] = field(default_factory=Future)


class Sequencer:
    """The process's single writer of new entries."""

    def __init__(
        self,
        engine: Engine,
        *,
        max_batch: int = 2000,
        max_pending: int = 50_000,
        on_commit: Callable[[int], None] | None = None,
    ) -> None:
        self._engine = engine
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._on_commit = on_commit
        self._queue: deque[_Request] = deque()
        self._pending = 0
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="jiuyuan-sequencer", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Entries queued and not yet taken by the writer."""
        with self._cv:
            return self._pending

    def submit(self, subs: Sequence[Submission]) -> Future[list[Sequenced]]:
        """Queue one request's entries; the future resolves once they are durable."""
        request = _Request(subs)
        with self._cv:
            if self._closed:
                raise Overloaded("the log is shutting down; retry shortly", headers=_retry())
            if self._pending + len(subs) > self._max_pending:
                raise Overloaded(
                    f"the log has {self._pending} entries waiting to be sequenced; retry shortly",
                    headers=_retry(),
                )
            self._pending += len(subs)
            self._queue.append(request)
            self._cv.notify()
        return request.future

    def append(self, subs: Sequence[Submission]) -> list[Sequenced]:
        """Submit and wait: for callers outside the event loop (CLI, tests, benchmarks)."""
        return self.submit(subs).result()

    def close(self) -> None:
        """Finish what is queued, then stop the writer thread."""
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if not self._queue:
                    return
                batch: list[_Request] = []
                size = 0
                while self._queue and (
                    not batch or size + len(self._queue[0].subs) <= self._max_batch
                ):
                    request = self._queue.popleft()
                    batch.append(request)
                    size += len(request.subs)
                self._pending -= size
            self._commit(batch)

    def _commit(self, batch: list[_Request]) -> None:
        try:
            outcomes, size = self._write(batch)
        except Exception:
            log.exception("sequencing a batch of %d requests failed", len(batch))
            error = StorageUnavailable(
                "the ledger could not store the entries; nothing was written, retry shortly",
                headers=_retry(),
            )
            for request in batch:
                request.future.set_exception(error)
            return
        for request, outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, AppError):
                request.future.set_exception(outcome)
            else:
                request.future.set_result(outcome)
        if self._on_commit is not None:
            self._on_commit(size)

    def _write(self, batch: list[_Request]) -> tuple[list[list[Sequenced] | AppError], int]:
        with self._engine.begin() as conn:
            # 1. Take the writer lock, then read the tail we continue from.
            lock_log(conn, SEQUENCER_LOCK)
            last = repo.tail(conn)
            next_seq = 0 if last is None else last.seq + 1
            prev = GENESIS if last is None else last.chain_hash
            now = datetime.now(UTC)
            # Timestamps never go backwards along the log, even if the clock does.
            if last is not None and now < last.ts:
                now = last.ts
            ts_text = format_ts(now)
            # 2. Look up ids already used, for idempotent retries.
            ids = list({s.entry_id for r in batch for s in r.subs})
            known = repo.find_by_ids(conn, ids)
            # 3. Stage each request as a unit: a conflict rejects that request only.
            rows: list[dict[str, Any]] = []
            outcomes: list[list[Sequenced] | AppError] = []
            for request in batch:
                staged: list[dict[str, Any]] = []
                results: list[Sequenced] = []
                seen: dict[str, repo.Receipt] = {}
                failure: AppError | None = None
                for sub in request.subs:
                    hit = known.get(sub.entry_id) or seen.get(sub.entry_id)
                    if hit is not None:
                        if hit.body_digest != sub.digest:
                            failure = EntryIdConflict(
                                f"entry id {sub.entry_id} was already used for a different entry "
                                f"(seq {hit.seq}); give each new entry a new id"
                            )
                            break
                        results.append(
                            Sequenced(
                                hit.seq, sub.entry_id, hit.leaf_hash, hit.chain_hash, hit.ts, True
                            )
                        )
                        continue
                    seq = next_seq + len(staged)
                    data = entry_bytes(sub.prefix, seq, ts_text)
                    leaf = leaf_hash(data)
                    prev_chain = staged[-1]["chain_hash"] if staged else prev
                    chain = chain_hash(prev_chain, leaf)
                    staged.append(
                        {
                            "seq": seq,
                            "entry_id": sub.entry_id,
                            "kind": sub.kind,
                            "ts": now,
                            "body_digest": sub.digest,
                            "data": data,
                            "leaf_hash": leaf,
                            "chain_hash": chain,
                        }
                    )
                    seen[sub.entry_id] = repo.Receipt(seq, sub.digest, leaf, chain, now)
                    results.append(Sequenced(seq, sub.entry_id, leaf, chain, now))
                if failure is not None:
                    outcomes.append(failure)
                    continue
                known.update(seen)
                rows.extend(staged)
                if staged:
                    next_seq += len(staged)
                    prev = staged[-1]["chain_hash"]
                outcomes.append(results)
            # 4. One insert, one commit: the whole batch is durable together.
            repo.insert_entries(conn, rows)
        return outcomes, next_seq


def _retry(seconds: int = 1) -> dict[str, str]:
    return {"Retry-After": str(seconds)}
