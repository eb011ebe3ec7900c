"""The batch run's working tables: its own, inside its transaction, gone when it ends.

On PostgreSQL they are unlogged tables of the schema (parallel workers can read them, as they
cannot read a temporary table), so no other session may ever see them: not after a run, not
after a failed one, and a second run at the same time waits for the first instead of failing.
"""

from __future__ import annotations

import queue
import threading
import time

import pytest
from sqlalchemy import Connection, text

from api.compliance.alerts import setwise
from api.compliance.alerts.runs import Places, RunReport, run_detection
from api.compliance.detection.synthetic import CaseStory
from api.compliance.detection.thresholds import Thresholds
from api.compliance.geo.gazetteer import gazetteer
from api.db import Database
from tests.api.compliance.detection.test_setwise import told  # noqa: F401  (fixture)


def _work_tables(conn: Connection) -> set[str]:
    if conn.dialect.name == "postgresql":
        names = conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = current_schema()::regnamespace"
            )
        )
    else:
        names = conn.execute(
            text(
                "SELECT name FROM sqlite_temp_master WHERE type = 'table' "
                "UNION SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        )
    return {n for (n,) in names} & set(setwise.WORK_TABLES)


def test_a_run_leaves_no_working_table(db: Database, told: list[CaseStory]) -> None:  # noqa: F811
    with db.writer.begin() as conn:
        report = run_detection(conn, Thresholds(), "test")
        assert _work_tables(conn) == set()
    assert report.raised > 0
    with db.writer.connect() as conn:
        assert _work_tables(conn) == set()


def test_a_failed_run_leaves_no_working_table(
    db: Database,
    told: list[CaseStory],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(*_: object) -> list[int]:
        raise RuntimeError("the clone statement failed")

    monkeypatch.setattr(setwise, "_clone_suspects", fail)
    with pytest.raises(RuntimeError, match="clone statement"), db.writer.begin() as conn:
        run_detection(conn, Thresholds(), "test")
    with db.writer.connect() as conn:
        assert _work_tables(conn) == set()


def test_no_other_session_sees_a_runs_tables_and_a_second_run_waits_for_it(
    db: Database,
    told: list[CaseStory],  # noqa: F811
) -> None:
    if db.writer.dialect.name != "postgresql":
        pytest.skip("SQLite's temporary tables are its connection's; one writer at a time")
    second: queue.Queue[RunReport | BaseException] = queue.Queue()
    pids: queue.Queue[int] = queue.Queue()

    def run_beside() -> None:
        try:
            with db.writer.begin() as conn:
                pids.put(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
                second.put(run_detection(conn, Thresholds(), "second"))
        except BaseException as error:  # handed to the test's thread
            second.put(error)

    with db.writer.connect() as first, db.writer.connect() as onlooker:
        tx = first.begin()
        setwise.detect_all(first, Thresholds(), Places(gazetteer()).of)
        assert _work_tables(first) == set(setwise.WORK_TABLES)
        assert _work_tables(onlooker) == set()
        beside = threading.Thread(target=run_beside)
        beside.start()
        pid = pids.get(timeout=30)
        assert _waits_for_a_lock(onlooker, pid), "the second run did not wait for the first"
        assert second.empty()
        setwise.drop_tables(first)
        tx.commit()
        beside.join(timeout=120)
    outcome = second.get(timeout=1)
    assert isinstance(outcome, RunReport), outcome
    assert outcome.raised > 0


def _waits_for_a_lock(conn: Connection, pid: int) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        waiting = conn.execute(
            text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid},
        ).scalar_one_or_none()
        conn.rollback()  # a fresh snapshot of pg_stat_activity each time
        if waiting:
            return True
        time.sleep(0.05)
    return False
