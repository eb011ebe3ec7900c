"""The pool checks a connection before handing it out (one the server dropped is replaced) and
its connections keep their prepared statements across a rollback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, text

from api.config import Settings
from api.db import Database, is_sqlite


@pytest.fixture
def one(db: Database) -> Iterator[Database]:
    """The test's database through a pool of one: every checkout is the same connection."""
    if is_sqlite(db.engine):
        pytest.skip(
            "a server connection's behaviour: SQLite has no server to go away or to prepare on"
        )
    single = Database(db.url, pool_size=1, max_overflow=0)
    yield single
    single.dispose()


def test_a_connection_the_server_dropped_is_replaced_before_use(
    db: Database, one: Database
) -> None:
    with one.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with db.engine.connect() as admin:  # the server drops it while it sits in the pool
        admin.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        admin.commit()  # (with a timeout, it returns once the backend has exited)
    with one.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid


def test_a_connection_the_server_only_spoke_on_is_kept(db: Database, one: Database) -> None:
    with one.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        conn.execute(text("LISTEN jiuyuan_pool_test"))
        conn.commit()
    with db.engine.connect() as admin:  # something to read on the idle pooled connection
        admin.execute(text("NOTIFY jiuyuan_pool_test"))
        admin.commit()
    with one.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == pid


PREPARED = "SELECT count(*) FROM pg_prepared_statements WHERE statement = 'SELECT $1::int + 1'"


def _prepare_one(conn: Connection) -> Any:
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    assert cursor.execute("SELECT %s::int + 1", (1,), prepare=True).fetchone() == (2,)
    return cursor


def test_prepared_statements_outlive_a_rolled_back_transaction(one: Database) -> None:
    with pytest.raises(RuntimeError), one.engine.begin() as conn:
        _prepare_one(conn)
        raise RuntimeError("refused")  # the transaction rolls back
    with one.engine.connect() as conn:  # the same connection: nothing to prepare again
        assert conn.execute(text(PREPARED)).scalar_one() == 1


@pytest.mark.parametrize(
    ("commands", "left"),
    [
        pytest.param(["SAVEPOINT s", "ROLLBACK TO SAVEPOINT s"], 1, id="savepoint-rollback-keeps"),
        pytest.param(
            ["CREATE TEMPORARY TABLE gone (x int)", "DROP TABLE gone"], 0, id="schema-change-drops"
        ),
    ],
)
def test_prepared_statements_after_commands_in_the_transaction(
    one: Database, commands: list[str], left: int
) -> None:
    """A rollback to a savepoint keeps them; a schema change still drops them."""
    with one.engine.begin() as conn:
        cursor = _prepare_one(conn)
        for command in commands:
            cursor.execute(command)
        assert conn.execute(text(PREPARED)).scalar_one() == left


def test_the_default_pool_keeps_the_connections_of_ten_requests_in_flight(db: Database) -> None:
    """Ten requests at once, twice: the second ten run on the first ten's connections (a pool
    smaller than the load closes the extra ones on return and opens new ones every time)."""
    if is_sqlite(db.engine):
        pytest.skip("a server connection's behaviour: SQLite keeps its own pool")
    settings = Settings()
    pooled = Database(
        db.url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )
    try:

        def backends() -> set[int]:
            conns = [pooled.engine.connect() for _ in range(10)]
            try:
                return {c.execute(text("SELECT pg_backend_pid()")).scalar_one() for c in conns}
            finally:
                for c in conns:
                    c.close()

        first = backends()
        assert len(first) == 10
        assert backends() == first
    finally:
        pooled.dispose()
