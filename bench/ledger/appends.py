"""Row 1: durable appends through the real sequencer, beside raw INSERT, COPY and pymerkle.

Client threads send requests of ``per_request`` entries and wait for each answer, as HTTP
handlers do, so the sequencer's group commit sees what many concurrent writers would give it.
The raw baselines write the very rows the ledger stored (same columns, same bytes) into bare
copies of ``ledger_entries`` (same primary key, unique and plain indexes) that always hold as
many rows as the log, one transaction per ``max_batch_entries`` rows, from one thread with
everything precomputed: the practical limit. pymerkle's ``SqliteTree`` gets the same bytes.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

from pymerkle import SqliteTree  # type: ignore[import-untyped]
from sqlalchemy import text

from api.db import Database
from api.log.sequencer import Sequencer, Submission
from bench.ledger.workload import COLUMNS, COPY_TYPES, KIND, Transfer, stdlib_json, transfers
from bench.postgres import driver_connection
from bench.report import Baseline, Options, Row, Target, median, rate
from ledger.merkle import root

RAW_TABLES = ("raw_insert", "raw_copy")
TARGET_RATE = 20_000
TARGET_RATIO = 0.3


@dataclass
class Rates:
    """Entries per second of each contender, one list entry per repetition."""

    canonicalise: list[float] = field(default_factory=list)
    stdlib_json: list[float] = field(default_factory=list)
    sequencer_only: list[float] = field(default_factory=list)
    canonicalise_and_sequence: list[float] = field(default_factory=list)
    raw_insert: list[float] = field(default_factory=list)
    raw_copy: list[float] = field(default_factory=list)
    pymerkle: list[float] = field(default_factory=list)


def measure(db: Database, sequencer: Sequencer, batch: int, options: Options) -> list[Row]:
    n = options.appends
    with db.engine.begin() as conn:
        for table in RAW_TABLES:
            conn.execute(text(f"CREATE TABLE {table} (LIKE ledger_entries INCLUDING ALL)"))
    # A log in service is never empty and has planner statistics: one untimed round first,
    # and ANALYZE after each round (autovacuum's job in service), for the raw tables alike.
    seeds = iter(range(1, 2 * options.reps + 2))
    start = _untimed_round(db, sequencer, transfers(n, next(seeds)), batch, options)
    rates = Rates()
    for _ in range(options.reps):
        work = transfers(n, next(seeds))
        started = time.perf_counter()
        subs = [Submission.of(t.entry_id, KIND, t.payload()) for t in work]
        rates.canonicalise.append(n / (time.perf_counter() - started))
        started = time.perf_counter()
        for t in work:
            sha256(stdlib_json(t)).digest()
        rates.stdlib_json.append(n / (time.perf_counter() - started))

        rates.sequencer_only.append(_clients(sequencer, subs, options, canonicalise=False))
        rows = _stored_rows(db, start, n)
        rates.raw_insert.append(_raw_insert(db, rows, batch))
        rates.raw_copy.append(_raw_copy(db, rows, batch))
        rates.pymerkle.append(_pymerkle([r[5] for r in rows], root([r[6] for r in rows])))
        _analyze(db)
        start += n

        work = transfers(n, next(seeds))
        rates.canonicalise_and_sequence.append(
            _clients(sequencer, work, options, canonicalise=True)
        )
        start = _catch_up(db, start, n, batch)
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {', '.join(RAW_TABLES)}"))
        conn.execute(text("TRUNCATE ledger_entries"))
    return _rows(rates, batch, options)


def _untimed_round(
    db: Database, sequencer: Sequencer, work: list[Transfer], batch: int, options: Options
) -> int:
    _clients(sequencer, work, options, canonicalise=True)
    return _catch_up(db, 0, len(work), batch)


def _catch_up(db: Database, start: int, n: int, batch: int) -> int:
    """Give the raw tables the rows the ledger just stored, untimed, so all stay the same size."""
    rows = _stored_rows(db, start, n)
    _raw_insert(db, rows, batch)
    _raw_copy(db, rows, batch)
    _analyze(db)
    return start + n


def _analyze(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(f"ANALYZE ledger_entries, {', '.join(RAW_TABLES)}"))


def _rows(r: Rates, batch: int, options: Options) -> list[Row]:
    section = (
        f"1. appends: {options.appends:,}/run, {options.clients} threads × "
        f"{options.per_request}/request"
    )
    runs = f"median of {options.reps}"
    insert, copy = median(r.raw_insert), median(r.raw_copy)

    def ledger(name: str, values: list[float]) -> Row:
        figure = median(values)
        return Row(
            section,
            name,
            rate(figure),
            runs,
            (
                Baseline(f"raw INSERT, {batch:,}/commit", rate(insert), figure / insert),
                Baseline(f"raw COPY, {batch:,}/commit", rate(copy), figure / copy),
            ),
            (
                Target(f"≥ {TARGET_RATE:,}/s", figure >= TARGET_RATE),
                Target(f"≥ {TARGET_RATIO} × raw INSERT", figure / insert >= TARGET_RATIO),
            ),
        )

    canon, stdlib = median(r.canonicalise), median(r.stdlib_json)
    peer, seq_only = median(r.pymerkle), median(r.sequencer_only)
    return [
        Row(
            section,
            "Submission.of (canonicalise), 1 thread",
            rate(canon),
            runs,
            (Baseline("json.dumps(sort_keys) + sha256", rate(stdlib), canon / stdlib),),
        ),
        ledger("ledger: sequencer only", r.sequencer_only),
        ledger("ledger: canonicalise + sequence", r.canonicalise_and_sequence),
        Row(
            section,
            "peer: pymerkle SqliteTree.append_entries",
            rate(peer),
            runs,
            (Baseline("ledger: sequencer only", rate(seq_only), peer / seq_only),),
        ),
    ]


def _clients(
    sequencer: Sequencer, work: Sequence[Any], options: Options, *, canonicalise: bool
) -> float:
    """Entries/s of ``options.clients`` threads each sending requests and awaiting the answer."""
    size = options.per_request
    requests = iter([work[i : i + size] for i in range(0, len(work), size)])
    lock = threading.Lock()
    gate = threading.Barrier(options.clients + 1)
    errors: list[BaseException] = []

    def client() -> None:
        gate.wait()
        try:
            while True:
                with lock:
                    request = next(requests, None)
                if request is None:
                    return
                if canonicalise:
                    request = [Submission.of(t.entry_id, KIND, t.payload()) for t in request]
                sequencer.append(request)
        except BaseException as exc:  # surfaced below: a failed append voids the figure
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(options.clients)]
    for thread in threads:
        thread.start()
    gate.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return len(work) / elapsed


def _stored_rows(db: Database, start: int, n: int) -> list[tuple[Any, ...]]:
    """The rows the ledger stored from ``start``; checks that they are ``n``, densely numbered."""
    query = text(f"SELECT {COLUMNS} FROM ledger_entries WHERE seq >= :start ORDER BY seq")
    with db.engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(query, {"start": start})]
    if [r[0] for r in rows] != list(range(start, start + n)):
        raise AssertionError(f"the ledger stored {len(rows)} entries, not seq {start}..+{n}")
    return rows


def _raw_insert(db: Database, rows: list[tuple[Any, ...]], batch: int) -> float:
    insert = f"INSERT INTO raw_insert ({COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"

    def write(cur: Any, chunk: list[tuple[Any, ...]]) -> None:
        cur.executemany(insert, chunk)

    return _raw(db, rows, batch, write)


def _raw_copy(db: Database, rows: list[tuple[Any, ...]], batch: int) -> float:
    def write(cur: Any, chunk: list[tuple[Any, ...]]) -> None:
        with cur.copy(f"COPY raw_copy ({COLUMNS}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(COPY_TYPES)
            for row in chunk:
                copy.write_row(row)

    return _raw(db, rows, batch, write)


def _raw(
    db: Database,
    rows: list[tuple[Any, ...]],
    batch: int,
    write: Callable[[Any, list[tuple[Any, ...]]], None],
) -> float:
    """Entries/s of ``write`` over ``rows``, one committed transaction per ``batch`` rows."""
    with driver_connection(db.engine) as conn, conn.cursor() as cur:
        started = time.perf_counter()
        for i in range(0, len(rows), batch):
            write(cur, rows[i : i + batch])
            conn.commit()
        elapsed = time.perf_counter() - started
    return len(rows) / elapsed


def _pymerkle(data: list[bytes], expected_root: bytes) -> float:
    """Entries/s of pymerkle's bulk append of the same bytes; its root must equal the ledger's."""
    with tempfile.TemporaryDirectory(prefix="jiuyuan-bench-") as tmp:
        tree = SqliteTree(str(Path(tmp) / "pymerkle.db"))
        try:
            started = time.perf_counter()
            tree.append_entries(data)
            elapsed = time.perf_counter() - started
            if tree.get_size() != len(data) or tree.get_root() != expected_root:
                raise AssertionError("pymerkle's tree differs from the ledger's")
        finally:
            tree.close()
    return len(data) / elapsed
