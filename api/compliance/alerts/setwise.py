"""Batch detection as set-based SQL: the database judges every scan, Python the few suspects.

The pure detector (``api.compliance.detection``) states the rules; fed every movement and
every scan it costs ~170 µs a scan in Python. Here the same rules run as a handful of
statements inside the database (window functions; PostgreSQL, or SQLite ≥ 3.25 for the
tests) over the run's own working tables (``Dialect.work_table``), and only what can become a
finding comes back to Python:

1. ``cd_parties`` / ``cd_places``: every party and every distinct scan position with its
   GB/T 2260 place and region, placed in Python (the gazetteer; a few thousand rows).
2. The movements (``_moves``, a subquery read in place): every ledger-recorded movement of a
   case (``trace_case_moves``, kept as transfers and openings are written: no payload is
   parsed, no event joined to the code index), and every case scanned in that no shipment
   carried, each marked as an allocation (HQ → a dealer's party), a return (HQ-side
   received) or neither.
3. ``cd_spans``: allocation spans (a dealer's custody from its first allocation until
   another dealer's or a return), cut from the marked movements alone in the detector's
   order (time, kind, entry id) — stored as ``compliance_allocations`` by
   ``INSERT … SELECT``.
4. Strong: unmarked movements, each joined to the span that holds it, at a party outside
   the regions of that span's dealer.
5. Weak: each code's first scan per city outside the regions of its case's dealer then (the
   case the bottle came in when it was scanned, recorded with the scan).
6. Clones: codes that *could* be clones (more scans than ``max_devices``, or scans spread
   wider than ``min_travel_km``), whose scans Python judges with the detector's own rule —
   on PostgreSQL beside steps 1–5, on a second connection that imports the run's snapshot
   (``beside``): the clone rule reads only the scans.

The rows come back into a :class:`Detector` (its ``add_strong``, ``add_foreign_scan`` and
``add_clones``), so findings, scores and evidence are the pure detector's, and a test
asserts that on the ground-truth generator both paths agree signal for signal.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import BigInteger, Connection, column, literal_column, select, table, text
from sqlalchemy.sql.expression import ColumnClause

from api.channel.admin_codes import city_of
from api.compliance.alerts import sources
from api.compliance.alerts.beside import beside
from api.compliance.alerts.dialect import Dialect
from api.compliance.alerts.writing import Work, writing
from api.compliance.detection.detector import Detector, Span
from api.compliance.detection.model import (
    Allocation,
    Movement,
    MovementKind,
    PartyInfo,
    ScanPoint,
    Territory,
)
from api.compliance.detection.signals import Signal, clone_signals
from api.compliance.detection.thresholds import Thresholds
from api.db import chunks

KM_PER_CENTI_DEGREE = 6_371.0088 * math.pi / 180 / 100
"""An arc of a hundredth of a degree on the channel's Earth (``api.channel.geo``)."""
NOWHERE = -1_000_000
"""Stands for a missing coordinate in join keys (coordinates are within ±18,000)."""
_KINDS = {
    0: MovementKind.SHIPPED,
    1: MovementKind.RECEIVED,
    2: MovementKind.SCANNED_IN,
    3: MovementKind.OPENED,
}
"""The ``ord`` of a movement in SQL: the detector's order of kinds at the same second."""
WORK_TABLES: tuple[str, ...] = ("cd_weak", "cd_spans", "cd_places", "cd_parties")
SPANS_READ_AT_ONCE = 2000
"""Cases whose spans :func:`_load_spans` reads in one statement."""
SPANS_WORK_MEM = "1GB"
"""PostgreSQL's ``work_mem`` for cutting the spans (one sort; the run's own is 256 MB)."""
_SETTINGS = ("work_mem", "enable_nestloop", "parallel_setup_cost", "parallel_tuple_cost")
"""What :func:`detect_all` sets for its transaction, reset when its tables are dropped."""
_spans = table(
    "cd_spans",
    column("case_id", BigInteger),
    column("n"),
    column("gtin"),
    column("dealer_id"),
    column("entry_id"),
)


