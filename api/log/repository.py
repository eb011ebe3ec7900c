"""All SQL of the log. Functions take a Connection so the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ARRAY, Connection, String, any_, bindparam, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from api.models import LedgerEntry, LogState, StoredCheckpoint, TreeNode
from ledger.tree import NodeId

entries = LedgerEntry.__table__
nodes = TreeNode.__table__
state = LogState.__table__
checkpoints = StoredCheckpoint.__table__


@dataclass(frozen=True, slots=True)
class EntryRow:
    seq: int
    entry_id: str
    kind: str
    ts: datetime
    body_digest: bytes
    data: bytes
    leaf_hash: bytes
    chain_hash: bytes


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    tree_size: int
    root_hash: bytes
    note: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class Tail:
    """The last sequenced entry: where the next one continues from."""

    seq: int
    chain_hash: bytes
    ts: datetime


@dataclass(frozen=True, slots=True)
class Receipt:
    """What an appended entry's submitter gets back (also on an idempotent retry)."""

    seq: int
    body_digest: bytes
    leaf_hash: bytes
    chain_hash: bytes
    ts: datetime


def tail(conn: Connection) -> Tail | None:
    """The last sequenced entry, or None for an empty log."""
    row = conn.execute(
        select(entries.c.seq, entries.c.chain_hash, entries.c.ts)
        .order_by(entries.c.seq.desc())
        .limit(1)
    ).first()
    return None if row is None else Tail(row[0], bytes(row[1]), as_utc(row[2]))


def log_size(conn: Connection) -> int:
    found = tail(conn)
    return 0 if found is None else found.seq + 1


def find_by_ids(conn: Connection, ids: Sequence[str]) -> dict[str, Receipt]:
    """The receipts of those ids that are already in the log."""
    found: dict[str, Receipt] = {}
    cols = (
        entries.c.entry_id,
        entries.c.seq,
        entries.c.body_digest,
        entries.c.leaf_hash,
        entries.c.chain_hash,
        entries.c.ts,
    )
    if conn.dialect.name == "postgresql":
        # One statement text whatever the batch size: planned and prepared once.
        wanted = entries.c.entry_id == any_(bindparam("ids", type_=ARRAY(String)))
        chunks: list[Any] = [(wanted, {"ids": list(ids)})]
    else:
        chunks = [
            (entries.c.entry_id.in_(ids[start : start + 500]), {})
            for start in range(0, len(ids), 500)
        ]
    for condition, params in chunks:
        for entry_id, seq, digest, leaf, chain, ts in conn.execute(
            select(*cols).where(condition), params
        ):
            found[entry_id] = Receipt(seq, bytes(digest), bytes(leaf), bytes(chain), as_utc(ts))
    return found


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_ENTRY_COLUMNS = (
    "seq",
    "entry_id",
    "kind",
    "ts",
    "body_digest",
    "data",
    "leaf_hash",
    "chain_hash",
)


def insert_entries(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert sequenced entries; on PostgreSQL by COPY, the cheapest way in per row."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(entries.insert(), list(rows))
        return
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(
        f"COPY {entries.name} ({', '.join(_ENTRY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(
            ["int8", "varchar", "varchar", "timestamptz", "bytea", "bytea", "bytea", "bytea"]
        )
        for row in rows:
            copy.write_row([row[c] for c in _ENTRY_COLUMNS])


def get_entry(conn: Connection, seq: int) -> EntryRow | None:
    row = conn.execute(select(entries).where(entries.c.seq == seq)).first()
    return None if row is None else _entry(row)


def _entry(row: Any) -> EntryRow:
    return EntryRow(
        seq=row.seq,
        entry_id=row.entry_id,
        kind=row.kind,
        ts=as_utc(row.ts),
        body_digest=bytes(row.body_digest),
        data=bytes(row.data),
        leaf_hash=bytes(row.leaf_hash),
        chain_hash=bytes(row.chain_hash),
    )


def leaf_hashes(conn: Connection, start: int, stop: int) -> list[bytes]:
    """Leaf hashes of seq in [start, stop), in order."""
    rows = conn.execute(
        select(entries.c.leaf_hash)
        .where(entries.c.seq >= start, entries.c.seq < stop)
        .order_by(entries.c.seq)
    )
    return [bytes(r[0]) for r in rows]


def stream_entries(conn: Connection, start: int = 0) -> Iterator[tuple[int, bytes, bytes, bytes]]:
    """Every entry from ``start`` as ``(seq, data, leaf_hash, chain_hash)``, streamed."""
    if conn.dialect.name == "postgresql":
        # COPY streams rows at about twice the rate of a server-side cursor.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        query = (
            "COPY (SELECT seq, data, leaf_hash, chain_hash FROM ledger_entries "
            f"WHERE seq >= {int(start)} ORDER BY seq) TO STDOUT (FORMAT BINARY)"
        )
        with cursor.copy(query) as copy:
            copy.set_types(["int8", "bytea", "bytea", "bytea"])
            for seq, data, leaf, chain in copy.rows():
                yield seq, bytes(data), bytes(leaf), bytes(chain)
        return
    # Per-statement options: Connection.execution_options would change the caller's connection.
    result = conn.execute(
        select(entries.c.seq, entries.c.data, entries.c.leaf_hash, entries.c.chain_hash)
        .where(entries.c.seq >= start)
        .order_by(entries.c.seq),
        execution_options={"stream_results": True, "yield_per": 10_000},
    )
    for seq, data, leaf, chain in result:
        yield seq, bytes(data), bytes(leaf), bytes(chain)


