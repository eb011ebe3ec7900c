"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests need ``JIUYUAN_TEST_POSTGRES_URL``; without it they are skipped with a reason
that says so, unless ``JIUYUAN_REQUIRE_POSTGRES=1`` (as in CI), which turns the skip into a
failure. Each test gets its own database: a fresh SQLite file, or a fresh PostgreSQL database.

The migrations run once per test process, into a template: each test's SQLite file is a copy
of the migrated template file, and each PostgreSQL database is made with ``CREATE DATABASE …
TEMPLATE`` from a migrated template database. Running the migrations cost 0.2 s a test on
SQLite and 0.4 s on PostgreSQL, where a copy costs milliseconds and a database from the
template about 0.1 s with its drop. The migrations themselves are tested on their own
(``test_migration_*``: from a bare database, revision by revision). Where the role may not
create databases, each test gets a fresh schema of the given database, migrated.

Database names carry the test process's id: a run killed mid-way leaves its databases behind,
and the next run on the same machine drops those whose process is gone.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from api.migrate import upgrade

PG_URL = os.environ.get("JIUYUAN_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("JIUYUAN_REQUIRE_POSTGRES") == "1"
TEST_DATABASE_PREFIX = "jiuyuan_test_"
DROPPED_TOGETHER = 8


def pytest_report_header() -> str:
    if PG_URL:
        return f"PostgreSQL tests: ON ({make_url(PG_URL).render_as_string(hide_password=True)})"
    return "PostgreSQL tests: SKIPPED (set JIUYUAN_TEST_POSTGRES_URL to run them)"


def _unreachable(base: str, exc: Exception) -> None:
    if REQUIRE_PG:
        pytest.fail(f"PostgreSQL at {base} is required but unreachable: {exc}")
    pytest.skip(f"PostgreSQL at {base} unreachable: {exc}")


def _postgres_schema_url(base: str) -> Iterator[str]:
    """A fresh, empty schema of ``base``'s database (the caller migrates it); dropped after."""
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        _unreachable(base, exc)
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


class _PostgresTemplate:
    """A migrated template database on ``base``'s server, and copies of it, one per test."""

    def __init__(self, base: str) -> None:
        self.base = base
        # A connection for each drop thread, one for the copies, one for the caller.
        self.admin = create_engine(
            base, isolation_level="AUTOCOMMIT", pool_size=DROPPED_TOGETHER + 2
        )
        self.name: str | None = None
        self._making = ThreadPoolExecutor(1, thread_name_prefix="test-database-copies")
        self._next: Future[str] | None = None
        self._dropping = ThreadPoolExecutor(DROPPED_TOGETHER, thread_name_prefix="test-drops")
        self._used: list[str] = []

    def _url(self, database: str) -> str:
        return make_url(self.base).set(database=database).render_as_string(hide_password=False)

    def _name(self, what: str) -> str:
        """A database name that says which process made it: ``_sweep`` reads it back."""
        return f"{TEST_DATABASE_PREFIX}{os.getpid()}_{what}"

    def _sweep(self) -> None:
        """Drop the databases of test processes that are gone (a run killed mid-way leaves its
        template and its last test's database); only when the server is on this machine,
        where a process id can be checked."""
        if make_url(self.base).host not in (None, "", "localhost", "127.0.0.1", "::1"):
            return
        with self.admin.connect() as conn:
            names = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                {"prefix": TEST_DATABASE_PREFIX + "%"},
            ).scalars()
            for name in list(names):
                pid = name.removeprefix(TEST_DATABASE_PREFIX).partition("_")[0]
                if pid.isdigit() and not _alive(int(pid)):
                    try:
                        self._drop(name)
                    except DBAPIError:  # another role's: left to its owner
                        continue

    def start(self) -> bool:
        """Make and migrate the template; False if this role may not create databases."""
        self._sweep()
        name = self._name(f"template_{secrets.token_hex(4)}")
        try:
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except DBAPIError as exc:
            if "permission denied" in str(exc.orig).lower():
                return False
            raise
        self.name = name
        upgrade(self._url(name))  # NullPool, disposed: no session stays on the template
        return True

    def copy(self) -> Iterator[str]:
        """A copy for one test: the one made while the test before ran (or made now), with the
        next test's asked for at once."""
        assert self.name is not None
        name = self._next.result() if self._next is not None else self._create()
        self._next = self._making.submit(self._create)
        try:
            yield self._url(name)
        finally:
            self._used.append(name)
            if len(self._used) == DROPPED_TOGETHER:
                self._drop_used()

    def _drop_used(self) -> None:
        for name in self._used:
            self._dropping.submit(self._drop, name)
        self._used = []

    def _create(self) -> str:
        name = self._name(secrets.token_hex(6))
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"'))
        return name

    def _drop(self, name: str) -> None:
        # FORCE: a test that left a connection open (a server thread still stopping) does
        # not leave its database behind.
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        """Drop the used copies, the one made for no test, and the template."""
        if self._next is not None:
            self._used.append(self._next.result())
        self._making.shutdown(wait=True)
        self._drop_used()
        self._dropping.shutdown(wait=True)
        if self.name is not None:
            self._drop(self.name)
        self.admin.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, its write-ahead log folded in: copied whole for each test."""
    path = tmp_path_factory.mktemp("template") / "jiuyuan.db"
    upgrade(f"sqlite:///{path}")
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture(scope="session")
def _postgres_template() -> Iterator[_PostgresTemplate | None]:
    """The migrated template database (None: fresh schemas instead, see the module's text)."""
    if not PG_URL:
        yield None
        return
    template = _PostgresTemplate(PG_URL)
    try:
        started = template.start()
    except Exception as exc:
        template.close()
        _unreachable(PG_URL, exc)
    try:
        yield template if started else None
    finally:
        template.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "jiuyuan.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("JIUYUAN_REQUIRE_POSTGRES=1 but JIUYUAN_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL half skipped: set JIUYUAN_TEST_POSTGRES_URL to run it")
    template = request.getfixturevalue("_postgres_template")
    if template is not None:
        yield from template.copy()
        return
    for url in _postgres_schema_url(PG_URL):
        upgrade(url)
        yield url
