"""Whether a newly recorded scan can change any finding: one indexed read, no judging.

A new scan changes the detector's findings only if its code now shows a clone signal, or if
it lies outside the regions of the dealer its case was allotted to at that moment (a
consumer scan abroad, a weak signal). Every other scan — the great majority: a drinker at
home — leaves every finding as it was, so incremental detection first asks just that, in
one statement of index look-ups:

1. the code's scans, by the ``(code_id, at)`` index, each with the case it came in when it
   was scanned (recorded with the scan);
2. the transfers of the newest scan's case with their from and to parties (by the code
   index's key; the event row keeps both) and the authorized regions of the parties'
   dealers: the allocation at the scan's time follows by the detector's own timeline rules;
3. the regions of the scan's place, from the region areas (a small table, cached a minute).

Only when the answer is yes does the whole case get judged (``runs.detect_for_scan``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text

from api import prepared
from api.channel.admin_codes import enclosing
from api.compliance.alerts import sources
from api.compliance.alerts.dialect import Dialect
from api.compliance.detection.detector import Detector
from api.compliance.detection.model import Movement, MovementKind, PartyInfo, ScanPoint, Territory
from api.compliance.detection.signals import clone_signals
from api.compliance.detection.thresholds import Thresholds
from api.db import engine_key
from api.trace.resolver.cache import TTLCache
from api.trace.resolver.clones import scan_point

# Scans ('s') then transfers ('t') in one result: (what, id, ts, at, device, lat, lon, a..i,
# case_id) where a, b are a scan's province and city, or a transfer's kind and entry; c, d, e
# the transfer's to party, its kind and dealer; f, g, h its from party, kind and dealer; i
# the to-dealer's authorized regions, comma-separated. The parties and regions are scalar
# subqueries, each planned on its own (as is the newest scan's case, by the ``(code_id,
# at)`` index): a plan with one join order to search costs a fraction of one with seven
# tables, and PostgreSQL plans the statement again whenever the catalog changed. The
# regions are read by the dealer's key (the primary key's prefix): joined to the party
# instead, the planner hashed the whole of dealer_regions once per transfer (0.05 ms a
# transfer at 367 rows in EXPLAIN ANALYZE).
_FACTS = """
SELECT 's' AS what, s.id, s.at AS ts, {scan_at} AS at, s.device_hash, s.lat_centi, s.lon_centi,
  s.province AS a, s.city AS b, NULL AS c, NULL AS d, NULL AS e, NULL AS f, NULL AS g,
  NULL AS h, NULL AS i, s.case_id
FROM trace_scans s WHERE s.code_id = :code
UNION ALL
SELECT 't', NULL, e.at, {event_at}, NULL, NULL, NULL, e.kind, e.entry_id, e.party,
  (SELECT p.kind FROM parties p WHERE p.party_id = e.party),
  (SELECT p.dealer_id FROM parties p WHERE p.party_id = e.party), e.sender,
  (SELECT p.kind FROM parties p WHERE p.party_id = e.sender),
  (SELECT p.dealer_id FROM parties p WHERE p.party_id = e.sender),
  (SELECT {regions} FROM dealer_regions dr
   WHERE dr.dealer_id = (SELECT p.dealer_id FROM parties p WHERE p.party_id = e.party)),
  ix.code_id
FROM trace_code_index ix
JOIN trace_code_events e ON e.entry_id = ix.entry_id
WHERE ix.code_id = (SELECT n.case_id FROM trace_scans n WHERE n.code_id = :code
  ORDER BY n.id DESC LIMIT 1) AND e.kind IN ('transfer.shipped', 'transfer.received')
  AND e.party IS NOT NULL
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
        found = text(
            _FACTS.format(
                scan_at=sql.epoch("s.at"),
                event_at=sql.epoch("e.at"),
                regions=sql.joined("dr.region_id"),
            )
        )
        _statements[name] = found
    return found


def _areas(conn: Connection) -> dict[str, str]:
    key = engine_key(conn)
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
    stored: Sequence[Mapping[str, Any]] | None = None,
) -> bool:
    """Whether the code's newest scan (highest id) can change a finding (module docstring).

    ``stored``: every scan of the code as stored (``trace_scans`` rows), if the caller has read
    them all. When the newest has no place (no coordinates and no city: most phones share
    none), only the clone rule can fire, and it needs nothing else: no statement is run."""
    if stored:
        unplaced = _unplaced_verdict(code_id, stored, th, place_of)
        if unplaced is not None:
            return unplaced
    rows = prepared.rows(conn, _facts(conn), {"code": code_id})
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


def _unplaced_verdict(
    code_id: int,
    scans: Sequence[Mapping[str, Any]],
    th: Thresholds,
    place_of: Callable[[sources.ScanRow], str | None],
) -> bool | None:
    """The screen's answer from the code's stored scans alone when the newest has no place;
    None when it has one (then the case's transfers decide too)."""
    newest = max(scans, key=lambda r: r["id"])
    row = sources.ScanRow(
        code_id,
        None,
        newest["id"],
        scan_point(newest).at,
        None,
        newest["lat_centi"],
        newest["lon_centi"],
        newest["province"],
        newest["city"],
    )
    if place_of(row) is not None:
        return None
    return bool(clone_signals(str(code_id), [scan_point(r) for r in scans], th))


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
        to_regions,
        _,
    ) in rows:
        if to_kind is None:
            continue  # an unknown party: the detector skips the movement
        parties[to] = PartyInfo(to, to_kind, to_dealer)
        if frm is not None and frm_kind is not None:
            parties[frm] = PartyInfo(frm, frm_kind, frm_dealer)
        moves[entry_id] = Movement(case, "", int(when), _MOVES[kind], to, entry_id, frm)
        if to_dealer is not None and to_regions:
            regions.setdefault(to_dealer, set()).update(to_regions.split(","))
    if not moves:
        return None, frozenset()
    # The detector's own timeline rules; places play no part in who holds the case.
    timeline = Detector(parties, Territory({}, {}))
    timeline.add_movements(moves.values())
    allocation = timeline.allocation_at(case, at)
    if allocation is None:
        return None, frozenset()
    return allocation.dealer_id, frozenset(regions.get(allocation.dealer_id, ()))
