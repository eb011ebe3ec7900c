"""Row 3: ``jiuyuan verify`` (``api.log.audit.audit_log``) beside bare SHA-256 of the same bytes."""

from __future__ import annotations

import time
from hashlib import sha256

from api.db import Database
from api.log import repository as repo
from api.log.audit import audit_log
from bench.ledger.big_log import BigLog
from bench.report import Baseline, Options, Row, Target, median, rate
from ledger.note import NoteVerifier

TARGET_RATE = 100_000


def measure(
    db: Database, log: BigLog, verifier: NoteVerifier, origin: str, options: Options
) -> list[Row]:
    audit: list[float] = []
    streamed: list[float] = []
    in_memory: list[float] = []
    for _ in range(options.verify_reps):
        started = time.perf_counter()
        result = audit_log(db.engine, verifier, origin)
        audit.append(log.size / (time.perf_counter() - started))
        if result.size != log.size or result.checked_checkpoints != len(log.checkpoints):
            raise AssertionError(
                f"the audit checked {result.size} entries and {result.checked_checkpoints} "
                f"checkpoints, not {log.size} and {len(log.checkpoints)}"
            )
        streamed.append(_stream_and_hash(db, log.size))
        started = time.perf_counter()
        for data in log.data:
            sha256(b"\x00" + data).digest()
        in_memory.append(log.size / (time.perf_counter() - started))
    figure = median(audit)
    stream, memory = median(streamed), median(in_memory)
    return [
        Row(
            f"3. verify: {log.size:,} entries, {len(log.checkpoints)} checkpoints",
            "audit_log (all checks)",
            rate(figure),
            f"median of {options.verify_reps}",
            (
                Baseline("stream_entries + sha256(data)", rate(stream), figure / stream),
                Baseline("sha256(data) in memory", rate(memory), figure / memory),
            ),
            (Target(f"≥ {TARGET_RATE:,}/s", figure >= TARGET_RATE),),
        )
    ]


def _stream_and_hash(db: Database, size: int) -> float:
    """Entries/s of reading the rows exactly as the audit does and hashing each leaf."""
    started = time.perf_counter()
    count = 0
    with db.engine.connect() as conn, conn.begin():
        for _seq, data, _leaf, _chain in repo.stream_entries(conn):
            sha256(b"\x00" + data).digest()
            count += 1
    elapsed = time.perf_counter() - started
    if count != size:
        raise AssertionError(f"streamed {count} entries, not {size}")
    return size / elapsed
