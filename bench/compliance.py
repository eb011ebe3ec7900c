"""Diversion detection at scale on PostgreSQL: batch over every scan, and per new scan.

A generated channel (``api.compliance.detection.synthetic``: 32 regions, dealers, stores,
tourists, returns, diversions and clones) is loaded with COPY into the real tables the
detector reads (``api.compliance.detection.loading``: parties and regions, case and bottle
codes, their custody events and code index, the transfers' ledger entries, and the scans),
then vacuumed and analysed (``_vacuum``), then:

- **batch**: ``run_detection`` over all of it — the set-based SQL run (``setwise``), the
  suspects judged in Python, alerts raised with their ledger entries — next to a same-run
  baseline: the same scans streamed from the same database, nothing done with them;
- **incremental**: a consumer scans a bottle again where it was last scanned, with a new
  phone (the common case), and its detection (``detect_for_scan``: the screen, and the whole
  case judged when the screen says the scan matters) is timed, next to a primary-key select
  on the same connection. The scan's own insert is traceability's cost and not counted; each
  call commits, as the lookup does.

``--scans 10000000`` is the issue's size (about 3.5 M cases; loading takes a while).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, text

from api.compliance.alerts import runs, screen
from api.compliance.alerts.runs import detect_for_scan, run_detection
from api.compliance.detection.loading import COLUMNS, channel_rows, story_rows
from api.compliance.detection.synthetic import CaseStory, Params, channel_of, stories
from api.compliance.detection.thresholds import Thresholds
from api.compliance.geo.gazetteer import gazetteer
from bench.postgres import driver_connection, fresh_schema
from bench.report import Baseline, Options, Row, Target, median, ms, note, p99, rate

SCANS_PER_CASE = 2.9  # what the generator's defaults give, measured
INCREMENTAL_CALLS = 300


def run(options: Options, base_url: str) -> list[Row]:
    cases_wanted = max(1, round(options.scans / SCANS_PER_CASE))
    per_dealer = max(1, cases_wanted // (32 * 10))
    params = Params(dealers_per_region=10, stores_per_dealer=5, cases_per_dealer=per_dealer)
    with fresh_schema(base_url, "bench_compliance") as url:
        engine = create_engine(url)
        try:
            note(f"compliance: generating and loading ~{options.scans:,} scans")
            started = time.perf_counter()
            scans, movements, cases = _load(engine, params)
            note(
                f"compliance: {scans:,} scans, {movements:,} movements of {cases:,} cases "
                f"loaded in {time.perf_counter() - started:.0f} s"
            )
            _vacuum(engine)
            base = [_baseline(engine) for _ in range(options.reps)]
            batch = []
            for _ in range(options.reps):
                with engine.connect() as conn:
                    tx = conn.begin()
                    started = time.perf_counter()
                    report = run_detection(conn, Thresholds(), "bench")
                    batch.append(time.perf_counter() - started)
                    tx.rollback()
                note(f"compliance: batch run {batch[-1]:.1f} s, {report.raised:,} alerts")
            calls, reads, judged = _incremental(engine, scans)
        finally:
            engine.dispose()
    section = f"Compliance ({scans:,} scans, {cases:,} cases; alerts {report.raised:,})"
    per_scan = median(batch) / scans
    return [
        Row(
            section,
            "batch detection, total",
            f"{median(batch):.1f} s",
            " ".join(f"{t:.1f}" for t in batch),
            [
                Baseline(
                    "stream the same scans, no detection",
                    f"{median(base):.1f} s",
                    median(batch) / median(base),
                )
            ],
            [
                Target(
                    "≤ 60 s for 10,000,000 scans (scaled: " + f"{60 * scans / 1e7:.1f} s)",
                    median(batch) <= 60 * scans / 1e7,
                )
            ],
        ),
        Row(section, "batch detection, per scan", f"{per_scan * 1e6:.2f} µs", rate(1 / per_scan)),
        Row(
            section,
            "incremental detection per new scan",
            ms(median(calls)),
            f"p99 {ms(p99(calls))} over {len(calls)}; {judged} judged in full",
            [
                Baseline(
                    "a primary-key select on the same connection",
                    ms(median(reads)),
                    median(calls) / median(reads),
                )
            ],
            [Target("≤ 1 ms", median(calls) <= 0.001)],
        ),
    ]


def _vacuum(engine: Engine) -> None:
    """``VACUUM (ANALYZE)`` every table of the benchmark's schema, as autovacuum leaves a live
    database: planner statistics, and visibility maps that let index-only scans skip the heap
    (a bulk load leaves them unset; until a vacuum, every index-only read of the code index
    also fetched its heap page). Not timed."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        for name in list(tables):
            conn.execute(text(f'VACUUM (ANALYZE) "{name}"'))


