"""SQL of the lookup: a code with its batch, ledger entries by id, scans, the device-hash salt."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Connection,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from api import prepared
from api.log import repository as log_repo
from api.log.repository import as_utc
from api.models import LedgerEntry, StoredCheckpoint
from api.trace.batches.models import Batch
from api.trace.codes import repository as code_repo
from api.trace.codes.models import Code, CodeEvent
from api.trace.products.models import Product
from api.trace.resolver.models import Scan, TraceSecret
from ledger.tree import NodeId

entries = LedgerEntry.__table__
scans = Scan.__table__
secrets_table = TraceSecret.__table__
codes = Code.__table__
batches = Batch.__table__
products = Product.__table__
events = CodeEvent.__table__
checkpoints = StoredCheckpoint.__table__


@dataclass(frozen=True, slots=True)
class StoredEntry:
    seq: int
    entry_id: str
    kind: str
    ts: datetime
    data: bytes
    leaf_hash: bytes
    chain_hash: bytes


def stored_entry(row: Any, prefix: str = "ledger_") -> StoredEntry | None:
    """The entry in a row that carries ledger columns under ``prefix`` (None if unsequenced)."""
    if row[prefix + "seq"] is None:
        return None
    return StoredEntry(
        row[prefix + "seq"],
        row["entry_id"],
        row["kind"],
        as_utc(row[prefix + "ts"]),
        bytes(row[prefix + "data"]),
        bytes(row[prefix + "leaf_hash"]),
        bytes(row[prefix + "chain_hash"]),
    )


_LATEST_CHECKPOINT = (
    select(checkpoints.c.tree_size, checkpoints.c.root_hash, checkpoints.c.note)
    .order_by(checkpoints.c.tree_size.desc())
    .limit(1)
    .subquery("latest_checkpoint")
)

_CASE = codes.alias("case_code")

# The code by serial, its batch (with the product's name, as batches.get has it), the GS1 key
# of the case it is in (``case_*``) and the latest checkpoint, in one round trip; batch
# columns are prefixed ``batch_``.
_CODE_WITH_BATCH = (
    select(
        codes,
        _CASE.c.gtin.label("case_gtin"),
        _CASE.c.lot.label("case_lot"),
        _CASE.c.serial.label("case_serial"),
        *(c.label(f"batch_{c.name}") for c in batches.c),
        products.c.name_zh.label("batch_product"),
        _LATEST_CHECKPOINT.c.tree_size.label("checkpoint_tree_size"),
        _LATEST_CHECKPOINT.c.root_hash.label("checkpoint_root_hash"),
        _LATEST_CHECKPOINT.c.note.label("checkpoint_note"),
    )
    .join(batches, batches.c.lot == codes.c.lot)
    .join(products, products.c.gtin == batches.c.gtin)
    .outerjoin(_CASE, _CASE.c.id == codes.c.parent_id)
    .outerjoin(_LATEST_CHECKPOINT, true())
    .where(codes.c.serial == bindparam("serial"))
    .subquery("code_with_batch")
)
# And the code's history rows (``codes.repository.events_with_cases``), their columns
# prefixed ``history_``: one row per history row, or one with them NULL when it has none.
_HISTORY = code_repo.events_with_cases_of(
    select(codes.c.id).where(codes.c.serial == bindparam("serial")).scalar_subquery()
).subquery("history")
_HISTORY_PREFIX = "history_"
_CODE_BATCH_AND_HISTORY = (
    select(_CODE_WITH_BATCH, *(c.label(_HISTORY_PREFIX + c.name) for c in _HISTORY.c))
    .select_from(_CODE_WITH_BATCH)
    .outerjoin(_HISTORY, true())
    .order_by(_HISTORY.c.at, _HISTORY.c.entry_id)
)


@dataclass(frozen=True, slots=True)
class LatestCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str


@dataclass(frozen=True, slots=True)
class CodeRows:
    """A code's row, its batch's row, the latest checkpoint (None before the first) and the
    code's history rows as ``codes.repository.events_with_cases`` gives them."""

    code: Mapping[str, Any]
    batch: dict[str, Any]
    checkpoint: LatestCheckpoint | None
    history: list[Mapping[str, Any]]