def detect_all(
    conn: Connection,
    thresholds: Thresholds,
    place_of: Callable[[sources.ScanRow], str | None],
    meanwhile: Work | None = None,
) -> Detector:
    """Judge every case and scan; the returned detector holds only what bears on findings
    (its ``timelines`` hold the spans of the cases of clones and of findings only: all spans
    are stored by :func:`store_allocations`). ``meanwhile``: the caller's statements over the
    working tables, run on the connection while Python judges the rows read (``writing``)."""
    sql = Dialect(conn)
    _drop(conn)
    if sql.pg:
        # Every statement here reads whole tables: hash joins and sorts in memory, not a
        # million index probes planned from a working table's missing statistics.
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
        conn.execute(text("SET LOCAL enable_nestloop = off"))
        # Reading every scan in parallel workers took a third off the foreign-scan
        # statement, but the default cost of passing a million rows up from the workers
        # kept the planner from choosing it.
        conn.execute(text("SET LOCAL parallel_setup_cost = 0"))
        conn.execute(text("SET LOCAL parallel_tuple_cost = 0.001"))
    parties = sources.load_parties(conn)
    territory = sources.load_territory(conn, parties)
    detector = Detector(parties, territory, thresholds)
    # The clone rule reads only the scans: on PostgreSQL it runs beside the statements below
    # (``beside``), on a connection that sees what this one sees; and so does the count of
    # movements, which reads only the movements.
    with beside(conn, lambda other: _beside_work(other, thresholds, place_of)) as done:
        _party_table(conn, sql, parties, territory)
        detector.scans = _place_table(conn, sql, territory, place_of)
        _span_table(conn, sql)
        _analyze(conn, sql, "cd_spans")
        strong = _strong_rows(conn, sql)
        weak = _weak_rows(conn, sql)
    detector.movements, cloned = done.result()
    # A clone's dealer is its case's when first scanned; findings read the spans of the
    # cases they are raised for (most cases with a foreign scan, a tourist's, raise none).
    loaded = {case_id for _, case_id, _, _ in cloned if case_id is not None}
    _load_spans(conn, detector, sorted(loaded))
    # Pure Python from here to the next read: the caller's statements run meanwhile.
    with writing(conn, meanwhile):
        clones: set[int] = set()
        for code_id, case_id, first_at, signals in cloned:
            case = str(case_id) if case_id is not None else None
            detector.add_clones(str(code_id), case, first_at, signals)
            clones.add(code_id)
        for dealer, case_id, kind, at, entry_id, party in strong:
            move = Movement(str(case_id), "", at, _KINDS[kind], party, entry_id)
            detector.add_strong(dealer, str(case_id), move, parties[party])
        for dealer, case_id, city, code_id, scan_id, at, place, device in weak:
            if code_id not in clones:
                held = bytes(device) if device is not None else None
                point = ScanPoint(scan_id, at, held, place)
                detector.add_foreign_scan(dealer, str(case_id), city, str(code_id), point)
    _load_spans(conn, detector, sorted({int(c) for c in detector.diverted_cases()} - loaded))
    return detector


def store_allocations(conn: Connection) -> None:
    """Replace ``compliance_allocations`` with the spans :func:`detect_all` cut (a full run
    passes it as ``meanwhile``)."""
    sql = Dialect(conn)
    conn.execute(text("DELETE FROM compliance_allocations"))
    conn.execute(
        text(
            "INSERT INTO compliance_allocations "
            "(case_id, entry_id, dealer_id, region_id, gtin, allocated_at, month) "
            f"SELECT sp.case_id, sp.entry_id, sp.dealer_id, p.region_id, sp.gtin, "
            f"{sql.moment('sp.start_at')}, {sql.shanghai_month('sp.start_at')} "
            "FROM cd_spans sp LEFT JOIN cd_parties p ON p.party_id = sp.dealer_id"
        )
    )


def drop_tables(conn: Connection) -> None:
    """The working tables of a run (also dropped at the start of the next)."""
    _drop(conn)