def _baseline(engine: Any) -> float:
    with driver_connection(engine) as raw:
        started = time.perf_counter()
        with raw.cursor(name="baseline") as cur:
            cur.itersize = 20_000
            cur.execute(
                "SELECT code_id, id, at, device_hash, lat_centi, lon_centi FROM trace_scans "
                "ORDER BY code_id, at, id"
            )
            for _ in cur:
                pass
        raw.rollback()
        return time.perf_counter() - started


def _incremental(engine: Any, scans: int) -> tuple[list[float], list[float], int]:
    rng = random.Random(3)
    with engine.connect() as conn:
        picked = conn.execute(
            text(
                "SELECT code_id, lat_centi, lon_centi FROM trace_scans WHERE id % :step = 0 "
                "LIMIT :n"
            ),
            {"step": max(1, scans // (INCREMENTAL_CALLS * 2)), "n": INCREMENTAL_CALLS},
        ).all()
    calls: list[float] = []
    reads: list[float] = []
    judged = 0
    th = Thresholds()
    places = runs.Places(gazetteer())
    for code_id, lat, lon in picked:
        with engine.connect() as conn:
            tx = conn.begin()
            conn.execute(
                text(
                    "INSERT INTO trace_scans (code_id, at, device_hash, lat_centi, lon_centi) "
                    "VALUES (:c, now(), :d, :lat, :lon)"
                ),
                {"c": code_id, "d": rng.randbytes(32), "lat": lat, "lon": lon},
            )
            started = time.perf_counter()
            detect_for_scan(conn, code_id, th, "bench")
            calls.append(time.perf_counter() - started)
            judged += screen.may_change_findings(conn, code_id, th, places.of)
            started = time.perf_counter()
            conn.execute(text("SELECT * FROM trace_codes WHERE id = :c"), {"c": code_id}).all()
            reads.append(time.perf_counter() - started)
            # Committed, as the lookup that records a scan commits (its connections keep
            # their prepared statements either way: api/pg_prepared.py).
            tx.commit()
    return calls, reads, judged


# --- loading ------------------------------------------------------------------------------


def _load(engine: Any, params: Params) -> tuple[int, int, int]:
    channel = channel_of(params)
    now = datetime.now(UTC)
    totals = [0, 0, 0]

    def counted(told: Iterator[CaseStory]) -> Iterator[CaseStory]:
        for story in told:
            totals[2] += 1
            totals[1] += len(story.movements)
            totals[0] += sum(len(b.scans) for b in story.bottles)
            yield story

    with driver_connection(engine) as raw:
        with raw.cursor() as cur:
            _copy(cur, channel_rows(channel, now))
            for batch in story_rows(counted(stories(params, channel)), now):
                _copy(cur, batch)
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('trace_scans', 'id'), max(id)) "
                "FROM trace_scans"
            )
        raw.commit()
    return totals[0], totals[1], totals[2]


def _copy(cur: Any, tables: dict[str, list[tuple[Any, ...]]]) -> None:
    # One COPY at a time per connection: rows are buffered and flushed table by table.
    for name, rows in tables.items():
        with cur.copy(f"COPY {name} ({', '.join(COLUMNS[name])}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
