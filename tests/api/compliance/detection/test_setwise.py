"""The set-based run (SQL in the database) finds exactly what the pure detector finds.

A generated channel with known diversions, tourists, returns and clones is loaded into the
real tables; the pure detector fed from them (``runs.detect``) and the set-based run
(``setwise.detect_all``) must agree finding for finding, signal for signal, on SQLite and
PostgreSQL, and store the same allocations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, select, text

import api.app  # noqa: F401  (every table's model, for the metadata)
from api.compliance.alerts import setwise
from api.compliance.alerts.dialect import Dialect
from api.compliance.alerts.models import CaseAllocation
from api.compliance.alerts.runs import Places, detect, run_detection
from api.compliance.detection.detector import Detector, Finding
from api.compliance.detection.loading import COLUMNS, channel_rows, story_rows
from api.compliance.detection.model import Movement, MovementKind, ScanPoint
from api.compliance.detection.synthetic import (
    BottleScans,
    CaseStory,
    Channel,
    Params,
    channel_of,
    stories,
)
from api.compliance.detection.thresholds import Thresholds
from api.compliance.geo.gazetteer import gazetteer
from api.db import Database
from api.models import Base

PARAMS = Params(cases_per_dealer=8, seed=11)


@pytest.fixture
def told(db: Database) -> Iterator[list[CaseStory]]:
    channel = channel_of(PARAMS)
    cases = list(stories(PARAMS, channel))
    now = datetime.now(UTC)
    with db.writer.begin() as conn:
        _insert(conn, channel_rows(channel, now))
        for batch in story_rows(cases, now):
            _insert(conn, batch)
    yield cases


def _insert(conn: Connection, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    for name, values in rows.items():
        if values:
            table = Base.metadata.tables[name]
            conn.execute(table.insert(), [dict(zip(COLUMNS[name], v, strict=True)) for v in values])


def _findings(detector: Detector) -> list[tuple[Any, ...]]:
    def one(f: Finding) -> tuple[Any, ...]:
        a = f.allocation
        return (
            f.key,
            f.strength,
            f.gtin,
            f.score,
            f.place,
            (a.case, a.dealer_id, a.at, a.entry_id, a.gtin) if a else None,
            f.signals,
        )

    return sorted(one(f) for f in detector.findings())


def test_setwise_run_finds_what_the_pure_detector_finds(
    db: Database, told: list[CaseStory]
) -> None:
    th = Thresholds()
    with db.writer.begin() as conn:
        pure = detect(conn, th)
        sql = setwise.detect_all(conn, th, Places(gazetteer()).of)
        setwise.store_allocations(conn)
        stored = {
            (r.case_id, r.entry_id, r.dealer_id, r.month)
            for r in conn.execute(select(CaseAllocation.__table__))
        }
        spans = _stored_spans(conn)
        setwise.drop_tables(conn)
    expected = _findings(pure)
    kinds = Counter(f[1] for f in expected)
    # The channel has all three kinds, so agreeing is not agreeing on nothing.
    assert kinds["strong"] >= 10 and kinds["weak"] >= 2 and kinds["clone"] >= 3, kinds
    assert _findings(sql) == expected
    assert sql.signal_counts() == pure.signal_counts()
    assert (sql.scans, sql.movements) == (pure.scans, pure.movements)
    assert sql.scans == sum(len(b.scans) for s in told for b in s.bottles)
    # Every allocation span, with when it ended (another dealer's allocation, or a return).
    assert spans == {
        (int(case), s.allocation.entry_id, s.allocation.dealer_id, s.allocation.at, s.until)
        for case, timeline in pure.timelines.items()
        for s in timeline
    }
    assert {(c, e, d) for c, e, d, _ in stored} == {(c, e, d) for c, e, d, *_ in spans}
    returned = {s.case for s in told if sum(m.party == "wh-hq" for m in s.movements) == 2}
    assert returned, "the channel must have returns, which end an allocation"


def test_batch_runs_are_idempotent(db: Database, told: list[CaseStory]) -> None:
    with db.writer.begin() as conn:
        first = run_detection(conn, Thresholds(), "test")
    with db.writer.begin() as conn:
        again = run_detection(conn, Thresholds(), "test")
    assert first.raised > 10
    assert (again.raised, again.updated) == (0, 0)
    assert again.signals == first.signals


def test_movements_in_the_second_of_an_allocation_or_return_follow_the_detectors_order(
    db: Database,
) -> None:
    """A span starts at its allocation and ends at a return in the detector's order of
    movements (time, kind, entry id), not at the second: movements in that same second fall
    before or after it as the pure detector sorts them."""
    channel = channel_of(PARAMS)
    dealer, hq = "dl-11-0", "wh-hq"
    foreign = sorted(
        p.party_id
        for p in channel.parties.values()
        if p.kind == "store"
        and p.admin_code is not None
        and not channel.territory.authorizes(dealer, p.admin_code)
    )[:3]
    t, t2 = 1_786_000_000, 1_787_000_000

    def move(at: int, kind: MovementKind, party: str, entry: str, sender: str) -> Movement:
        return Movement("C900000001", "06901234567908", at, kind, party, entry, sender)

    story = CaseStory(
        "C900000001",
        "06901234567908",
        dealer,
        (
            # Same second and kind as the allocation, a smaller entry id: before it, no span.
            move(t, MovementKind.SHIPPED, foreign[0], "tie-a", dealer),
            move(t, MovementKind.SHIPPED, dealer, "tie-b", hq),  # the allocation
            move(t, MovementKind.RECEIVED, foreign[1], "tie-c", dealer),  # after it: a signal
            move(t2, MovementKind.SHIPPED, hq, "tie-l", dealer),
            move(t2, MovementKind.RECEIVED, hq, "tie-m", dealer),  # the return
            move(t2, MovementKind.SHIPPED, foreign[2], "tie-z", dealer),  # kind 0: before it
            move(t2, MovementKind.RECEIVED, foreign[0], "tie-n", dealer),  # after it: none
        ),
        (),
        "transfer",
    )
    pure, sql = _judged_both_ways(db, channel, story)
    (finding,) = pure.findings()
    assert {e for s in finding.signals for e in s.entry_ids} == {"tie-c", "tie-z"}
    assert _findings(sql) == _findings(pure)


def test_scans_in_the_second_a_span_starts_count_and_in_the_second_it_ends_do_not(
    db: Database,
) -> None:
    """A span holds a scan from its allocation's second up to, not including, the second of
    the movement that ends it, as the pure detector places scans."""
    channel = channel_of(PARAMS)
    dealer, hq = "dl-11-0", "wh-hq"
    region = next(
        r
        for r in sorted(channel.region_counties)
        if r not in channel.territory.dealer_regions[dealer]
    )
    county = channel.region_counties[region][0]
    t, t2 = 1_786_000_000, 1_787_000_000
    case = "C900000002"

    def move(at: int, kind: MovementKind, party: str, entry: str, sender: str) -> Movement:
        return Movement(case, "06901234567908", at, kind, party, entry, sender)

    def scan(n: int, at: int) -> ScanPoint:
        place = gazetteer().place_of(county.lat_e6, county.lon_e6)
        assert place is not None
        return ScanPoint(900 + n, at, bytes([n]) * 32, place.county, county.lat_e6, county.lon_e6)

    story = CaseStory(
        case,
        "06901234567908",
        dealer,
        (
            move(t, MovementKind.SHIPPED, dealer, "edge-a", hq),  # the allocation
            move(t2, MovementKind.RECEIVED, hq, "edge-r", dealer),  # the return
        ),
        tuple(
            # Bottles 0-2 scanned in the allocation's second; 3-5 in the return's.
            BottleScans(f"{case}-{k}", case, (scan(k, t if k < 3 else t2),))
            for k in range(6)
        ),
        "off_books",
    )
    pure, sql = _judged_both_ways(db, channel, story)
    (finding,) = pure.findings()
    (signal,) = finding.signals
    assert sorted(o.scan_id for o in signal.observations) == [900, 901, 902]
    assert _findings(sql) == _findings(pure)


def _judged_both_ways(
    db: Database, channel: Channel, story: CaseStory
) -> tuple[Detector, Detector]:
    """One case loaded with its channel, judged by the pure detector and by the set-based run."""
    with db.writer.begin() as conn:
        _insert(conn, channel_rows(channel, datetime.now(UTC)))
        for batch in story_rows([story], datetime.now(UTC)):
            _insert(conn, batch)
    th = Thresholds()
    with db.writer.begin() as conn:
        pure = detect(conn, th)
        sql = setwise.detect_all(conn, th, Places(gazetteer()).of)
        setwise.drop_tables(conn)
    return pure, sql


def test_spans_read_back_in_chunks_keep_their_own_bounds(
    db: Database, told: list[CaseStory], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(setwise, "SPANS_READ_AT_ONCE", 3)
    with db.writer.begin() as conn:
        sql = setwise.detect_all(conn, Thresholds(), Places(gazetteer()).of)
        stored = _stored_spans(conn)
        read = Detector(sql.parties, sql.territory, sql.thresholds)
        setwise._load_spans(conn, read, sorted({case for case, *_ in stored}))
        setwise.drop_tables(conn)
    assert {until for *_, until in stored} - {None}, "some spans must end"
    assert {
        (int(case), s.allocation.entry_id, s.allocation.dealer_id, s.allocation.at, s.until)
        for case, timeline in read.timelines.items()
        for s in timeline
    } == stored


def _stored_spans(conn: Connection) -> set[tuple[Any, ...]]:
    """The run's ``cd_spans`` as (case, entry, dealer, start, end), times in epoch seconds."""
    seconds = Dialect(conn).seconds
    query = (
        f"SELECT case_id, entry_id, dealer_id, {seconds('start_at')}, {seconds('until')} "
        "FROM cd_spans"
    )
    return {tuple(row) for row in conn.execute(text(query))}