_PG_NODES = text(
    "SELECT 0, seq, leaf_hash FROM ledger_entries WHERE seq = ANY(:leaves) "
    "UNION ALL "
    "SELECT n.level, n.idx, n.hash FROM ledger_tree_nodes n "
    "JOIN unnest(CAST(:levels AS int2[]), CAST(:idxs AS int8[])) AS w(level, idx) "
    "ON n.level = w.level AND n.idx = w.idx"
)


def get_nodes(conn: Connection, ids: Iterable[NodeId]) -> dict[NodeId, bytes]:
    """Fetch tree nodes by id: level 0 from the entries, higher levels from the node table."""
    wanted = set(ids)
    found: dict[NodeId, bytes] = {}
    leaves = [idx for level, idx in wanted if level == 0]
    inner = [(level, idx) for level, idx in wanted if level > 0]
    if conn.dialect.name == "postgresql":
        # A fixed statement text with array parameters: prepared once, one round trip.
        params = {
            "leaves": leaves,
            "levels": [level for level, _ in inner],
            "idxs": [idx for _, idx in inner],
        }
        for level, idx, digest in conn.execute(_PG_NODES, params):
            found[(level, idx)] = bytes(digest)
        return found
    if leaves:
        for seq, leaf in conn.execute(
            select(entries.c.seq, entries.c.leaf_hash).where(entries.c.seq.in_(leaves))
        ):
            found[(0, seq)] = bytes(leaf)
    if inner:
        for level, idx, digest in conn.execute(
            select(nodes.c.level, nodes.c.idx, nodes.c.hash).where(
                tuple_(nodes.c.level, nodes.c.idx).in_(inner)
            )
        ):
            found[(level, idx)] = bytes(digest)
    return found


def node_range(conn: Connection, level: int, start: int, stop: int) -> dict[int, bytes]:
    """Stored nodes of one level with ``start <= idx < stop``."""
    rows = conn.execute(
        select(nodes.c.idx, nodes.c.hash).where(
            nodes.c.level == level, nodes.c.idx >= start, nodes.c.idx < stop
        )
    )
    return {idx: bytes(digest) for idx, digest in rows}


def node_range_digest(conn: Connection, level: int, start: int, stop: int) -> bytes | None:
    """SHA-256 over one level's stored hashes in index order (PostgreSQL), else None."""
    if conn.dialect.name != "postgresql":
        return None
    digest = conn.execute(
        text(
            "SELECT sha256(string_agg(hash, ''::bytea ORDER BY idx)) FROM ledger_tree_nodes "
            "WHERE level = :level AND idx >= :start AND idx < :stop"
        ),
        {"level": level, "start": start, "stop": stop},
    ).scalar()
    return None if digest is None else bytes(digest)


def insert_nodes(conn: Connection, new_nodes: Sequence[tuple[int, int, bytes]]) -> None:
    if not new_nodes:
        return
    rows = [{"level": level, "idx": idx, "hash": digest} for level, idx, digest in new_nodes]
    insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
    # A node is a pure function of the leaves below it, so a second writer would store the
    # same bytes; ignoring the duplicate keeps integration idempotent.
    for start in range(0, len(rows), 5000):
        conn.execute(insert(nodes).on_conflict_do_nothing(), rows[start : start + 5000])


def integrated_size(conn: Connection) -> int:
    return int(conn.execute(select(state.c.integrated_size).where(state.c.id == 1)).scalar_one())


def set_integrated_size(conn: Connection, size: int) -> None:
    conn.execute(update(state).where(state.c.id == 1).values(integrated_size=size))


def latest_checkpoint(conn: Connection) -> CheckpointRow | None:
    row = conn.execute(
        select(checkpoints).order_by(checkpoints.c.tree_size.desc()).limit(1)
    ).first()
    return None if row is None else _checkpoint(row)


def checkpoint_at(conn: Connection, size: int) -> CheckpointRow | None:
    row = conn.execute(select(checkpoints).where(checkpoints.c.tree_size == size)).first()
    return None if row is None else _checkpoint(row)


def checkpoint_covering(conn: Connection, seq: int) -> CheckpointRow | None:
    """The latest checkpoint whose tree contains ``seq``."""
    row = conn.execute(
        select(checkpoints)
        .where(checkpoints.c.tree_size > seq)
        .order_by(checkpoints.c.tree_size.desc())
        .limit(1)
    ).first()
    return None if row is None else _checkpoint(row)


def all_checkpoints(conn: Connection) -> list[CheckpointRow]:
    rows = conn.execute(select(checkpoints).order_by(checkpoints.c.tree_size))
    return [_checkpoint(r) for r in rows]


def insert_checkpoint(conn: Connection, cp: CheckpointRow) -> None:
    conn.execute(
        checkpoints.insert().values(
            tree_size=cp.tree_size,
            root_hash=cp.root_hash,
            note=cp.note,
            published_at=cp.published_at,
        )
    )


def _checkpoint(row: Any) -> CheckpointRow:
    return CheckpointRow(
        tree_size=row.tree_size,
        root_hash=bytes(row.root_hash),
        note=row.note,
        published_at=as_utc(row.published_at),
    )
