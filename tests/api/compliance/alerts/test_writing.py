"""The batch run writes beside the Python that builds what it writes: its allocations first,
then each chunk of alerts as it is built. Every write's outcome, good or bad, is the run's,
they run in order, and the block never outruns them."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from api.compliance.alerts.writing import writing
from api.db import Database


def test_writes_run_in_order_after_the_first_beside_the_block(db: Database) -> None:
    threads: list[str] = []

    def first(conn: Connection) -> None:
        threads.append(threading.current_thread().name)
        time.sleep(0.05)  # still running when the block queues its writes
        conn.execute(text("CREATE TEMP TABLE w_done (n INTEGER)"))

    def insert(n: int) -> None:
        def work(conn: Connection) -> None:
            threads.append(threading.current_thread().name)
            conn.execute(text("INSERT INTO w_done VALUES (:n)"), {"n": n})

        write(work)

    with db.writer.begin() as conn:
        with writing(conn, first) as write:
            for n in range(1, 6):
                insert(n)
        written = conn.execute(text("SELECT n FROM w_done")).scalars().all()
    assert written == [1, 2, 3, 4, 5]
    on_pg = conn.dialect.name == "postgresql"
    here = threading.current_thread().name
    assert len(threads) == 6 and len(set(threads)) == 1
    assert (threads[0] != here) is on_pg


def test_without_a_first_statement_every_write_runs_at_once(db: Database) -> None:
    with db.writer.begin() as conn, writing(conn) as write:
        write(lambda c: c.execute(text("CREATE TEMP TABLE w_now (n INTEGER)")))
        # Written already: the block may read it back (an incremental run's case).
        assert conn.execute(text("SELECT COUNT(*) FROM w_now")).scalar_one() == 0


def test_a_failed_first_statement_fails_the_run(db: Database) -> None:
    built: list[int] = []

    def first(conn: Connection) -> None:
        conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

    with db.writer.begin() as conn:
        on_pg = conn.dialect.name == "postgresql"
        with pytest.raises(DBAPIError, match="no_such_table"), writing(conn, first):
            built.append(1)
    # Beside the block on PostgreSQL; before it elsewhere, where it stops the run at once.
    assert built == ([1] if on_pg else [])


def test_a_failed_write_stops_the_block_at_its_next_write(db: Database) -> None:
    written: list[int] = []

    def fail(conn: Connection) -> None:
        conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

    def note(n: int) -> None:
        write(lambda conn: written.append(n))

    with (
        db.writer.begin() as conn,
        pytest.raises(DBAPIError, match="no_such_table"),
        writing(conn, lambda c: None) as write,
    ):
        write(fail)
        for n in range(50):
            time.sleep(0.01)
            note(n)
    # Nothing written after the failed write; on PostgreSQL the block learnt of it early.
    assert written == []


def test_a_failed_block_waits_for_the_writes_and_fails_with_its_own_error(
    db: Database,
) -> None:
    finished = threading.Event()
    later: list[int] = []

    def first(conn: Connection) -> None:
        time.sleep(0.2)
        finished.set()

    with (
        db.writer.begin() as conn,
        pytest.raises(ZeroDivisionError),
        writing(conn, first) as write,
    ):
        write(lambda c: later.append(1))
        _ = 1 // 0
    assert finished.is_set()
    # A write queued before the block failed is not made: the run is failing.
    assert later == ([] if conn.dialect.name == "postgresql" else [1])


def test_asked_to_overlap_without_a_first_statement_writes_beside_the_block(db: Database) -> None:
    threads: list[str] = []

    def work(conn: Connection) -> None:
        threads.append(threading.current_thread().name)
        conn.execute(text("CREATE TEMP TABLE w_overlap (n INTEGER)"))

    with db.writer.begin() as conn:
        with writing(conn, overlap=True) as write:
            write(work)
        assert conn.execute(text("SELECT COUNT(*) FROM w_overlap")).scalar_one() == 0
    on_pg = conn.dialect.name == "postgresql"
    assert (threads != [threading.current_thread().name]) is on_pg
