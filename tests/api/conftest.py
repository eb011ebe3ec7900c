"""Fixtures for the HTTP service: settings on a per-test database, a client, a writer key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth.service import create_api_key
from api.config import Settings
from api.db import Database
from api.log.signing import init_signing_key
from ledger.note import NoteSigner


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        log_origin="test.jiuyuan.local/log",
        checkpoint_interval_s=0.1,
    )


@pytest.fixture
def signer(settings: Settings) -> NoteSigner:
    signer, _ = init_signing_key(settings.resolved_signing_key_file, settings.log_origin)
    return signer


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.resolved_database_url)
    yield database
    database.dispose()


def make_key(db: Database, role: str) -> str:
    with db.engine.begin() as conn:
        return create_api_key(conn, role, f"test {role}")


@pytest.fixture
def writer_key(db: Database) -> str:
    return make_key(db, "writer")


@pytest.fixture
def client(settings: Settings, signer: NoteSigner) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def writer(client: TestClient, writer_key: str) -> TestClient:
    client.headers["Authorization"] = f"Bearer {writer_key}"
    return client


@pytest.fixture
def cli_env(settings: Settings, signer: NoteSigner) -> dict[str, str]:
    """Environment for running ``jiuyuan`` as a subprocess against the test database."""
    import os

    return {
        **os.environ,
        "JIUYUAN_DATA_DIR": str(settings.data_dir),
        "JIUYUAN_DATABASE_URL": settings.resolved_database_url,
        "JIUYUAN_LOG_ORIGIN": settings.log_origin,
        "JIUYUAN_CHECKPOINT_INTERVAL_S": "0.2",
    }
