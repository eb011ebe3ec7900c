"""Whether a newly recorded scan can change any finding: one indexed read, no judging.

A new scan changes the detector's findings only if its code now shows a clone signal, or if
it lies outside the regions of the dealer its case was allotted to at that moment (a
consumer scan abroad, a weak signal). Every other scan — the great majority: a drinker at
home — leaves every finding as it was, so incremental detection first asks just that, in
one statement of index look-ups:

1. the code's scans, by the ``(code_id, at)`` index, and the case it came in (the code
   itself, its parent, or the case it was last packed in);
2. the case's transfers with their from and to parties (by the code index's key) and the
   authorized regions of the parties' dealers: the allocation at the scan's time follows by
   the detector's own timeline rules;
3. the regions of the scan's place, from the region areas (a small table, cached a minute).

Only when the answer is yes does the whole case get judged (``runs.detect_for_scan``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, text

from api.channel.admin_codes import enclosing
from api.compliance.alerts import sources
from api.compliance.alerts.dialect import Dialect
from api.compliance.detection.detector import Detector
from api.compliance.detection.model import Movement, MovementKind, PartyInfo, ScanPoint, Territory
from api.compliance.detection.signals import clone_signals
from api.compliance.detection.thresholds import Thresholds
from api.trace.resolver.cache import TTLCache

# Scans ('s') then transfers ('t') in one result: (what, id, ts, at, device, lat, lon, a..i,
# case_id) where a, b are a scan's province and city, or a transfer's kind and entry; c..h
# the transfer's to and from parties (id, kind, dealer) and i a region of the to-dealer.
_FACTS = """
WITH code AS (
  SELECT CASE WHEN c.kind = 'case' THEN c.id WHEN c.parent_id IS NOT NULL THEN c.parent_id
  ELSE (SELECT e.parent_id FROM trace_code_index i
        JOIN trace_code_events e ON e.entry_id = i.entry_id
        WHERE i.code_id = c.id AND e.event = 'packed' AND e.parent_id IS NOT NULL
        ORDER BY e.at DESC LIMIT 1) END AS case_id
  FROM trace_codes c WHERE c.id = :code
)
SELECT 's' AS what, s.id, s.at AS ts, {scan_at} AS at, s.device_hash, s.lat_centi, s.lon_centi,
  s.province AS a, s.city AS b, NULL AS c, NULL AS d, NULL AS e, NULL AS f, NULL AS g,
  NULL AS h, NULL AS i, (SELECT case_id FROM code) AS case_id
FROM trace_scans s WHERE s.code_id = :code
UNION ALL
SELECT 't', NULL, e.at, {event_at}, NULL, NULL, NULL, e.kind, e.entry_id, t.party_id, t.kind,
  t.dealer_id, f.party_id, f.kind, f.dealer_id, dr.region_id, code.case_id
FROM code
JOIN trace_code_index ix ON ix.code_id = code.case_id
JOIN trace_code_events e ON e.entry_id = ix.entry_id
LEFT JOIN ledger_entries l ON l.entry_id = e.entry_id
LEFT JOIN ledger_outbox o ON o.entry_id = e.entry_id
JOIN parties t ON t.party_id = CASE WHEN l.entry_id IS NOT NULL THEN {l_to} ELSE {o_to} END
LEFT JOIN parties f ON f.party_id = CASE WHEN l.entry_id IS NOT NULL THEN {l_from}
  ELSE {o_from} END
