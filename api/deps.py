"""FastAPI dependencies: the request transaction and the process's shared services."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from fastapi import Request
from sqlalchemy import Connection

from api.config import Settings
from api.db import Database
from api.log.service import LogService

BIGINT_MAX = 2**63 - 1
"""The largest number a BIGINT column holds (a seq, a tree size, an id): path and query numbers
are bounded by it, so a larger one is refused with a 422 that names the bound instead of
failing in the database driver."""


def one_of(values: Iterable[str]) -> str:
    """A query parameter's pattern that admits exactly ``values`` (a filter by state, kind…):
    a value no row can have is refused with the list, not answered with an empty page."""
    return "^(" + "|".join(re.escape(v) for v in values) + ")$"


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_log(request: Request) -> LogService:
    service: LogService = request.app.state.log
    return service


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_conn(request: Request) -> Iterator[Connection]:
    """One transaction per request, committed when the endpoint returns normally.

    Ledger entries a service staged in it (``api.log.outbox.stage_entry``) are sequenced by
    the log worker right after the commit.
    """
    with write_transaction(request) as conn:
        yield conn


@contextmanager
def write_transaction(request: Request) -> Iterator[Connection]:
    """The request's transaction, for endpoints that need its outcome after the commit
    (for example to ``log.relay(ids)`` and answer with the seq of what they wrote)."""
    with get_db(request).engine.begin() as conn:
        yield conn
    get_log(request).wake()


@contextmanager
def writer_transaction(request: Request) -> Iterator[Connection]:
    """A transaction on the writer engine (``BEGIN IMMEDIATE`` on SQLite: the write lock is
    taken before the first read), for requests that read then write contended rows; staged
    ledger entries are relayed right after the commit."""
    with get_db(request).writer.begin() as conn:
        yield conn
    get_log(request).wake()
