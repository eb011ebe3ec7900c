"""The batch run stores its allocations while Python builds the alerts' evidence: the
statement's outcome, good or bad, is the run's, and the block never outruns it."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from api.compliance.alerts.runs import _meanwhile
from api.db import Database


def test_the_statement_runs_beside_the_block_and_is_done_after_it(db: Database) -> None:
    seen: list[str] = []

    def work(conn: Connection) -> None:
        seen.append(threading.current_thread().name)
        conn.execute(text("CREATE TEMP TABLE mw_done (n INTEGER)"))
        conn.execute(text("INSERT INTO mw_done VALUES (1)"))

    with db.writer.begin() as conn:
        with _meanwhile(conn, work):
            time.sleep(0.01)
        assert conn.execute(text("SELECT n FROM mw_done")).scalar_one() == 1
    on_pg = conn.dialect.name == "postgresql"
    assert (seen[0] != threading.current_thread().name) is on_pg


def test_a_failed_statement_fails_the_run_after_the_block(db: Database) -> None:
    built: list[int] = []

    def work(conn: Connection) -> None:
        conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

    with db.writer.begin() as conn:
        on_pg = conn.dialect.name == "postgresql"
        with pytest.raises(DBAPIError, match="no_such_table"), _meanwhile(conn, work):
            built.append(1)
    # Beside the block on PostgreSQL; before it elsewhere, where it stops the run at once.
    assert built == ([1] if on_pg else [])


def test_a_failed_block_waits_for_the_statement_and_fails_with_its_own_error(
    db: Database,
) -> None:
    finished = threading.Event()

    def work(conn: Connection) -> None:
        time.sleep(0.2)
        finished.set()

    with db.writer.begin() as conn, pytest.raises(ZeroDivisionError), _meanwhile(conn, work):
        _ = 1 // 0
    assert finished.is_set()