def reset_settings(conn: Connection) -> None:
    """Give back the planner settings :func:`detect_all` set for its whole-table statements
    (the tables stay until :func:`drop_tables`)."""
    if conn.dialect.name == "postgresql":
        for setting in _SETTINGS:
            conn.execute(text(f"RESET {setting}"))


def _drop(conn: Connection) -> None:
    reset_settings(conn)
    for name in WORK_TABLES:
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _analyze(conn: Connection, sql: Dialect, *tables: str) -> None:
    # Autovacuum never sees the working tables (they are never committed): without
    # statistics PostgreSQL plans the joins over them as if they held a thousand rows.
    if sql.pg:
        for table in tables:
            conn.execute(text(f"ANALYZE {table}"))


def _party_table(
    conn: Connection, sql: Dialect, parties: dict[str, PartyInfo], territory: Territory
) -> None:
    conn.execute(
        text(
            f"CREATE {sql.work_table} cd_parties (party_id VARCHAR(40) PRIMARY KEY, "
            "dealer_id VARCHAR(40), hq_side INTEGER NOT NULL, admin_code VARCHAR(6), "
            "region_id VARCHAR(40))"
        )
    )
    rows = [
        {
            "party_id": p.party_id,
            "dealer_id": p.dealer_id,
            "hq_side": int(p.hq_side),
            "admin_code": p.admin_code,
            "region_id": territory.region_of(p.admin_code) if p.admin_code else None,
        }
        for p in parties.values()
    ]
    _insert(conn, "cd_parties", rows)


def _place_table(
    conn: Connection,
    sql: Dialect,
    territory: Territory,
    place_of: Callable[[sources.ScanRow], str | None],
) -> int:
    """Every distinct recorded position, placed; returns how many scans there are."""
    conn.execute(
        text(
            f"CREATE {sql.work_table} cd_places (lat_k INTEGER NOT NULL, lon_k INTEGER NOT NULL, "
            "prov_k VARCHAR(20) NOT NULL, city_k VARCHAR(20) NOT NULL, place VARCHAR(6) NOT NULL, "
            "city_code VARCHAR(6) NOT NULL, region_id VARCHAR(40), "
            "PRIMARY KEY (lat_k, lon_k, prov_k, city_k))"
        )
    )
    positions = conn.execute(
        text(
            "SELECT lat_centi, lon_centi, province, city, COUNT(*) FROM trace_scans "
            "GROUP BY lat_centi, lon_centi, province, city"
        )
    ).all()
    rows = []
    for lat, lon, province, city, _ in positions:
        place = place_of(sources.ScanRow(0, None, 0, 0, None, lat, lon, province, city))
        if place is None:
            continue
        rows.append(
            {
                "lat_k": NOWHERE if lat is None else lat,
                "lon_k": NOWHERE if lon is None else lon,
                "prov_k": province or "",
                "city_k": city or "",
                "place": place,
                "city_code": city_of(place),
                "region_id": territory.region_of(place),
            }
        )
    _insert(conn, "cd_places", rows)
    return sum(int(p[4]) for p in positions)


def _sources(sql: Dialect) -> list[str]:
    """Where movements come from, each as a statement with the same columns (``case_id``,
    ``gtin``, ``at`` (:meth:`Dialect.second`), ``ord``, ``entry_id``, ``party``, ``sender``)."""
    first = sql.first_of("sh.received_entries")
    return [
        # 1. Transfers and openings, as the write path keeps them (``trace_case_moves``).
        f"SELECT case_id, gtin, {sql.second('at')} AS at, "
        "CASE event WHEN 'shipped' THEN 0 WHEN 'received' THEN 1 ELSE 3 END AS ord, "
        "entry_id, party, sender FROM trace_case_moves "
        "WHERE entry_id IS NOT NULL AND party IS NOT NULL",
        # 2. Cases scanned in on receipt that no shipment to the receiver carried.
        f"SELECT ss.code_id AS case_id, ss.gtin, {sql.second('ss.scanned_at')} AS at, 2 AS ord, "
        f"{first} AS entry_id, sh.to_party_id AS party, NULL AS sender "
        "FROM shipment_scans ss JOIN shipments sh ON sh.shipment_id = ss.shipment_id "
        f"WHERE ss.phase = 'extra' AND {first} IS NOT NULL AND sh.to_party_id IS NOT NULL",
    ]


