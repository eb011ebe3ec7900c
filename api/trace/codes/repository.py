"""All SQL of codes, code batches, code events and the code index."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    TextClause,
    bindparam,
    case,
    func,
    null,
    select,
    text,
    union,
    update,
)

from api import prepared
from api.db import chunks, insert_rows
from api.models import LedgerEntry
from api.trace.codes.models import CaseMove, Code, CodeBatch, CodeEvent, CodeIndex
from ledger.tree import NodeId

codes = Code.__table__
code_batches = CodeBatch.__table__
events = CodeEvent.__table__
index = CodeIndex.__table__
case_moves = CaseMove.__table__
ledger = LedgerEntry.__table__

_CHUNK = 1000
SMALL_LIST = 512


# --- code batches and codes --------------------------------------------------------------------


def insert_code_batch(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(code_batches.insert().values(**row))


def get_code_batch(conn: Connection, batch_id: str) -> RowMapping | None:
    query = select(code_batches).where(code_batches.c.batch_id == batch_id)
    return conn.execute(query).mappings().first()


def list_code_batches(conn: Connection, lot: str | None) -> list[RowMapping]:
    query = select(code_batches).order_by(code_batches.c.created_at)
    if lot is not None:
        query = query.where(code_batches.c.lot == lot)
    return list(conn.execute(query).mappings())


def mark_caps_issued(conn: Connection, batch_id: str, at: Any) -> bool:
    result = conn.execute(
        update(code_batches)
        .where(code_batches.c.batch_id == batch_id, code_batches.c.caps_issued_at.is_(None))
        .values(caps_issued_at=at)
    )
    return result.rowcount == 1


def insert_codes(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Insert new codes; on PostgreSQL with COPY, which is several times faster."""
    insert_rows(conn, codes, rows)


# Statements of the lookup's hot path are built once: building a select costs more than
# running it on a warm database.
_BY_SERIAL = select(codes).where(codes.c.serial == bindparam("serial"))
_BY_IDS = select(codes).where(codes.c.id.in_(bindparam("ids", expanding=True)))


def by_serial(conn: Connection, serial: str) -> RowMapping | None:
    return conn.execute(_BY_SERIAL, {"serial": serial}).mappings().first()


def by_serials(conn: Connection, serials: Sequence[str]) -> dict[str, RowMapping]:
    found: dict[str, RowMapping] = {}
    for chunk in chunks(serials, _CHUNK):
        for row in conn.execute(select(codes).where(codes.c.serial.in_(chunk))).mappings():
            found[row["serial"]] = row
    return found


def by_ids(conn: Connection, ids: Sequence[int]) -> dict[int, RowMapping]:
    found: dict[int, RowMapping] = {}
    for chunk in chunks(ids, _CHUNK):
        for row in conn.execute(_BY_IDS, {"ids": list(chunk)}).mappings():
            found[row["id"]] = row
    return found


def in_batch(conn: Connection, batch_id: str, state: str) -> list[RowMapping]:
    query = (
        select(codes)
        .where(codes.c.batch_id == batch_id, codes.c.state == state)
        .order_by(codes.c.id)
    )
    return list(conn.execute(query).mappings())


def children(conn: Connection, parent_ids: Sequence[int]) -> list[RowMapping]:
    found: list[RowMapping] = []
    for chunk in chunks(parent_ids, _CHUNK):
        query = select(codes).where(codes.c.parent_id.in_(chunk)).order_by(codes.c.id)
        found.extend(conn.execute(query).mappings())
    return found


def list_codes(
    conn: Connection, lot: str | None, state: str | None, kind: str | None, limit: int, after: int
) -> list[RowMapping]:
    query = select(codes).where(codes.c.id > after).order_by(codes.c.id).limit(limit)
    if lot is not None:
        query = query.where(codes.c.lot == lot)
    if state is not None:
        query = query.where(codes.c.state == state)
    if kind is not None:
        query = query.where(codes.c.kind == kind)
    return list(conn.execute(query).mappings())


def stream_serials(conn: Connection, batch_id: str) -> Iterator[tuple[int, str]]:
    # Statement-level options: Connection.execution_options() would change the connection.
    query = select(codes.c.id, codes.c.serial).where(codes.c.batch_id == batch_id)
    result = conn.execute(query.order_by(codes.c.id).execution_options(yield_per=20_000))
    try:
        for code_id, serial in result:
            yield int(code_id), str(serial)
    finally:
        result.close()  # a reader that stops early must not leave a server cursor open


def update_codes(conn: Connection, ids: Sequence[int], values: dict[str, Any]) -> int:
    changed = 0
    for chunk in chunks(ids, _CHUNK):
        changed += conn.execute(
            update(codes).where(codes.c.id.in_(chunk)).values(**values)
        ).rowcount
    return changed


def set_caps(conn: Connection, hashes: Sequence[tuple[int, bytes]]) -> None:
    statement = (
        update(codes)
        .where(codes.c.id == _bind("b_id"), codes.c.cap_hash.is_(None))
        .values(cap_hash=_bind("b_hash"))
    )
    for chunk in chunks(hashes, 5000):
        conn.execute(statement, [{"b_id": i, "b_hash": h} for i, h in chunk])


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def redeem_cap(conn: Connection, code_id: int, at: Any) -> bool:
    result = conn.execute(
        update(codes)
        .where(codes.c.id == code_id, codes.c.cap_redeemed_at.is_(None))
        .values(cap_redeemed_at=at)
    )
    return result.rowcount == 1


def count_by_state(conn: Connection, lot: str) -> dict[str, int]:
    query = select(codes.c.state, func.count()).where(codes.c.lot == lot).group_by(codes.c.state)
    return {state: int(n) for state, n in conn.execute(query)}


