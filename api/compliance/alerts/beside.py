"""Reads of a detection run on a second connection, beside the statements of the first.

A full run's statements each read whole tables, and most of each statement's time is one
server process sorting and windowing while the other core waits. Work that reads only
committed tables (the clone rule reads only the scans) can run beside them: :func:`beside`
runs it in a thread, on another connection of the same engine that imports the run's
snapshot (``pg_export_snapshot``), so that it sees what the run's own connection saw when
the block began. Elsewhere (SQLite: one connection, one writer) it runs after the block,
on the run's own connection, as it does in a transaction that has written already.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from sqlalchemy import Connection, text
from sqlalchemy.exc import TimeoutError as PoolTimeout

T = TypeVar("T")
_SNAPSHOT = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")


@contextmanager
def beside(conn: Connection, work: Callable[[Connection], T]) -> Iterator[Future[T]]:
    """Yield the future of ``work(other)``, run beside the block; its ``result()`` is there
    once the block has ended (and raises what the work raised). Leaving the block waits for
    the work, even when the block failed.

    A transaction that has written already (the demo's scans, then its run) runs the work
    after the block on its own connection: another transaction cannot see its writes. So
    does a run whose engine has no connection to spare (its pool's timeout)."""
    other = _second(conn)
    if other is None:
        done: Future[T] = Future()
        yield done
        try:
            done.set_result(work(conn))
        except Exception as exc:  # handed over: result() raises it
            done.set_exception(exc)
        return
    snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    if not _SNAPSHOT.fullmatch(snapshot):
        other.close()
        raise RuntimeError(f"unexpected snapshot id {snapshot!r}")

    def on_the_snapshot() -> T:
        with other:
            # The transaction's first statement: it sees the database as the run did.
            other.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            try:
                return work(other)
            finally:
                other.rollback()

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="detection-beside") as pool:
        yield pool.submit(on_the_snapshot)


def _second(conn: Connection) -> Connection | None:
    """Another connection to run beside ``conn``'s transaction, or None where there is none
    to have: not PostgreSQL, a transaction that has written, or no connection to spare."""
    if conn.dialect.name != "postgresql":
        return None
    if conn.execute(text("SELECT txid_current_if_assigned()")).scalar() is not None:
        return None
    try:
        other = conn.engine.connect()
    except PoolTimeout:
        return None
    return other.execution_options(isolation_level="REPEATABLE READ")
