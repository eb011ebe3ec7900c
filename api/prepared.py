"""Hot read paths on PostgreSQL: a Core statement compiled once, run as a prepared statement on
the driver's cursor.

A full SQLAlchemy execution costs about 0.17 ms of CPU per statement on a lookup's reads
(compile-cache lookup, parameter processing, result metadata, ``Row`` objects); this path
costs about 0.06 ms for the same statement and rows (docs/architecture.md, *Prepared hot
statements*). It runs in the caller's transaction, on the same connection. Elsewhere
(SQLite) it is a plain ``conn.execute``: same rows, same order.

Only for statements whose columns need no SQLAlchemy result processing (no TypeDecorator,
no JSON type on SQLite): psycopg's own types are what comes back.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any, cast

from psycopg.rows import dict_row
from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Params = dict[str, Any]


@lru_cache(maxsize=128)
def _compiled(statement: ClauseElement, dialect: Dialect) -> tuple[SQLCompiler, frozenset[str]]:
    """The statement compiled for ``dialect``, and the names of its expanding (``IN``) lists."""
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    lists = frozenset(name for name, bind in compiled.binds.items() if bind.expanding)
    return compiled, lists


@lru_cache(maxsize=256)
def _expanded(
    statement: ClauseElement,
    dialect: Dialect,
    scalars: tuple[str, ...],
    lists: tuple[tuple[str, int], ...],
) -> tuple[str, Params]:
    """The SQL of ``statement`` with its list parameters (name, length) expanded, and the
    values of the parameters SQLAlchemy made of its constants."""
    compiled, _ = _compiled(statement, dialect)
    given: Params = {name: [""] * length for name, length in lists}
    given |= dict.fromkeys(scalars, "")
    state = compiled.construct_expanded_state(given)
    made = {f"{name}_{i}" for name, length in lists for i in range(1, length + 1)}
    constants = {k: v for k, v in state.parameters.items() if k not in made and k not in scalars}
    return state.statement, constants


def _driver_sql(conn: Connection, statement: ClauseElement, params: Params) -> tuple[str, Params]:
    _, expanding = _compiled(statement, conn.dialect)
    lists = tuple((k, len(v)) for k, v in params.items() if k in expanding)
    scalars = tuple(k for k in params if k not in expanding)
    sql, constants = _expanded(statement, conn.dialect, scalars, lists)
    values = dict(constants)
    for k, v in params.items():
        if k in expanding:
            values.update((f"{k}_{i}", x) for i, x in enumerate(v, 1))
        else:
            values[k] = v
    return sql, values


def rows(conn: Connection, statement: ClauseElement, params: Params) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` as tuples, in the statement's column order."""
    if conn.dialect.name != "postgresql":
        return [tuple(r) for r in conn.execute(statement, params)]  # type: ignore[call-overload]
    sql, values = _driver_sql(conn, statement, params)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    return list(cursor.execute(sql, values, prepare=True).fetchall())


def mappings(conn: Connection, statement: ClauseElement, params: Params) -> list[Mapping[str, Any]]:
    """The rows of ``statement`` as dicts by column name (its labels)."""
    if conn.dialect.name != "postgresql":
        result = conn.execute(statement, params)  # type: ignore[call-overload]
        return [dict(r) for r in result.mappings()]
    sql, values = _driver_sql(conn, statement, params)
    driver = conn.connection.driver_connection
    cursor = driver.cursor(row_factory=dict_row)  # type: ignore[union-attr]
    return list(cursor.execute(sql, values, prepare=True).fetchall())


def pipelined(
    conn: Connection, *statements: tuple[ClauseElement, Params]
) -> list[list[tuple[Any, ...]]]:
    """The rows of each of ``statements`` (PostgreSQL only), all sent in one psycopg pipeline:
    one round trip (with the transaction's ``BEGIN`` if it has not gone yet); the server
    still runs them one after the other, each with its own snapshot."""
    driver = conn.connection.driver_connection
    cursors = []
    with driver.pipeline():  # type: ignore[union-attr]
        for statement, params in statements:
            sql, values = _driver_sql(conn, statement, params)
            cursor = driver.cursor()  # type: ignore[union-attr]
            cursor.execute(sql, values, prepare=True)
            cursors.append(cursor)
    return [list(c.fetchall()) for c in cursors]