# --- code events and the code index ------------------------------------------------------------


def insert_event(conn: Connection, row: dict[str, Any], code_ids: Sequence[int]) -> None:
    conn.execute(events.insert().values(**row))
    entry_id = row["entry_id"]
    rows = [{"code_id": c, "entry_id": entry_id, "position": i} for i, c in enumerate(code_ids)]
    for chunk in chunks(rows, 5000):
        conn.execute(index.insert(), list(chunk))


def insert_case_moves(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    insert_rows(conn, case_moves, rows)


_EVENT_COLUMNS = (
    events.c.entry_id,
    events.c.kind,
    events.c.event,
    events.c.at,
    events.c.lot,
    events.c.location,
    events.c.region,
    events.c.parent_id,
    events.c.count,
    events.c.root,
    # Small lists (a case's bottles) come with their subtrees, saving a query per proof.
    case((events.c.count <= SMALL_LIST, events.c.nodes), else_=null()).label("small_nodes"),
)


_EVENTS_OF = (
    select(*_EVENT_COLUMNS, index.c.code_id, index.c.position)
    .join(index, index.c.entry_id == events.c.entry_id)
    .where(index.c.code_id.in_(bindparam("ids", expanding=True)))
    .order_by(events.c.at, events.c.entry_id)
)


def events_with_cases_of(code_id: ColumnElement[Any]) -> Select[Any]:
    """The statement of ``events_with_cases`` for the code whose id ``code_id`` gives (a
    parameter, or a scalar subquery such as the code of a serial)."""
    # The code's own list entries, read first whatever the planner's statistics say: without
    # them (after a bulk load, before ANALYZE) PostgreSQL scanned every packing event instead.
    own_entries = (
        select(index.c.entry_id)
        .where(index.c.code_id == code_id)
        .cte("own_entries")
        .prefix_with("MATERIALIZED")
    )
    # The code and every case it was packed into, as a set of ids to join on: each side is
    # then an index lookup on the index table's (code_id, entry_id) key. (An ``OR code_id IN
    # (subquery)`` made PostgreSQL scan the whole index table: seconds at ten million codes.)
    code_and_cases = union(
        select(code_id.label("code_id")),
        select(events.c.parent_id)
        .join(own_entries, own_entries.c.entry_id == events.c.entry_id)
        .where(events.c.event == "packed", events.c.parent_id.is_not(None)),
    ).cte("code_and_cases")
    # With each row, what the lookup shows of it, saving a query each: the listed code's own
    # GS1 key (``member_*``), and the ledger entry once sequenced (``ledger_*``, else None).
    return (
        select(
            *_EVENT_COLUMNS,
            index.c.code_id,
            index.c.position,
            codes.c.gtin.label("member_gtin"),
            codes.c.lot.label("member_lot"),
            codes.c.serial.label("member_serial"),
            ledger.c.seq.label("ledger_seq"),
            ledger.c.ts.label("ledger_ts"),
            ledger.c.data.label("ledger_data"),
            ledger.c.leaf_hash.label("ledger_leaf_hash"),
            ledger.c.chain_hash.label("ledger_chain_hash"),
        )
        .select_from(code_and_cases)
        .join(index, index.c.code_id == code_and_cases.c.code_id)
        .join(events, events.c.entry_id == index.c.entry_id)
        .join(codes, codes.c.id == index.c.code_id)
        .outerjoin(ledger, ledger.c.entry_id == events.c.entry_id)
        .order_by(events.c.at, events.c.entry_id)
    )


_EVENTS_WITH_CASES = events_with_cases_of(bindparam("code", type_=BigInteger))


def events_with_cases(conn: Connection, code_id: int) -> list[Mapping[str, Any]]:
    """The list entries naming the code or any case it was ever packed into, with the listed
    code's key (``member_gtin``, ``member_lot``, ``member_serial``) and the entry's ledger
    columns (``ledger_seq``… None while it waits to be sequenced)."""
    return prepared.mappings(conn, _EVENTS_WITH_CASES, {"code": code_id})


def events_of(conn: Connection, code_ids: Sequence[int]) -> list[Mapping[str, Any]]:
    """Every list entry naming one of ``code_ids``, with the code and its position, by time."""
    return prepared.mappings(conn, _EVENTS_OF, {"ids": list(code_ids)})


def events_for_lot(conn: Connection, lot: str) -> list[RowMapping]:
    query = select(*_EVENT_COLUMNS).where(events.c.lot == lot).order_by(events.c.at)
    return list(conn.execute(query).mappings())


def event_code_ids(conn: Connection, entry_id: str) -> list[int]:
    query = select(index.c.code_id).where(index.c.entry_id == entry_id).order_by(index.c.position)
    return [int(r[0]) for r in conn.execute(query)]


def event_nodes(
    conn: Connection, entry_id: str, offsets: Sequence[tuple[NodeId, int]]
) -> dict[NodeId, bytes]:
    """Slices of an event's packed subtrees: ``{node: 32 bytes at offset}`` in one query."""
    if not offsets:
        return {}
    params: dict[str, Any] = {"e": entry_id}
    params.update({f"o{i}": off + 1 for i, (_, off) in enumerate(offsets)})
    row = conn.execute(_slices(len(offsets)), params).one()
    return {node: bytes(value) for (node, _), value in zip(offsets, row, strict=True)}


@functools.cache
def _slices(count: int) -> TextClause:
    columns = ", ".join(f"substr(nodes, :o{i}, 32)" for i in range(count))
    return text(f"SELECT {columns} FROM trace_code_events WHERE entry_id = :e")
