"""The suite's own database fixtures (``tests/conftest.py``): what a killed run leaves is swept."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.conftest import PG_URL, TEST_DATABASE_PREFIX, _PostgresTemplate


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
