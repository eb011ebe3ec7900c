"""Running an operation in its own transaction, again when the database asks for a retry.

PostgreSQL may abort a transaction with a serialization failure or as a deadlock victim, and two
first attempts with one idempotency key race on its unique index; each is safe to run again
from the start, because the idempotency key makes a second run return the first one's answer.
On SQLite the transaction begins ``IMMEDIATE`` (the writer engine), so writers queue for the
database's lock up front instead of failing when a read turns into a write.

A clerk's operation on PostgreSQL first runs without a transaction (:func:`optimistically`):
it reads the card, decides, and books in one statement that is its own transaction, so nothing
is locked while Python decides and no ``BEGIN``/``COMMIT`` round trips are paid. When that
cannot settle it (the card moved, or the operation needs locks), it runs again in a transaction.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from api.db import Database, is_sqlite

T = TypeVar("T")
log = logging.getLogger(__name__)

ATTEMPTS = 8
# serialization_failure, deadlock_detected, unique_violation, lock_not_available
RETRY_SQLSTATES = frozenset({"40001", "40P01", "23505", "55P03"})


class NeedsTransaction(Exception):
    """Raised by work run without a transaction, before it wrote anything, when it can only
    finish in one (it must hold locks, or the card moved under an optimistic booking)."""


def _retryable(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in RETRY_SQLSTATES
    text = str(exc.orig)
    return "database is locked" in text or "UNIQUE constraint failed" in text


def atomically(db: Database, work: Callable[[Connection], T], *, attempts: int = ATTEMPTS) -> T:
    """``work(conn)`` in one transaction, committed on return; retried on transient conflicts."""
    engine = db.writer if is_sqlite(db.engine) else db.engine
    for attempt in range(1, attempts + 1):
        try:
            with engine.begin() as conn:
                return work(conn)
        except DBAPIError as exc:
            if attempt == attempts or not _retryable(exc):
                raise
            log.info("retrying a stored-value transaction (attempt %d): %s", attempt, exc.orig)
            time.sleep(random.uniform(0, 0.002 * 2**attempt))
    raise AssertionError("unreachable")


def optimistically(db: Database, work: Callable[[Connection], T]) -> T:
    """``work(conn)`` on PostgreSQL first on a connection where every statement is its own
    transaction, then, if it raises :class:`NeedsTransaction` or a transient conflict, like
    :func:`atomically`. ``work`` must write in at most one statement when
    :func:`autocommits` says so. On SQLite: :func:`atomically`."""
    if not is_sqlite(db.engine):
        try:
            with db.engine.connect() as conn:
                return _autocommitting(conn, work)
        except NeedsTransaction as exc:
            log.debug("a stored-value operation runs in a transaction: %s", exc)
        except DBAPIError as exc:
            if not _retryable(exc):
                raise
            log.info("a stored-value operation runs again in a transaction: %s", exc.orig)
    return atomically(db, work)


def _autocommitting(conn: Connection, work: Callable[[Connection], T]) -> T:
    """``work(conn)`` with psycopg's autocommit on: set on the driver's connection directly,
    as SQLAlchemy's ``isolation_level`` option costs more client CPU per operation than the
    booking's parameters do. Put back before the pool gets the connection again; one that
    cannot be put back (broken) is discarded, never pooled in autocommit."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    driver.autocommit = True
    try:
        return work(conn)
    finally:
        if driver.info.transaction_status == TransactionStatus.IDLE:
            driver.autocommit = False
        else:
            conn.invalidate()


def autocommits(conn: Connection) -> bool:
    """Whether each statement on ``conn`` commits on its own (see :func:`optimistically`)."""
    if is_sqlite(conn):
        return False
    driver = conn.connection.driver_connection
    return isinstance(driver, psycopg.Connection) and driver.autocommit
