"""The clone rule's reads run beside the batch run's statements, on a connection that sees
what the run sees; a run whose transaction has written sees its own writes."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Connection, create_engine, text

from api.compliance.alerts.beside import beside
from api.db import Database


@pytest.fixture
def committed(db: Database) -> None:
    with db.writer.begin() as conn:
        conn.execute(text("CREATE TABLE bs_seen (n INTEGER)"))
        conn.execute(text("INSERT INTO bs_seen VALUES (1), (2)"))


def _seen(conn: Connection) -> tuple[list[int], str]:
    rows = conn.execute(text("SELECT n FROM bs_seen ORDER BY n")).scalars().all()
    return list(rows), threading.current_thread().name


def test_the_work_runs_beside_the_block_and_sees_what_the_run_saw(
    db: Database, committed: None
) -> None:
    with db.engine.connect() as conn:
        conn.begin()
        with beside(conn, _seen) as future:
            # Committed by another transaction after the run began: not seen by the work,
            # which reads the run's snapshot.
            with db.writer.begin() as other:
                other.execute(text("INSERT INTO bs_seen VALUES (3)"))
            time.sleep(0.05)
        rows, thread = future.result()
        conn.rollback()
    on_pg = conn.dialect.name == "postgresql"
    assert (thread != threading.current_thread().name) is on_pg
    # On SQLite the work runs after the block, on the run's connection (its own snapshot).
    assert rows == ([1, 2] if on_pg else [1, 2, 3])


def test_a_run_that_has_written_sees_its_own_writes(db: Database, committed: None) -> None:
    with db.writer.begin() as conn:
        conn.execute(text("INSERT INTO bs_seen VALUES (4)"))
        with beside(conn, _seen) as future:
            pass
        rows, thread = future.result()
    assert rows == [1, 2, 4]
    assert thread == threading.current_thread().name


def test_the_works_error_is_the_results(db: Database, committed: None) -> None:
    def fail(conn: Connection) -> None:
        conn.execute(text("SELECT * FROM no_such_table"))

    with db.engine.connect() as conn:
        conn.begin()
        with beside(conn, fail) as future:
            pass
        with pytest.raises(Exception, match="no_such_table"):
            future.result()
        conn.rollback()


def test_with_no_connection_to_spare_the_work_runs_after_the_block(
    db: Database, committed: None
) -> None:
    engine = create_engine(db.url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    try:
        with engine.connect() as conn:
            conn.begin()
            with beside(conn, _seen) as future:
                pass
            rows, thread = future.result()
            conn.rollback()
    finally:
        engine.dispose()
    assert rows == [1, 2]
    assert thread == threading.current_thread().name