def code_with_batch(conn: Connection, serial: str) -> CodeRows | None:
    """The code of ``serial`` with its batch, the latest checkpoint and its history rows, or
    None if no code has that serial."""
    found = prepared.mappings(conn, _CODE_BATCH_AND_HISTORY, {"serial": serial})
    if not found:
        return None
    row = found[0]
    batch = {k.removeprefix("batch_"): v for k, v in row.items() if k.startswith("batch_")}
    cut = len(_HISTORY_PREFIX)
    history = [
        {k[cut:]: v for k, v in r.items() if k.startswith(_HISTORY_PREFIX)}
        for r in found
        if r[_HISTORY_PREFIX + "entry_id"] is not None
    ]
    cp = (
        LatestCheckpoint(
            row["checkpoint_tree_size"], bytes(row["checkpoint_root_hash"]), row["checkpoint_note"]
        )
        if row["checkpoint_tree_size"] is not None
        else None
    )
    return CodeRows(row, batch, cp, history)


# Tree nodes of inclusion proofs and slices of code lists' packed subtrees, in one round trip
# (PostgreSQL): slices come back as level -1 with their place in the request as the index.
_PG_NODES_AND_SLICES = text(
    "SELECT 0, seq, leaf_hash FROM ledger_entries WHERE seq = ANY(CAST(:leaves AS int8[])) "
    "UNION ALL "
    "SELECT n.level, n.idx, n.hash FROM ledger_tree_nodes n "
    "JOIN unnest(CAST(:levels AS int2[]), CAST(:idxs AS int8[])) AS w(level, idx) "
    "ON n.level = w.level AND n.idx = w.idx "
    "UNION ALL "
    "SELECT -1, s.k - 1, substr(e.nodes, s.off, 32) FROM trace_code_events e "
    "JOIN unnest(CAST(:entries AS text[]), CAST(:offsets AS int4[])) WITH ORDINALITY "
    "AS s(entry_id, off, k) ON e.entry_id = s.entry_id"
)


def tree_nodes_and_slices(
    conn: Connection, ids: set[NodeId], slices: Sequence[tuple[str, int]]
) -> tuple[dict[NodeId, bytes], list[bytes | None]]:
    """The log's tree nodes ``ids``, and for each (entry id, byte offset) of ``slices`` the
    32 bytes at that offset of the code event's packed list nodes."""
    if conn.dialect.name != "postgresql":
        nodes = log_repo.get_nodes(conn, ids) if ids else {}
        return nodes, _slices_by_entry(conn, slices)
    inner = [(level, idx) for level, idx in ids if level > 0]
    # Arrays go as their text literals, which the statement casts: psycopg's array dumper
    # costs ~50 µs a list of this size, joining the literal a fifth of that.
    params = {
        "leaves": _array([idx for level, idx in ids if level == 0]),
        "levels": _array([level for level, _ in inner]),
        "idxs": _array([idx for _, idx in inner]),
        "entries": _array([_quoted(entry_id) for entry_id, _ in slices]),
        "offsets": _array([offset + 1 for _, offset in slices]),
    }
    found: dict[NodeId, bytes] = {}
    sliced: list[bytes | None] = [None] * len(slices)
    for level, idx, digest in prepared.rows(conn, _PG_NODES_AND_SLICES, params):
        if level < 0:
            sliced[idx] = bytes(digest)
        else:
            found[(level, idx)] = bytes(digest)
    return found, sliced


def _array(items: Sequence[object]) -> str:
    """A PostgreSQL array literal of ``items`` (integers, or strings already ``_quoted``)."""
    return "{" + ",".join(map(str, items)) + "}"