LEFT JOIN dealer_regions dr ON dr.dealer_id = t.dealer_id
WHERE e.kind IN ('transfer.shipped', 'transfer.received')
ORDER BY 1, 3, 2
"""
_MOVES = {"transfer.shipped": MovementKind.SHIPPED, "transfer.received": MovementKind.RECEIVED}
_statements: dict[str, Any] = {}
_AREAS = TTLCache[str, dict[str, str]](ttl_s=60.0, max_items=64)
"""Region areas per database: a few dozen rows that change when HQ redraws its regions."""


def _facts(conn: Connection) -> Any:
    """The statement in this database's dialect, built once."""
    name = conn.dialect.name
    found = _statements.get(name)
    if found is None:
        sql = Dialect(conn)
        ledger, outbox = sql.ledger_payload(), sql.outbox_payload()
        found = text(
            _FACTS.format(
                scan_at=sql.epoch("s.at"),
                event_at=sql.epoch("e.at"),
                l_to=sql.field(ledger, "to"),
                o_to=sql.field(outbox, "to"),
                l_from=sql.field(ledger, "from"),
                o_from=sql.field(outbox, "from"),
            )
        )
        _statements[name] = found
    return found


def _areas(conn: Connection) -> dict[str, str]:
    key = str(conn.engine.url)
    found = _AREAS.get(key)
    if found is None:
        rows = conn.execute(text("SELECT admin_code, region_id FROM region_areas"))
        found = {code: region for code, region in rows}
        _AREAS.put(key, found)
    return found


def may_change_findings(
    conn: Connection,
    code_id: int,
    th: Thresholds,
    place_of: Callable[[sources.ScanRow], str | None],
) -> bool:
    """Whether the code's newest scan (highest id) can change a finding (module docstring)."""
    rows = conn.execute(_facts(conn), {"code": code_id}).all()
    scans = [r for r in rows if r[0] == "s"]
    if not scans:
        return False
    # 1. Clones: the detector's rule over the code's scans, oldest first.
    points = []
    for _, scan_id, _, at, device, lat, lon, *_ in scans:
        lat_e6 = lat * 10_000 if lat is not None else None
        lon_e6 = lon * 10_000 if lon is not None else None
        points.append(ScanPoint(scan_id, int(at), device, None, lat_e6, lon_e6))
    if clone_signals(str(code_id), points, th):
        return True
    new = max(scans, key=lambda r: r[1])
    _, scan_id, _, at, _, lat, lon, province, city, *_, case_id = new
    place = place_of(sources.ScanRow(code_id, case_id, scan_id, at, None, lat, lon, province, city))
    if place is None or case_id is None:
        return False
    # 2. Whom the case was allotted to when it was scanned, and where that dealer may sell.
    dealer, regions = _dealer_at([r for r in rows if r[0] == "t"], str(case_id), int(at))
    if dealer is None:
        return False
    # 3. Whether the place lies in one of those regions.
    areas = _areas(conn)
    mine = {a: areas[a] for a in enclosing(place) if a in areas}
    return not Territory(mine, {dealer: regions}).authorizes(dealer, place)


def _dealer_at(rows: list[Any], case: str, at: int) -> tuple[str | None, frozenset[str]]:
    """The dealer the case was allotted to at ``at``, and that dealer's regions."""
    parties: dict[str, PartyInfo] = {}
    moves: dict[str, Movement] = {}
    regions: dict[str, set[str]] = {}
    for (
        *_,
        when,
        _,
        _,
        _,
        kind,
        entry_id,
        to,
        to_kind,
        to_dealer,
        frm,
        frm_kind,
        frm_dealer,
        region,
        _,
    ) in rows:
        parties[to] = PartyInfo(to, to_kind, to_dealer)
        if frm is not None:
            parties[frm] = PartyInfo(frm, frm_kind, frm_dealer)
        moves[entry_id] = Movement(case, "", int(when), _MOVES[kind], to, entry_id, frm)
        if to_dealer is not None and region is not None:
            regions.setdefault(to_dealer, set()).add(region)
    if not moves:
        return None, frozenset()
    # The detector's own timeline rules; places play no part in who holds the case.
    timeline = Detector(parties, Territory({}, {}))
    timeline.add_movements(moves.values())
    allocation = timeline.allocation_at(case, at)
    if allocation is None:
        return None, frozenset()
    return allocation.dealer_id, frozenset(regions.get(allocation.dealer_id, ()))
