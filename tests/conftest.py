"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

PostgreSQL tests need ``JIUYUAN_TEST_POSTGRES_URL``; without it they are skipped with a reason
that says so, unless ``JIUYUAN_REQUIRE_POSTGRES=1`` (as in CI), which turns the skip into a
failure. Each test gets its own database: a fresh SQLite file, or a fresh PostgreSQL schema.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api.migrate import upgrade

PG_URL = os.environ.get("JIUYUAN_TEST_POSTGRES_URL")
REQUIRE_PG = os.environ.get("JIUYUAN_REQUIRE_POSTGRES") == "1"


def pytest_report_header() -> str:
    if PG_URL:
        return f"PostgreSQL tests: ON ({make_url(PG_URL).render_as_string(hide_password=True)})"
    return "PostgreSQL tests: SKIPPED (set JIUYUAN_TEST_POSTGRES_URL to run them)"


def _postgres_schema_url(base: str) -> Iterator[str]:
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        admin.dispose()
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL at {base} is required but unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {base} unreachable: {exc}")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jiuyuan.db'}"
        upgrade(url)
        yield url
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("JIUYUAN_REQUIRE_POSTGRES=1 but JIUYUAN_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL half skipped: set JIUYUAN_TEST_POSTGRES_URL to run it")
    for url in _postgres_schema_url(PG_URL):
        upgrade(url)
        yield url
