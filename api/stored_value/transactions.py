"""Running an operation in its own transaction, again when the database asks for a retry.

PostgreSQL may abort a transaction with a serialization failure or as a deadlock victim, and two
first attempts with one idempotency key race on its unique index; each is safe to run again
from the start, because the idempotency key makes a second run return the first one's answer.
On SQLite the transaction begins ``IMMEDIATE`` (the writer engine), so writers queue for the
database's lock up front instead of failing when a read turns into a write.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from api.db import Database, is_sqlite

T = TypeVar("T")
log = logging.getLogger(__name__)

ATTEMPTS = 8
# serialization_failure, deadlock_detected, unique_violation, lock_not_available
RETRY_SQLSTATES = frozenset({"40001", "40P01", "23505", "55P03"})


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
