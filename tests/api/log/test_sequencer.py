"""Group commit and back-pressure of the sequencer, on both databases."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.config import Settings
from api.db import SEQUENCER_LOCK, Database, is_sqlite
from api.errors import Overloaded
from api.log.sequencer import Sequencer, Submission
from ledger.note import NoteSigner


def subs(n: int) -> list[Submission]:
    return [Submission.of(str(uuid.uuid4()), "test.entry", {"i": i}) for i in range(n)]


@contextmanager
def writer_lock_held(db: Database) -> Iterator[None]:
    """Hold the log's writer lock from another connection, as another process would."""
    with db.writer.connect() as conn, conn.begin():
        if not is_sqlite(conn):
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SEQUENCER_LOCK})
        yield


def test_many_threads_one_dense_log(db: Database) -> None:
    sequencer = Sequencer(db.writer, max_batch=64)
    results: list[int] = []
    guard = threading.Lock()

    def client() -> None:
        for _ in range(10):
            got = sequencer.append(subs(7))
            with guard:
                results.extend(r.seq for r in got)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sequencer.close()
    assert sorted(results) == list(range(8 * 10 * 7))


def test_overload_is_refused_not_queued(db: Database) -> None:
    sequencer = Sequencer(db.writer, max_batch=3, max_pending=5)
    with writer_lock_held(db):
        first = sequencer.submit(subs(3))  # taken by the writer, which now waits for the lock
        while sequencer.pending:
            threading.Event().wait(0.01)
        second = sequencer.submit(subs(3))
        with pytest.raises(Overloaded) as refused:
            sequencer.submit(subs(3))
        assert refused.value.status_code == 503
        assert refused.value.headers["Retry-After"] == "1"
        assert "retry" in refused.value.message
    assert [r.seq for r in first.result(timeout=30)] == [0, 1, 2]
    assert [r.seq for r in second.result(timeout=30)] == [3, 4, 5]
    sequencer.close()


def test_overload_over_http_is_503_with_retry_after(
    database_url: str, settings: Settings, signer: NoteSigner, writer_key: str, db: Database
) -> None:
    tight = settings.model_copy(update={"max_pending_entries": 2, "max_batch_entries": 2})
    with TestClient(create_app(tight)) as client:
        client.headers["Authorization"] = f"Bearer {writer_key}"
        body = [{"id": str(uuid.uuid4()), "kind": "t", "payload": {}} for _ in range(3)]
        r = client.post("/v1/entries", json=body)
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "1"
        assert r.json()["error"]["code"] == "overloaded"
