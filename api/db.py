"""Engines and the per-request transaction.

SQLite needs care for a log with one writer at a time: WAL so readers never block the writer,
``synchronous=FULL`` so an acknowledged commit survives a crash, and ``BEGIN IMMEDIATE`` on the
writer engine so a writer takes the database's write lock before it reads the log's tail.
"""

from __future__ import annotations

import select
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import psycopg
from psycopg import pq
from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from api.pg_prepared import keep_prepared_on_rollback

# Advisory lock keys (PostgreSQL) for the log's single-writer roles.
SEQUENCER_LOCK = 0x6A79_0001
INTEGRATOR_LOCK = 0x6A79_0002
PUBLISHER_LOCK = 0x6A79_0003


def chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """``items`` in slices of at most ``size``: IN lists and bulk inserts kept under the
    drivers' parameter limits."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


_ENGINE_KEYS: WeakKeyDictionary[Engine, str] = WeakKeyDictionary()


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Many rows of one shape (the keys of the first) in the caller's transaction; on
    PostgreSQL by ``COPY``, since ``executemany`` builds every row's parameters through
    SQLAlchemy first. A duplicate key raises SQLAlchemy's ``IntegrityError`` either way, as an
    ``INSERT`` would."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        for chunk in chunks(rows, 5000):
            conn.execute(table.insert(), list(chunk))
        return
    names = list(rows[0])
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[n] for n in names])
    except psycopg.IntegrityError as exc:
        raise IntegrityError(statement, None, exc) from exc


def engine_key(conn: Connection) -> str:
    """The connection's database as a cache key (its URL, password hidden), rendered once per
    engine: process caches keyed by it never mix two databases' rows."""
    engine = conn.engine
    key = _ENGINE_KEYS.get(engine)
    if key is None:
        key = _ENGINE_KEYS[engine] = str(engine.url)
    return key


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


CONNECT_TIMEOUT_S = 10
"""How long a new PostgreSQL connection may take (unless the URL says otherwise)."""


def make_engine(url: str, *, writer: bool = False, **kwargs: Any) -> Engine:
    """Create an engine; ``writer=True`` makes every SQLite transaction ``BEGIN IMMEDIATE``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 60}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql(begin)

        return engine
    if parsed.get_driver_name() != "psycopg":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    if "connect_timeout" not in parsed.query:
        # A server that accepts the connection and never answers is an error in seconds,
        # not a hang (libpq waits forever by default).
        given = kwargs.get("connect_args", {})
        kwargs["connect_args"] = {"connect_timeout": CONNECT_TIMEOUT_S, **given}
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        keep_prepared_on_rollback(dbapi_conn)

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
        if not _still_connected(dbapi_conn):
            raise DisconnectionError("the server closed this pooled connection")

    return engine


def _still_connected(dbapi_conn: Any) -> bool:
    """Whether a pooled psycopg connection is still usable, read off its socket without a
    round trip: an idle connection has nothing to read unless the server said something — for
    a dropped backend, its farewell and end-of-file, which libpq turns into a broken
    connection. (A ping per checkout would add a round trip to every transaction.) What this
    cannot see, a peer gone without closing its socket, fails the first statement instead."""
    pgconn = dbapi_conn.pgconn
    if pgconn.status != pq.ConnStatus.OK:
        return False
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN)
    for _ in range(4):  # the farewell first, then the end-of-file
        if not poller.poll(0):
            break
        try:
            pgconn.consume_input()  # a notice or a notification is kept; end-of-file breaks
        except psycopg.OperationalError:
            return False
    return bool(pgconn.status == pq.ConnStatus.OK)


def lock_log(conn: Connection, key: int) -> None:
    """Take the log's writer lock for ``key`` until the transaction ends.

    On PostgreSQL an advisory transaction lock; on SQLite the ``BEGIN IMMEDIATE`` of the writer
    engine already holds the database's write lock.
    """
    if not is_sqlite(conn):
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


def try_lock_log(conn: Connection, key: int) -> bool:
    """Like :func:`lock_log` but give up at once when another process holds the lock."""
    if is_sqlite(conn):
        return True
    return bool(conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar())


class Database:
    """The process's engines: one for readers and request transactions, one for log writers."""

    def __init__(
        self, url: str, *, pool_size: int | None = None, max_overflow: int | None = None
    ) -> None:
        """``pool_size``/``max_overflow`` size each engine's pool on PostgreSQL (SQLAlchemy's
        5 + 10 when None); SQLite keeps its default pool."""
        self.url = url
        pool: dict[str, int] = {}
        if make_url(url).get_backend_name() != "sqlite":
            if pool_size is not None:
                pool["pool_size"] = pool_size
            if max_overflow is not None:
                pool["max_overflow"] = max_overflow
        self.engine = make_engine(url, **pool)
        self.writer = make_engine(url, writer=True, **pool)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session_scope(self) -> Iterator[Session]:
        """One transaction: committed when the block ends normally, rolled back otherwise."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        self.writer.dispose()
