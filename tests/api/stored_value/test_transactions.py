"""Operations run without a transaction on PostgreSQL: the pool never gets such a connection."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from api.db import Database, is_sqlite
from api.errors import NotFound
from api.stored_value.transactions import NeedsTransaction, autocommits, optimistically


def test_a_connection_goes_back_to_the_pool_in_transaction_mode(db: Database) -> None:
    if is_sqlite(db.engine):
        pytest.skip("on SQLite every operation runs in a transaction")
    one = Database(db.url, pool_size=1, max_overflow=0)  # every call gets the same connection
    try:

        def refused(conn: Connection) -> None:
            assert autocommits(conn)
            raise NotFound("nobody")

        with pytest.raises(NotFound):
            optimistically(one, refused)
        ran: list[bool] = []

        def needs_a_transaction(conn: Connection) -> None:
            ran.append(autocommits(conn))
            if ran[-1]:
                raise NeedsTransaction("locks")

        optimistically(one, needs_a_transaction)
        assert ran == [True, False]  # then again, in a transaction
        assert optimistically(one, autocommits) is True
        with one.engine.connect() as conn:
            assert not autocommits(conn)
    finally:
        one.dispose()
