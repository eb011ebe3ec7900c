"""Writes of a detection run beside the Python that builds what they write.

A full run spends much of its time in Python (judging the rows it read, building alerts:
their evidence, digests and entries) with the database idle, and much in the database
writing, with Python idle. :func:`writing` overlaps the two: on PostgreSQL, the run's writes
go to one thread that holds the connection for the block and runs them in order — a
statement given up front, if any, then each write the block queues — while the block goes on
in Python. The run uses it twice: its allocations are stored while Python judges the rows
read (a statement up front, no writes queued), and each chunk of new alerts is written as
soon as it is built, while the next is (no statement up front, ``overlap``). The driver
waits for the server without holding the GIL, so the server's inserts and their index
updates run on one core while the block's Python runs on the other. Elsewhere (SQLite's
connections stay on the thread that made them) every write runs at once, in the caller's
thread.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager

from sqlalchemy import Connection

Work = Callable[[Connection], None]
_DONE = None


@contextmanager
def writing(
    conn: Connection, first: Work | None = None, *, overlap: bool = False
) -> Iterator[Callable[[Work], None]]:
    """Yield ``write(work)``, which has ``work(conn)`` run after ``first`` and every earlier
    write: in the writer thread when there is a ``first`` or ``overlap`` is asked for (on
    PostgreSQL), else at once. The block must not use the connection itself: what it reads,
    it reads before.

    Leaving the block waits for every write (the connection is the writer's until then). A
    write that failed fails the run: at the next ``write`` or when the block ends. A block
    that failed skips the writes still queued and raises its own error."""
    if (first is None and not overlap) or conn.dialect.name != "postgresql":
        if first is not None:
            first(conn)

        def at_once(work: Work) -> None:
            work(conn)

        yield at_once
        return
    pending: queue.SimpleQueue[Work | None] = queue.SimpleQueue()
    failed: list[BaseException] = []

    def writer() -> None:
        if first is not None:
            first(conn)
        while (work := pending.get()) is not _DONE:
            if not failed:
                work(conn)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="detection-writes") as pool:
        done = pool.submit(writer)

        def queued(work: Work) -> None:
            _raise_if_failed(done)
            pending.put(work)

        try:
            yield queued
        except BaseException as exc:
            failed.append(exc)
            raise
        finally:
            pending.put(_DONE)
            # Leaving the pool waits for the writer, even when the block failed.
    if not failed:
        done.result()


def _raise_if_failed(done: Future[None]) -> None:
    if done.done():
        error = done.exception()
        if error is not None:
            raise error