def _quoted(item: str) -> str:
    """``item`` as an element of an array literal: quoted, its quotes and backslashes escaped."""
    return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _slices_by_entry(conn: Connection, slices: Sequence[tuple[str, int]]) -> list[bytes | None]:
    """``slices`` one query per code event (SQLite)."""
    out: list[bytes | None] = [None] * len(slices)
    wanted: dict[str, list[int]] = {}
    for k, (entry_id, _) in enumerate(slices):
        wanted.setdefault(entry_id, []).append(k)
    for entry_id, ks in wanted.items():
        columns = [func.substr(events.c.nodes, slices[k][1] + 1, 32) for k in ks]
        row = conn.execute(select(*columns).where(events.c.entry_id == entry_id)).first()
        if row is not None:
            for k, value in zip(ks, row, strict=True):
                out[k] = bytes(value)
    return out


def entries_by_ids(conn: Connection, ids: Sequence[str]) -> dict[str, StoredEntry]:
    if not ids:
        return {}
    query = select(
        entries.c.seq,
        entries.c.entry_id,
        entries.c.kind,
        entries.c.ts,
        entries.c.data,
        entries.c.leaf_hash,
        entries.c.chain_hash,
    ).where(entries.c.entry_id.in_(list(ids)))
    return {
        r.entry_id: StoredEntry(
            r.seq,
            r.entry_id,
            r.kind,
            as_utc(r.ts),
            bytes(r.data),
            bytes(r.leaf_hash),
            bytes(r.chain_hash),
        )
        for r in conn.execute(query)
    }


def stored_secret(conn: Connection, name: str) -> bytes | None:
    """The secret ``name`` if it was made (and committed, or made in this transaction)."""
    found = conn.execute(select(secrets_table.c.value).where(secrets_table.c.name == name)).scalar()
    return None if found is None else bytes(found)


def secret(conn: Connection, name: str) -> bytes:
    """The secret ``name``, made (32 random bytes) the first time anyone asks."""
    found = stored_secret(conn, name)
    if found is not None:
        return found
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    conn.execute(
        insert(secrets_table)
        .values(name=name, value=secrets.token_bytes(32))
        .on_conflict_do_nothing()
    )
    return bytes(
        conn.execute(select(secrets_table.c.value).where(secrets_table.c.name == name)).scalar_one()
    )


def delete_secrets_before(conn: Connection, prefix: str, name: str) -> None:
    """Delete the secrets named ``prefix…`` that sort before ``name`` (earlier days')."""
    conn.execute(
        secrets_table.delete().where(
            secrets_table.c.name.startswith(prefix, autoescape=True), secrets_table.c.name < name
        )
    )


def insert_scan(conn: Connection, row: dict[str, Any]) -> None:
    """Record a scan as given (no client: the demo's and tests' scans)."""
    conn.execute(scans.insert().values(**row))


@dataclass(frozen=True, slots=True)
class RecordedScan:
    """A code's scans once one more is recorded: how many, the first one's time, how many
    devices, and the most recent (at most ``RECENT``, oldest first, the new one included)."""

    count: int
    first: datetime | None
    devices: int
    recent: list[Mapping[str, Any]]


RECENT = 200
"""Scans of a code that the clone rules read: the most recent ones."""


def record_scan(conn: Connection, row: dict[str, Any]) -> RecordedScan:
    """Insert the scan ``row``; return its code's scans counting it. On PostgreSQL one
    statement: the insert is a CTE whose row is added to the code's earlier scans (which the
    statement's snapshot does not yet show); it also makes the transaction's commit
    asynchronous (see ``_RECORD_AND_RECENT``).

    A row with a ``client_hash`` that already scanned the code (that day: the hash changes
    daily) is recorded with that client's first device and place (``_INSERT_SCAN``)."""
    row = {"client_hash": None, **row}
    if conn.dialect.name != "postgresql":
        conn.execute(_INSERT_SCAN, row)
        count, first, devices = scan_stats(conn, row["code_id"])
        return RecordedScan(count, first, devices, scans_of(conn, row["code_id"]))
    found = prepared.mappings(conn, _RECORD_AND_RECENT, row)
    head = found[0]  # the statement's totals ride on every row; the new scan is always one
    return RecordedScan(
        int(head["scan_count"]),
        as_utc(head["first_at"]),
        int(head["devices"]),
        [{c: r[c] for c in _SCAN_COLUMNS} for r in reversed(found)],
    )


