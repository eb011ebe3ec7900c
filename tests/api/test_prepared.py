"""Hot statements through the driver's cursor give the rows SQLAlchemy gives, in the caller's
transaction; on PostgreSQL as server-side prepared statements."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, select, text

from api import prepared
from api.db import Database, is_sqlite
from api.models import StoredCheckpoint

checkpoints = StoredCheckpoint.__table__

_BY_SIZES = (
    select(checkpoints.c.tree_size, checkpoints.c.root_hash, checkpoints.c.published_at)
    .where(checkpoints.c.tree_size.in_(bindparam("sizes", expanding=True)))
    .where(checkpoints.c.tree_size >= bindparam("least"))
    .order_by(checkpoints.c.tree_size.desc())
    .limit(2)
)


def _checkpoints(db: Database) -> None:
    with db.writer.begin() as conn:
        conn.execute(
            checkpoints.insert(),
            [
                {
                    "tree_size": n,
                    "root_hash": bytes([n]) * 32,
                    "note": f"note {n}",
                    "published_at": datetime(2026, 11, n, tzinfo=UTC),
                }
                for n in (1, 2, 3, 5)
            ],
        )


def test_rows_and_mappings_are_what_sqlalchemy_returns(db: Database) -> None:
    _checkpoints(db)
    with db.engine.connect() as conn:
        for sizes in ([1, 2, 3], [5], [1, 2, 3, 4, 5]):  # lists of several lengths, each cached
            params = {"sizes": sizes, "least": 2}
            expected = [tuple(r) for r in conn.execute(_BY_SIZES, params)]
            assert prepared.rows(conn, _BY_SIZES, params) == expected
            maps = prepared.mappings(conn, _BY_SIZES, params)
            assert [dict(m) for m in maps] == [
                dict(r) for r in conn.execute(_BY_SIZES, params).mappings()
            ]
        assert prepared.rows(conn, _BY_SIZES, {"sizes": [4], "least": 0}) == []
    assert expected[0][0] == 5 and bytes(expected[0][1]) == b"\x05" * 32


def test_they_run_in_the_callers_transaction(db: Database) -> None:
    _checkpoints(db)
    statement = select(checkpoints.c.tree_size).where(checkpoints.c.tree_size == bindparam("n"))
    with db.writer.begin() as conn:
        conn.execute(checkpoints.delete().where(checkpoints.c.tree_size == 5))
        assert prepared.rows(conn, statement, {"n": 5}) == []  # sees its own delete
        conn.rollback()
    with db.engine.connect() as conn:
        assert prepared.rows(conn, statement, {"n": 5}) == [(5,)]


def test_on_postgresql_they_are_prepared_on_the_server(db: Database) -> None:
    statement = text("SELECT :label AS label, :n AS n")
    with db.engine.connect() as conn:
        assert prepared.mappings(conn, statement, {"label": "a", "n": 7}) == [
            {"label": "a", "n": 7}
        ]
        if is_sqlite(db.engine):
            return
        mine = conn.execute(
            text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%AS label%'")
        ).scalar_one()
        # A list given to a parameter that is not an expanding IN goes as an array.
        arrays = text("SELECT CAST(:xs AS int8[]) AS xs")
        assert prepared.rows(conn, arrays, {"xs": [1, 2]}) == [([1, 2],)]
    assert mine == 1


def test_a_pipeline_gives_each_statements_rows(db: Database) -> None:
    if is_sqlite(db.engine):
        pytest.skip("psycopg's pipeline: PostgreSQL only")
    _checkpoints(db)
    smallest = select(checkpoints.c.tree_size).order_by(checkpoints.c.tree_size).limit(1)
    with db.engine.begin() as conn:
        first, second = prepared.pipelined(
            conn, (_BY_SIZES, {"sizes": [1, 2, 5], "least": 2}), (smallest, {})
        )
        assert first == prepared.rows(conn, _BY_SIZES, {"sizes": [1, 2, 5], "least": 2})
    assert [r[0] for r in first] == [5, 2]
    assert second == [(1,)]