def _moves(sql: Dialect) -> str:
    """Every movement, its party placed and its allocation marker: a subquery the spans and
    the strong-signal statement each read in place. Written out as a table, its 16M rows at
    10M scans took longer to store than both statements take to read them; and each source
    is placed on its own, so that parallel workers read and place it (placed after the
    ``UNION``, every row was joined by the leader alone)."""
    # A marker: the dealer a movement allots the case to, or '' for a return to HQ. No
    # window runs over all movements: only the markers (under half of them) are ordered, to
    # cut spans; every other movement finds its span by a range join (``_strong_rows``).
    # A movement at an unknown party counts, but neither allots nor signals.
    return " UNION ALL ".join(
        "SELECT m.case_id, m.gtin, m.at, m.ord, m.entry_id, m.party, p.admin_code, "
        "p.region_id AS party_region, p.hq_side, "
        "CASE WHEN m.ord IN (0, 1) AND s.hq_side = 1 AND p.dealer_id IS NOT NULL "
        "THEN p.dealer_id WHEN p.hq_side = 1 AND m.ord = 1 THEN '' END AS marker "
        f"FROM ({source}) m LEFT JOIN cd_parties p ON p.party_id = m.party "
        "LEFT JOIN cd_parties s ON s.party_id = m.sender"
        for source in _sources(sql)
    )


def _movements(conn: Connection, sql: Dialect) -> int:
    """How many movements there are."""
    counts = " + ".join(f"(SELECT COUNT(*) FROM ({source}) c)" for source in _sources(sql))
    return int(conn.execute(text(f"SELECT {counts}")).scalar_one())


def _span_table(conn: Connection, sql: Dialect) -> None:
    """``cd_spans``, cut from the movements."""
    # Spans start at an allocation to another dealer than the current one (or to any after
    # a return) and end at the next start or at a return that ended a span: ``until`` and
    # its kind and entry are that row's, so a movement in the same second is placed before
    # or after it as the detector orders movements (time, kind, entry id).
    order = f"ORDER BY at, ord, {sql.binary('entry_id')}"
    # The markers' sort (7.1M rows at 10M scans, 0.9 GB) in memory: spilled to disk at the
    # run's 256 MB, it took 1.7 s more.
    with _planner(conn, sql, work_mem=SPANS_WORK_MEM):
        conn.execute(
            text(
                f"CREATE {sql.work_table} cd_spans AS "
                "SELECT case_id, n, gtin, at AS start_at, ord AS start_ord, entry_id, "
                "marker AS dealer_id, until, until_ord, until_entry, "
                # The same bounds as times, for the scans: comparing each scan's own timestamp
                # saves working out its epoch seconds (a numeric) for every one of them.
                f"{sql.moment('at')} AS start_ts, {sql.moment('until')} AS until_ts "
                "FROM (SELECT b.*, LEAD(b.at) OVER w AS until, LEAD(b.ord) OVER w AS until_ord, "
                "LEAD(b.entry_id) OVER w AS until_entry "
                "FROM (SELECT case_id, gtin, at, ord, entry_id, marker, "
                f"ROW_NUMBER() OVER (PARTITION BY case_id {order}) AS n, "
                f"LAG(marker) OVER (PARTITION BY case_id {order}) AS prev "
                f"FROM ({_moves(sql)}) m WHERE marker IS NOT NULL) b "
                "WHERE (b.marker <> '' AND (b.prev IS NULL OR b.prev <> b.marker)) "
                "OR (b.marker = '' AND b.prev IS NOT NULL AND b.prev <> '') "
                "WINDOW w AS (PARTITION BY b.case_id ORDER BY b.n)) s "
                "WHERE marker <> ''"
            )
        )
    conn.execute(text("CREATE INDEX ix_cd_spans_case ON cd_spans (case_id, start_at)"))


