"""Diversion detection at scale on PostgreSQL: batch over every scan, and per new scan.

A generated channel (``api.compliance.detection.synthetic``: 32 regions, dealers, stores,
tourists, returns, diversions and clones) is loaded with COPY into the real tables the
detector reads — parties and regions, case and bottle codes, their custody events and code
index, the transfers' ledger entries, and the scans — and then:

- **batch**: ``run_detection`` over all of it (reading, placing, judging, raising alerts),
  next to a same-run baseline: the same scans streamed from the same database, nothing done
  with them (the floor any batch detector in Python pays);
- **incremental**: a new scan recorded and its case judged (``detect_for_scan``), next to one
  indexed read of that code's scans.

Receipts' extra codes need real orders and shipments, so the generated "scanned in" diversions
are loaded as openings at the foreign store instead (both are strong signals).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, text

from api.compliance.alerts.runs import detect_for_scan, run_detection
from api.compliance.detection.model import MovementKind
from api.compliance.detection.synthetic import CaseStory, Params, channel_of, stories
from api.compliance.detection.thresholds import Thresholds
from bench.postgres import driver_connection, fresh_schema
from bench.report import Baseline, Options, Row, Target, median, ms, note, p99, rate
from ledger.canonical import canonical_json, format_ts

SCANS_PER_CASE = 2.9  # what the generator's defaults give, measured
ZERO = b"\0" * 32
INCREMENTAL_CALLS = 200


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
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
            base = [_baseline(engine) for _ in range(options.reps)]
            batch = []
            for _ in range(options.reps):
                with engine.connect() as conn:
                    tx = conn.begin()
                    started = time.perf_counter()
                    report = run_detection(conn, Thresholds(), "bench")
                    batch.append(time.perf_counter() - started)
                    tx.rollback()
            calls, reads = _incremental(engine, scans)
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
            f"p99 {ms(p99(calls))} over {len(calls)}",
            [
                Baseline(
                    "one indexed read of the code's scans",
                    ms(median(reads)),
                    median(calls) / median(reads),
                )
            ],
            [Target("≤ 1 ms", median(calls) <= 0.001)],
        ),
    ]


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


def _incremental(engine: Any, scans: int) -> tuple[list[float], list[float]]:
    rng = random.Random(3)
    with engine.connect() as conn:
        codes = [
            r[0]
            for r in conn.execute(
                text("SELECT code_id FROM trace_scans WHERE id % :step = 0 LIMIT :n"),
                {"step": max(1, scans // (INCREMENTAL_CALLS * 2)), "n": INCREMENTAL_CALLS},
            )
        ]
    calls: list[float] = []
    reads: list[float] = []
    th = Thresholds()
    for code_id in codes:
        with engine.connect() as conn:
            tx = conn.begin()
            started = time.perf_counter()
            conn.execute(
                text(
                    "INSERT INTO trace_scans (code_id, at, device_hash, lat_centi, lon_centi) "
                    "VALUES (:c, now(), :d, 3057, 10407)"
                ),
                {"c": code_id, "d": rng.randbytes(32)},
            )
            detect_for_scan(conn, code_id, th, "bench")
            calls.append(time.perf_counter() - started)
            tx.rollback()
            started = time.perf_counter()
            conn.execute(
                text("SELECT * FROM trace_scans WHERE code_id = :c ORDER BY at"), {"c": code_id}
            ).all()
            reads.append(time.perf_counter() - started)
    return calls, reads


# --- loading ------------------------------------------------------------------------------


def _load(engine: Any, params: Params) -> tuple[int, int, int]:
    channel = channel_of(params)
    now = datetime.now(UTC)
    with driver_connection(engine) as raw:
        with raw.cursor() as cur:
            with cur.copy(
                "COPY parties (party_id, kind, code, name, region_id, dealer_id, admin_code, "
                "created_at) FROM STDIN"
            ) as copy:
                for kind in ("hq", "region", "dealer", "store", "warehouse"):
                    for p in channel.parties.values():
                        if p.kind == kind:
                            dealer = p.dealer_id if kind in ("dealer", "store") else None
                            copy.write_row(
                                (
                                    p.party_id,
                                    p.kind,
                                    p.party_id,
                                    p.name or p.party_id,
                                    p.region_id,
                                    dealer,
                                    p.admin_code,
                                    now,
                                )
                            )
            with cur.copy("COPY region_areas (admin_code, region_id) FROM STDIN") as copy:
                for code, region in channel.territory.areas.items():
                    copy.write_row((code, region))
            with cur.copy("COPY dealer_regions (dealer_id, region_id) FROM STDIN") as copy:
                for dealer, regions in channel.territory.dealer_regions.items():
                    for region in regions:
                        copy.write_row((dealer, region))
        totals = _copy_cases(raw, stories(params, channel), now)
        with raw.cursor() as cur:
            cur.execute(
                "SELECT setval(pg_get_serial_sequence('trace_scans', 'id'), max(id)) "
                "FROM trace_scans"
            )
        raw.commit()
    return totals


def _ids(story: CaseStory) -> tuple[int, dict[str, int]]:
    """Code ids: the case's is its number times 16, bottle k's follows it."""
    case_id = int(story.case[1:]) * 16
    return case_id, {f"{story.case}-{k}": case_id + 1 + k for k in range(6)}


def _copy_cases(raw: Any, told: Iterator[CaseStory], now: datetime) -> tuple[int, int, int]:
    scans = movements = cases = 0
    seq = 0
    with raw.cursor() as cur:
        # One COPY at a time per connection: rows are buffered and flushed table by table.
        code_rows: list[tuple[Any, ...]] = []
        event_rows: list[tuple[Any, ...]] = []
        index_rows: list[tuple[Any, ...]] = []
        ledger_rows: list[tuple[Any, ...]] = []
        scan_rows: list[tuple[Any, ...]] = []
        for story in told:
            cases += 1
            case_id, bottle_ids = _ids(story)
            opened = any(m.kind is MovementKind.OPENED for m in story.movements)
            code_rows.append(
                (case_id, story.case, story.gtin, "L1", "case", "b", "received", None, 0, now)
            )
            for bottle, bottle_id in bottle_ids.items():
                code_rows.append(
                    (
                        bottle_id,
                        bottle,
                        story.gtin,
                        "L1",
                        "bottle",
                        "b",
                        "received",
                        None if opened else case_id,
                        0,
                        now,
                    )
                )
            packed = f"p{case_id}"
            event_rows.append(
                (packed, "trace.codes.packed", "packed", now, None, case_id, 6, ZERO, b"")
            )
            for k in range(6):
                index_rows.append((case_id + 1 + k, packed, k))
            for m in story.movements:
                movements += 1
                at = datetime.fromtimestamp(m.at, UTC)
                if m.kind in (MovementKind.SHIPPED, MovementKind.RECEIVED):
                    kind = f"transfer.{m.kind.value}"
                    event_rows.append(
                        (m.entry_id, kind, m.kind.value, at, None, None, 1, ZERO, b"")
                    )
                    index_rows.append((case_id, m.entry_id, 0))
                    payload = {"from": m.sender, "to": m.party}
                    body = {
                        "id": m.entry_id,
                        "kind": kind,
                        "payload": payload,
                        "seq": seq,
                        "ts": format_ts(at),
                    }
                    ledger_rows.append(
                        (seq, m.entry_id, kind, at, ZERO, canonical_json(body), ZERO, ZERO)
                    )
                    seq += 1
                else:  # opened, and scanned-in loaded as opened (see the module's docstring)
                    event_rows.append(
                        (
                            m.entry_id,
                            "trace.codes.unpacked",
                            "unpacked",
                            at,
                            m.party,
                            case_id,
                            6,
                            ZERO,
                            b"",
                        )
                    )
            for b in story.bottles:
                for s in b.scans:
                    scans += 1
                    scan_rows.append(
                        (
                            s.scan_id,
                            bottle_ids[b.code],
                            datetime.fromtimestamp(s.at, UTC),
                            s.device,
                            round((s.lat_e6 or 0) / 10_000),
                            round((s.lon_e6 or 0) / 10_000),
                        )
                    )
            if len(scan_rows) >= 200_000:
                _flush(cur, code_rows, event_rows, index_rows, ledger_rows, scan_rows)
        _flush(cur, code_rows, event_rows, index_rows, ledger_rows, scan_rows)
    return scans, movements, cases


def _flush(cur: Any, *tables: list[tuple[Any, ...]]) -> None:
    codes, events, index, ledger, scans = tables
    for sql, rows in (
        (
            "COPY trace_codes (id, serial, gtin, lot, kind, batch_id, state, parent_id, "
            "replacements, updated_at) FROM STDIN",
            codes,
        ),
        (
            "COPY trace_code_events (entry_id, kind, event, at, location, parent_id, count, root, "
            "nodes) FROM STDIN",
            events,
        ),
        ("COPY trace_code_index (code_id, entry_id, position) FROM STDIN", index),
        (
            "COPY ledger_entries (seq, entry_id, kind, ts, body_digest, data, leaf_hash, "
            "chain_hash) FROM STDIN",
            ledger,
        ),
        ("COPY trace_scans (id, code_id, at, device_hash, lat_centi, lon_centi) FROM STDIN", scans),
    ):
        with cur.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        rows.clear()
