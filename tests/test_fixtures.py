"""The suite's own database fixtures (``tests/conftest.py``): copies made ahead and dropped in
batches leave nothing behind, and what a killed run leaves is swept."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import Engine, create_engine, make_url, text

from tests.conftest import DROPPED_TOGETHER, PG_URL, TEST_DATABASE_PREFIX, _PostgresTemplate


def _databases(admin: Engine) -> set[str]:
    with admin.connect() as conn:
        rows = conn.execute(
            text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
            {"p": TEST_DATABASE_PREFIX + "%"},
        )
        return {r[0] for r in rows}


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL half skipped: set JIUYUAN_TEST_POSTGRES_URL")
def test_a_gone_process_s_databases_are_dropped_and_a_live_one_s_kept() -> None:
    assert PG_URL is not None
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(gone.stdout)
    dead = f"{TEST_DATABASE_PREFIX}{dead_pid}_template_left"
    alive = f"{TEST_DATABASE_PREFIX}1_template_init"  # pid 1 is always alive
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    template = _PostgresTemplate(PG_URL)
    try:
        with admin.connect() as conn:
            for name in (dead, alive):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        template._sweep()
        left = _databases(admin)
        assert dead not in left
        assert alive in left
    finally:
        with admin.connect() as conn:
            for name in (dead, alive):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
        template.close()


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL half skipped: set JIUYUAN_TEST_POSTGRES_URL")
def test_copies_made_ahead_and_dropped_in_batches_are_all_gone_when_it_closes() -> None:
    assert PG_URL is not None
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    template = _PostgresTemplate(PG_URL)
    # Only this template's databases: the other worker (and this worker's own template) make
    # and drop theirs meanwhile.
    made: set[str] = set()
    try:
        assert template.start()
        assert template.name is not None
        made.add(template.name)
        urls = []
        for _ in range(DROPPED_TOGETHER + 2):  # one batch dropped on the way, two copies left
            copy = template.copy()
            url = next(copy)
            engine = create_engine(url)
            with engine.connect() as conn:  # a migrated copy of its own
                assert conn.execute(text("SELECT count(*) FROM ledger_entries")).scalar() == 0
            engine.dispose()
            urls.append(url)
            copy.close()  # the test is over
        assert len(set(urls)) == len(urls)
        made |= {str(make_url(url).database) for url in urls}
        assert template._next is not None  # the next test's copy, made ahead
        made.add(template._next.result())
    finally:
        template.close()
        left = made & _databases(admin)
        admin.dispose()
    assert left == set()
