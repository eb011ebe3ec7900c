"""Diversion detection at scale on PostgreSQL: batch over every scan, and per new scan.

A generated channel (``api.compliance.detection.synthetic``: 32 regions, dealers, stores,
tourists, returns, diversions and clones) is loaded with COPY into the real tables the
detector reads (``api.compliance.detection.loading``: parties and regions, case and bottle
codes, their custody events and code index, the cases' moves as the write path keeps them
(``trace_case_moves``), the transfers' ledger entries, and the scans),
then vacuumed and analysed (``_vacuum``), then:

- **batch**: ``run_detection`` over all of it — the set-based SQL run (``setwise``), the
  suspects judged in Python, alerts raised with their ledger entries — next to a same-run
  baseline: the same scans streamed from the same database, nothing done with them;
- **incremental**: a consumer scans a bottle again where it was last scanned, with a new
  phone (the common case). Timed as the lookup calls it: the lookup's own reads of the code
  (by serial), of its history with its cases' custody, and its recording of the scan go first
  (traceability's cost, not counted), then the hook it calls (``scan_recorded``: the screen,
  and the whole case judged when the screen says the scan matters) is timed, next to a
  primary-key select on the same connection (the target's figure). Also timed on its own,
  for other bottles: a bare insert, then ``detect_for_scan`` with every page it reads cold.
  Each call commits, as the lookup does.

``--scans 10000000`` is the issue's size (about 3.5 M cases; loading takes a while).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, create_engine, text

from api.compliance.alerts import runs, screen
from api.compliance.alerts.runs import default_helpers, detect_for_scan, run_detection
from api.compliance.detection.loading import COLUMNS, channel_rows, story_rows
from api.compliance.detection.synthetic import CaseStory, Params, channel_of, stories
from api.compliance.detection.thresholds import Thresholds
from api.compliance.geo.gazetteer import gazetteer
from api.trace.codes import repository as codes_repo
from api.trace.codes.service import to_code
from api.trace.resolver import repository as resolver_repo
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
                    report = run_detection(conn, Thresholds(), "bench", helpers=default_helpers())
                    batch.append(time.perf_counter() - started)
                    tx.rollback()
                note(f"compliance: batch run {batch[-1]:.1f} s, {report.raised:,} alerts")
            inc = _incremental(engine, scans)
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
        _per_scan_row(
            section,
            "as the lookup calls it",
            inc.calls,
            inc.reads,
            f"; {inc.judged} judged in full",
            [Target("≤ 1 ms", median(inc.calls) <= 0.001)],
        ),
        _per_scan_row(section, "on its own (its pages cold)", inc.cold, inc.cold_reads),
    ]


def _per_scan_row(
    section: str,
    how: str,
    calls: list[float],
    reads: list[float],
    more: str = "",
    targets: list[Target] | None = None,
) -> Row:
    """A row of a new scan's detection, beside a primary-key select on the same connection."""
    return Row(
        section,
        f"incremental detection per new scan, {how}",
        ms(median(calls)),
        f"p99 {ms(p99(calls))} over {len(calls)}{more}",
        [
            Baseline(
                "a primary-key select on the same connection",
                ms(median(reads)),
                median(calls) / median(reads),
            )
        ],
        targets or [],
    )


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


class Incremental(NamedTuple):
    """A new scan's detection: as the lookup calls it (``calls``, its primary-key select
    ``reads``) and on its own, every page cold (``cold``, ``cold_reads``)."""

    calls: list[float]
    reads: list[float]
    judged: int
    cold: list[float]
    cold_reads: list[float]


def _incremental(engine: Any, scans: int) -> Incremental:
    rng = random.Random(3)
    with engine.connect() as conn:
        picked = conn.execute(
            text(
                "SELECT s.code_id, c.serial, s.province, s.city, s.lat_centi, s.lon_centi "
                "FROM trace_scans s JOIN trace_codes c ON c.id = s.code_id "
                "WHERE s.id % :step = 0 LIMIT :n"
            ),
            {"step": max(1, scans // (INCREMENTAL_CALLS * 4)), "n": 2 * INCREMENTAL_CALLS},
        ).all()
    th = Thresholds()
    places = runs.Places(gazetteer())
    # Every other sampled bottle each way: no code is met twice.
    calls: list[float] = []
    reads: list[float] = []
    judged = 0
    for code_id, serial, province, city, lat, lon in picked[0::2]:
        with engine.connect() as conn:
            tx = conn.begin()
            # What the lookup reads and writes before it calls the hook (traceability's cost,
            # not timed): the code by its serial, the code's history with its cases' custody,
            # and the scan recorded with the code's earlier scans.
            row = codes_repo.by_serial(conn, serial)
            if row is None:
                raise RuntimeError(f"sampled code {serial} is not stored")
            codes_repo.events_with_cases(conn, code_id)
            scan = {
                "code_id": code_id,
                "at": datetime.now(UTC),
                "device_hash": rng.randbytes(32),
                "province": province,
                "city": city,
                "lat_centi": lat,
                "lon_centi": lon,
                "case_id": to_code(row).case_id,
            }
            recorded = resolver_repo.record_scan(conn, scan)
            every = recorded.recent if recorded.count == len(recorded.recent) else None
            started = time.perf_counter()
            runs.scan_recorded(conn, code_id, th, every)
            calls.append(time.perf_counter() - started)
            judged += screen.may_change_findings(conn, code_id, th, places.of)
            reads.append(_pk_select(conn, code_id))
            # Committed, as the lookup that records a scan commits (its connections keep
            # their prepared statements either way: api/pg_prepared.py).
            tx.commit()
    cold: list[float] = []
    cold_reads: list[float] = []
    for code_id, _, _, _, lat, lon in picked[1::2]:
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
            cold.append(time.perf_counter() - started)
            cold_reads.append(_pk_select(conn, code_id))
            tx.commit()
    return Incremental(calls, reads, judged, cold, cold_reads)


def _pk_select(conn: Any, code_id: int) -> float:
    started = time.perf_counter()
    conn.execute(text("SELECT * FROM trace_codes WHERE id = :c"), {"c": code_id}).all()
    return time.perf_counter() - started


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