def _strong_rows(conn: Connection, sql: Dialect) -> list[Any]:
    """Movements that allot nothing, at a party outside the regions of the dealer whose span
    holds them (after its start, before its end, in the detector's order of movements)."""
    move = ("m.at", "m.ord", sql.binary("m.entry_id"))
    start = ("sp.start_at", "sp.start_ord", sql.binary("sp.entry_id"))
    end = ("sp.until", "sp.until_ord", sql.binary("sp.until_entry"))
    return list(
        conn.execute(
            text(
                f"SELECT sp.dealer_id, m.case_id, m.ord, {sql.seconds('m.at')}, m.entry_id, "
                "m.party "
                f"FROM ({_moves(sql)}) m JOIN cd_spans sp ON sp.case_id = m.case_id "
                f"AND sp.start_at <= m.at AND {_before(start, move)} "
                f"AND (sp.until IS NULL OR (m.at <= sp.until AND {_before(move, end)})) "
                "WHERE m.marker IS NULL AND m.hq_side = 0 AND m.admin_code IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM dealer_regions dr "
                "WHERE dr.dealer_id = sp.dealer_id AND dr.region_id = m.party_region) "
                f"ORDER BY m.case_id, m.at, m.ord, {sql.binary('m.entry_id')}"
            )
        ).all()
    )


def _before(left: tuple[str, str, str], right: tuple[str, str, str]) -> str:
    """``left < right`` compared as tuples, spelled out (no row values needed)."""
    (a, b, c), (x, y, z) = left, right
    return f"({a} < {x} OR ({a} = {x} AND ({b} < {y} OR ({b} = {y} AND {c} < {z}))))"


def _weak_rows(conn: Connection, sql: Dialect) -> list[Any]:
    """Each code's first scan per city outside its case's dealer's regions, in the order
    the detector reads scans (code, then time)."""
    _analyze(conn, sql, "cd_places")
    conn.execute(
        text(
            f"CREATE {sql.work_table} cd_weak AS "
            "SELECT dealer_id, case_id, city_code, code_id, scan_id, "
            # Epoch seconds for the few rows kept, not for every scan joined.
            f"{sql.epoch('at_ts')} AS at, at_ts, place, device "
            "FROM (SELECT sp.dealer_id, x.*, ROW_NUMBER() OVER ("
            "PARTITION BY x.code_id, x.city_code ORDER BY x.at_ts, x.scan_id) AS k FROM ("
            "SELECT s.id AS scan_id, s.code_id, s.at AS at_ts, "
            "s.device_hash AS device, pl.place, pl.city_code, pl.region_id, s.case_id "
            "FROM trace_scans s "
            # An outer join, filtered after: an inner join on four computed keys was
            # estimated at one row for a million, and planned as such.
            f"LEFT JOIN cd_places pl ON pl.lat_k = COALESCE(s.lat_centi, {NOWHERE}) "
            f"AND pl.lon_k = COALESCE(s.lon_centi, {NOWHERE}) "
            "AND pl.prov_k = COALESCE(s.province, '') AND pl.city_k = COALESCE(s.city, '')) x "
            "JOIN cd_spans sp ON sp.case_id = x.case_id AND sp.start_ts <= x.at_ts "
            "AND (sp.until_ts IS NULL OR x.at_ts < sp.until_ts) "
            "WHERE COALESCE(x.place, '') <> '' AND NOT EXISTS (SELECT 1 FROM dealer_regions dr "
            "WHERE dr.dealer_id = sp.dealer_id AND dr.region_id = x.region_id)) y "
            "WHERE k = 1"
        )
    )
    return list(
        conn.execute(
            text(
                "SELECT dealer_id, case_id, city_code, code_id, scan_id, at, place, device "
                "FROM cd_weak ORDER BY code_id, at_ts, scan_id"
            )
        ).all()
    )