_SCAN_COLUMNS = tuple(c.name for c in scans.c)
_PLACE_FIELDS = ("province", "city", "lat_centi", "lon_centi")


def _param(name: str) -> BindParameter[Any]:
    return bindparam(name, type_=scans.c[name].type)


# The client's first scan of the code (a device before none), if its hash is given and it
# scanned the code before: ``client_hash = NULL`` matches nothing.
_SAME_CLIENT = (
    select(scans.c.device_hash, *(scans.c[f] for f in _PLACE_FIELDS), literal(1).label("seen"))
    .where(scans.c.code_id == _param("code_id"), scans.c.client_hash == _param("client_hash"))
    .order_by(scans.c.device_hash.is_(None), scans.c.at, scans.c.id)
    .limit(1)
    .subquery("same_client")
)
_ONE = select(literal(1).label("one")).subquery("one")
_INSERT_SCAN = scans.insert().from_select(
    ["code_id", "at", "device_hash", *_PLACE_FIELDS, "case_id", "client_hash"],
    select(
        _param("code_id"),
        _param("at"),
        func.coalesce(_SAME_CLIENT.c.device_hash, _param("device_hash")),
        *(
            case((_SAME_CLIENT.c.seen.is_not(None), _SAME_CLIENT.c[f]), else_=_param(f))
            for f in _PLACE_FIELDS
        ),
        # Typed: a NULL parameter in a select list would be text to PostgreSQL.
        cast(_param("case_id"), scans.c.case_id.type),
        cast(_param("client_hash"), scans.c.client_hash.type),
    ).select_from(_ONE.outerjoin(_SAME_CLIENT, true())),
)
"""A scan, with its client's first device and place when that client scanned the code
before (one client is one consumer, however many device ids it sends)."""
_NEW_SCAN = _INSERT_SCAN.returning(*scans.c).cte("new_scan")
_EVERY_SCAN = union_all(
    select(scans).where(scans.c.code_id == bindparam("code_id", type_=scans.c.code_id.type)),
    select(_NEW_SCAN),
).cte("every_scan")
_RECORD_AND_RECENT = (
    select(
        _EVERY_SCAN,
        select(func.count()).select_from(_EVERY_SCAN).scalar_subquery().label("scan_count"),
        select(func.min(_EVERY_SCAN.c.at)).scalar_subquery().label("first_at"),
        select(func.count(func.distinct(_EVERY_SCAN.c.device_hash)))
        .scalar_subquery()
        .label("devices"),
        # The lookup's transaction commits without waiting for the WAL flush (``SET LOCAL``,
        # in this statement to spare a round trip): a scan is an observation, not money or
        # custody, and a crash can lose only the last fraction of a second of them, whole
        # transactions at a time. Ledger entries are unaffected: the sequencer's own commits
        # stay synchronous.
        func.set_config("synchronous_commit", "off", True).label("async_commit"),
    )
    .order_by(_EVERY_SCAN.c.at.desc(), _EVERY_SCAN.c.id.desc())
    .limit(RECENT)
)


_RECENT_SCANS = (
    select(scans)
    .where(scans.c.code_id == bindparam("code_id", type_=scans.c.code_id.type))
    .order_by(scans.c.at.desc(), scans.c.id.desc())
    .limit(bindparam("limit", type_=BigInteger()))
)


def scans_of(conn: Connection, code_id: int, limit: int = RECENT) -> list[Mapping[str, Any]]:
    """The code's most recent scans, oldest first."""
    found = prepared.mappings(conn, _RECENT_SCANS, {"code_id": code_id, "limit": limit})
    return found[::-1]


def scan_stats(conn: Connection, code_id: int) -> tuple[int, datetime | None, int]:
    """(count, first scan time, distinct devices)."""
    row = conn.execute(
        select(
            func.count(),
            func.min(scans.c.at),
            func.count(func.distinct(scans.c.device_hash)),
        ).where(scans.c.code_id == code_id)
    ).one()
    return _stats(row)


def _stats(row: Any) -> tuple[int, datetime | None, int]:
    return int(row[0]), as_utc(row[1]) if row[1] is not None else None, int(row[2])
