"""The pool checks a connection before handing it out: one the server dropped is replaced."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from api.db import Database, is_sqlite


def _one_connection(db: Database) -> Database:
    if is_sqlite(db.engine):
        pytest.skip("SQLite files need no liveness check: there is no server to go away")
    return Database(db.url, pool_size=1, max_overflow=0)  # every checkout: the same connection


def test_a_connection_the_server_dropped_is_replaced_before_use(db: Database) -> None:
    one = _one_connection(db)
    try:
        with one.engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with db.engine.connect() as admin:  # the server drops it while it sits in the pool
            admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
            admin.commit()  # (with a timeout, it returns once the backend has exited)
        with one.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    finally:
        one.dispose()


def test_a_connection_the_server_only_spoke_on_is_kept(db: Database) -> None:
    one = _one_connection(db)
    try:
        with one.engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            conn.execute(text("LISTEN jiuyuan_pool_test"))
            conn.commit()
        with db.engine.connect() as admin:  # something to read on the idle pooled connection
            admin.execute(text("NOTIFY jiuyuan_pool_test"))
            admin.commit()
        with one.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid
    finally:
        one.dispose()