def _clone_suspects(conn: Connection, sql: Dialect, th: Thresholds) -> list[int]:
    """Codes the clone rule might fire on: more scans than devices allowed, or scans spread
    over more than ``min_travel_km`` (a bound: the great-circle distance between two points
    is at most the arc along the meridian plus the arc along the parallel, each at most
    ``KM_PER_CENTI_DEGREE`` per hundredth of a degree)."""
    # Grouped in the (code, time) index's order: hashing every code (a 200 MB table at 1M
    # scans) took twice as long.
    with _planner(conn, sql, enable_hashagg="off"):
        rows = conn.execute(
            text(
                "SELECT code_id FROM trace_scans GROUP BY code_id HAVING COUNT(*) > :devices "
                "OR (COUNT(lat_centi) > 1 AND COUNT(lon_centi) > 1 AND "
                "(MAX(lat_centi) - MIN(lat_centi) + MAX(lon_centi) - MIN(lon_centi)) * :km "
                ">= :travel) ORDER BY code_id"
            ),
            {
                "devices": th.max_devices,
                "km": KM_PER_CENTI_DEGREE * 1.001,
                "travel": th.min_travel_km,
            },
        )
        return [int(r[0]) for r in rows]


def _suspect_scans(conn: Connection, code_ids: list[int]) -> list[sources.ScanRow]:
    """The scans of the clone suspects (a few thousand codes), by the ``(code_id, at)``
    index, each with the case it was made in."""
    if not code_ids:
        return []
    return list(sources.scan_rows(conn, code_ids))


def _load_spans(conn: Connection, detector: Detector, case_ids: Sequence[int]) -> None:
    sql = Dialect(conn)
    starts: ColumnClause[int] = literal_column(sql.seconds("start_at"))
    ends: ColumnClause[int] = literal_column(sql.seconds("until"))
    # A few thousand cases at a time, each found by the index: in parallel workers, as the
    # run's settings would plan it, every chunk read all the spans (0.13 s a chunk at 1M).
    with _planner(conn, sql, max_parallel_workers_per_gather="0"):
        for chunk in chunks(case_ids, SPANS_READ_AT_ONCE):
            rows = conn.execute(
                select(
                    _spans.c.case_id,
                    _spans.c.gtin,
                    _spans.c.dealer_id,
                    starts,
                    _spans.c.entry_id,
                    ends,
                )
                .where(sources.among(conn, _spans.c.case_id, chunk))
                .order_by(_spans.c.case_id, _spans.c.n)
            )
            for case_id, gtin, dealer, start, entry_id, until in rows:
                case = str(case_id)
                span = Span(Allocation(case, gtin, dealer, int(start), entry_id))
                span.until = int(until) if until is not None else None
                detector.timelines.setdefault(case, []).append(span)


@contextmanager
def _planner(conn: Connection, sql: Dialect, **settings: str) -> Iterator[None]:
    """PostgreSQL's planner ``settings`` for the statements of the block, then the run's own
    again (elsewhere nothing)."""
    if not sql.pg:
        yield
        return
    before = {
        name: conn.execute(text("SELECT current_setting(:name)"), {"name": name}).scalar_one()
        for name in settings
    }
    for name, value in settings.items():
        conn.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})
    yield
    for name, value in before.items():
        conn.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})


Cloned = list[tuple[int, int | None, int, list[Signal]]]
"""Cloned codes: each with its case, its first scan's time and its clone signals."""


def _beside_work(
    conn: Connection, th: Thresholds, place_of: Callable[[sources.ScanRow], str | None]
) -> tuple[int, Cloned]:
    """What a run reads beside its statements: how many movements, and the clones."""
    sql = Dialect(conn)
    return _movements(conn, sql), _clones(conn, sql, th, place_of)


def _clones(
    conn: Connection,
    sql: Dialect,
    th: Thresholds,
    place_of: Callable[[sources.ScanRow], str | None],
) -> Cloned:
    """The detector's clone rule over the scans of the codes that could be clones."""
    rows = _suspect_scans(conn, _clone_suspects(conn, sql, th))
    cloned: Cloned = []
    for code_id, case_id, points in sources.points_by_code(rows, place_of):
        signals = clone_signals(str(code_id), points, th)
        if signals:
            cloned.append((code_id, case_id, points[0].at, signals))
    return cloned


def _insert(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    names = list(rows[0])
    statement = text(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
    )
    for chunk in chunks(rows, 2000):
        conn.execute(statement, list(chunk))
