"""The benchmark database: a fresh schema on the PostgreSQL of ``JIUYUAN_BENCH_POSTGRES_URL``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from api.migrate import upgrade


class BenchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="JIUYUAN_BENCH_", extra="ignore")

    postgres_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    server_workers: int = Field(
        default=1, ge=1, description="uvicorn worker processes of benchmarks that serve HTTP"
    )


def server_facts(url: str) -> str:
    """The server's version and durability settings, for the report's caption."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
            fsync = conn.execute(text("SHOW fsync")).scalar_one()
            commit = conn.execute(text("SHOW synchronous_commit")).scalar_one()
    finally:
        engine.dispose()
    return f"PostgreSQL {version}, fsync={fsync}, synchronous_commit={commit}"


@contextmanager
def fresh_schema(base_url: str, prefix: str) -> Iterator[str]:
    """Create a schema, migrate it to head, yield a URL whose search_path is it; drop it after."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
            rendered = url.render_as_string(hide_password=False)
            upgrade(rendered)
            yield rendered
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@contextmanager
def driver_connection(engine: Engine) -> Iterator[psycopg.Connection[Any]]:
    """A pooled connection as the bare psycopg connection, for COPY and unwrapped statements."""
    pooled = engine.raw_connection()
    try:
        conn = pooled.driver_connection
        if not isinstance(conn, psycopg.Connection):
            raise TypeError("the benchmark needs the psycopg driver (postgresql+psycopg://)")
        yield conn
    finally:
        pooled.close()
