"""Detection runs: the live tables in, the pure detector over them, alerts out.

A full run (``jiuyuan diversion detect``) judges every case and every scan, set-based in the
database (``setwise``); an incremental run (:func:`detect_for_scan`, called by the scan lookup
for every recorded scan through :func:`scan_recorded`) first asks whether the scan can change
a finding at all (``screen``) and, if so, judges the one case it touches with the pure
detector over that case's facts only. Both raise new alerts and update open ones whose
evidence grew; an alert already confirmed or dismissed is left as decided.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from api.compliance.alerts import repository as repo
from api.compliance.alerts import screen, setwise, sources
from api.compliance.alerts.encoding import Evidence, evidence_payload, when
from api.compliance.alerts.turns import InTurns
from api.compliance.alerts.writing import writing
from api.compliance.detection.detector import Detector, Finding
from api.compliance.detection.model import Movement, PartyInfo, Territory
from api.compliance.detection.thresholds import Thresholds, from_settings
from api.compliance.geo.gazetteer import Gazetteer, gazetteer
from api.config import get_settings
from api.db import chunks
from api.log.outbox import stage_encoded_entries
from api.trace.common import SHANGHAI

OPEN = ("new", "investigating")


@dataclass
class RunReport:
    mode: str
    scans: int = 0
    movements: int = 0
    signals: Counter[str] = field(default_factory=Counter)
    findings: Counter[str] = field(default_factory=Counter)
    raised: int = 0
    updated: int = 0
    alert_ids: list[str] = field(default_factory=list)


class Places:
    """Scan places as GB/T 2260 codes: the recorded city centre placed by the gazetteer, or,
    without coordinates, the recorded names."""

    def __init__(self, geo: Gazetteer) -> None:
        self.geo = geo
        self._cache: dict[tuple[Any, ...], str | None] = {}

    def of(self, row: sources.ScanRow) -> str | None:
        key = (row.lat_centi, row.lon_centi, row.province, row.city)
        if key in self._cache:
            return self._cache[key]
        place = None
        if row.lat_centi is not None and row.lon_centi is not None:
            place = self.geo.place_of(row.lat_centi * 10_000, row.lon_centi * 10_000)
        if place is None:
            place = self.geo.find_by_name(row.province, row.city)
        code = place.county if place is not None else None
        self._cache[key] = code
        return code


def feed_scans(detector: Detector, rows: Iterable[sources.ScanRow], places: Places) -> None:
    """Group the (code-ordered) scan rows by code and hand each code's scans over."""
    for code_id, case_id, points in sources.points_by_code(rows, places.of):
        detector.add_code_scans(str(code_id), str(case_id) if case_id is not None else None, points)


def detect(
    conn: Connection,
    thresholds: Thresholds,
    *,
    case_ids: Sequence[int] | None = None,
    code_ids: Sequence[int] | None = None,
    parties: dict[str, PartyInfo] | None = None,
    territory: Territory | None = None,
) -> Detector:
    """Run the pure detector over the stored facts (all, or those of some cases and codes)."""
    moves = sources.movements(conn, case_ids)
    if parties is None:
        wanted = None if case_ids is None else sorted({p for m in moves for p in _parties(m)})
        parties = sources.load_parties(conn, wanted)
    territory = territory or sources.load_territory(conn, parties)
    detector = Detector(parties, territory, thresholds)
    detector.add_movements(moves)
    feed_scans(detector, sources.scan_rows(conn, code_ids), Places(gazetteer()))
    return detector


def _parties(m: Movement) -> tuple[str, ...]:
    return (m.party,) if m.sender is None else (m.party, m.sender)


def run_detection(
    conn: Connection, thresholds: Thresholds, actor: str, *, helpers: int = 0
) -> RunReport:
    """A full run over every case and scan (set-based, in the database: ``setwise``);
    records the run and returns what it found. ``helpers``: processes to fork to share the
    building of its alerts, for a caller that runs nothing else meanwhile (``turns``)."""
    started = datetime.now(UTC)
    # The spans are stored by the server while Python judges the rows the run read.
    detector = setwise.detect_all(
        conn, thresholds, Places(gazetteer()).of, meanwhile=setwise.store_allocations
    )
    setwise.reset_settings(conn)
    report = _apply(
        conn, detector, thresholds, actor, None, "full", allocations=False, helpers=helpers
    )
    setwise.drop_tables(conn)
    _record_run(conn, report, thresholds, started)
    return report


def default_helpers() -> int:
    """Helpers for a run that has the machine to itself: one fewer than the cores (the run's
    own process builds too, and its writes need the server), at most three (past that, the
    one process writing every chunk is the limit)."""
    return max(0, min(3, (os.cpu_count() or 1) - 1))


def detect_for_scan(
    conn: Connection, code_id: int, thresholds: Thresholds, actor: str = "detector"
) -> RunReport:
    """Judge the case a newly scanned code belongs to (and the code itself for clones) —
    when the scan can change a finding at all (``screen``); otherwise report nothing."""
    if not screen.may_change_findings(conn, code_id, thresholds, _places().of):
        return RunReport("incremental")
    return _judge_case_of(conn, code_id, thresholds, actor)


def scan_recorded(
    conn: Connection,
    code_id: int,
    thresholds: Thresholds | None = None,
    scans: Sequence[Mapping[str, Any]] | None = None,
) -> RunReport:
    """The hook traceability calls once it recorded a consumer scan of ``code_id``, in the
    same transaction: alerts the scan raises are written with it. ``thresholds``: the app's
    (the process settings' when not given); ``scans``: every scan of the code, the new one
    included, if the caller read them all (``screen.may_change_findings``)."""
    if thresholds is None:
        thresholds = from_settings(get_settings())
    if not screen.may_change_findings(conn, code_id, thresholds, _places().of, scans):
        return RunReport("incremental")
    try:
        with conn.begin_nested():
            return _judge_case_of(conn, code_id, thresholds, "scan")
    except IntegrityError:
        # A concurrent scan of the same case raised the same alert and committed first.
        # That alert stands; this scan joins its evidence at the next update or batch run,
        # and the consumer's lookup is not failed for it.
        return RunReport("incremental")


def _judge_case_of(conn: Connection, code_id: int, thresholds: Thresholds, actor: str) -> RunReport:
    case_id = sources.case_of(conn, code_id)
    cases = [case_id] if case_id is not None else []
    code_ids = sources.codes_of_case(conn, case_id) if case_id is not None else [code_id]
    detector = detect(conn, thresholds, case_ids=cases, code_ids=code_ids)
    return _apply(conn, detector, thresholds, actor, cases, "incremental")


@cache
def _places() -> Places:
    """Scan positions placed once per process (the places of cities never change)."""
    return Places(gazetteer())


def _apply(
    conn: Connection,
    detector: Detector,
    th: Thresholds,
    actor: str,
    case_ids: Sequence[int] | None,
    mode: str,
    *,
    allocations: bool = True,
    helpers: int = 0,
) -> RunReport:
    """``allocations``: store the detector's spans first (an incremental run's; a full run
    has stored them already); ``helpers``: processes forked to share the building of the
    alerts (``turns``). A full run writes each chunk of new alerts while the next is built
    (``writing``); an incremental one, at once."""
    report = RunReport(mode, detector.scans, detector.movements, detector.signal_counts())
    if allocations:
        _store_allocations(conn, detector, case_ids)
    findings = detector.findings()
    report.findings = Counter(f"{f.kind}:{f.strength}" for f in findings)
    existing = repo.alerts_by_keys(conn, [f.key for f in findings])
    wanted = {int(f.code) for f in findings}
    wanted |= {int(o.code) for f in findings for s in f.signals for o in s.observations}
    codes = sources.code_keys(conn, sorted(wanted))
    updated: list[Revision] = []
    now = datetime.now(UTC)
    build = partial(
        _build, existing=existing, codes=codes, detector=detector, th=th, actor=actor, now=now
    )
    # Helpers are forked before ``writing`` starts its thread; nothing in the block touches
    # the connection: the new alerts of each chunk are written (``writing``) while the next
    # chunk is built; updates are written after the block.
    turns = InTurns(list(chunks(findings, ALERTS_WRITTEN_AT_ONCE)), build, helpers)
    with turns, writing(conn, overlap=mode == "full") as write:
        for built in turns:
            report.raised += len(built.raised)
            report.updated += len(built.updated)
            report.alert_ids += built.alert_ids
            updated += built.updated
            if built.raised:
                write(partial(_insert_raised, staged=built.staged, raised=built.raised))
    for found, entry_id, payload, columns in updated:
        _update(conn, found, entry_id, payload, columns, actor, now)
    return report


Revision = tuple[repo.AlertRow, str, str, dict[str, Any]]
"""An open alert whose evidence grew: it, its new entry's id and payload, its new columns."""


@dataclass
class Built:
    """A chunk of findings made into alerts: new alerts' rows and their staged entries, the
    revisions of open alerts, and the ids of both in the findings' order."""

    raised: list[dict[str, Any]] = field(default_factory=list)
    staged: list[tuple[str, str, str]] = field(default_factory=list)
    updated: list[Revision] = field(default_factory=list)
    alert_ids: list[str] = field(default_factory=list)


def _build(
    chunk: Sequence[Finding],
    *,
    existing: Mapping[str, repo.AlertRow],
    codes: dict[int, str],
    detector: Detector,
    th: Thresholds,
    actor: str,
    now: datetime,
) -> Built:
    """A chunk's alerts; pure Python, touching no connection (it may run in a helper)."""
    built = Built()
    ids = new_ids()  # drawn in the process that builds: a helper's must not repeat its parent's
    for finding in chunk:
        evidence = evidence_payload(finding, codes, detector.territory, th)
        digest = evidence.digest()
        found = existing.get(finding.key)
        if found is None:
            alert_id, entry_id = next(ids)
            columns = _columns(finding, evidence, digest, detector, now)
            built.staged.append(("compliance.alert.raised", evidence.entry(alert_id, 1), entry_id))
            built.raised.append(_raised_row(alert_id, entry_id, finding.key, columns, actor, now))
            built.alert_ids.append(alert_id)
        elif found.state in OPEN and found.evidence_digest != digest:
            entry_id = str(uuid.uuid4())
            payload = evidence.entry(found.alert_id, found.revision + 1)
            columns = _columns(finding, evidence, digest, detector, now)
            built.updated.append((found, entry_id, payload, columns))
            built.alert_ids.append(found.alert_id)
    return built


ALERTS_WRITTEN_AT_ONCE = 2000
"""New alerts built (by this process or a helper: ``turns``), then written while the next as
many are built (a full run)."""


def _insert_raised(
    conn: Connection, *, staged: list[tuple[str, str, str]], raised: list[dict[str, Any]]
) -> None:
    """New alerts with their raised entries staged for the ledger."""
    stage_encoded_entries(conn, staged)
    repo.insert_alerts(conn, raised)


def _raised_row(
    alert_id: str,
    entry_id: str,
    key: str,
    columns: dict[str, Any],
    actor: str,
    now: datetime,
) -> dict[str, Any]:
    """A new alert's row, with the event that raised it (``repo.insert_alerts``)."""
    return {
        "alert_id": alert_id,
        "alert_key": key,
        "state": "new",
        "detected_at": now,
        "revision": 1,
        "entry_ids": f'["{entry_id}"]',  # JSON text, as stored (a uuid needs no escape)
        **columns,
        "event": {
            "at": now,
            "actor": actor,
            "action": "raised",
            "from_state": None,
            "to_state": "new",
            "reason": None,
            "entry_id": entry_id,
        },
    }


def _update(
    conn: Connection,
    found: repo.AlertRow,
    entry_id: str,
    payload: str,
    columns: dict[str, Any],
    actor: str,
    now: datetime,
) -> None:
    """An open alert whose evidence grew: its next revision, entry and event."""
    stage_encoded_entries(conn, [("compliance.alert.updated", payload, entry_id)])
    repo.update_alert(
        conn,
        found.alert_id,
        revision=found.revision + 1,
        entry_ids=[*found.entry_ids, entry_id],
        **columns,
    )
    repo.add_event(
        conn,
        found.alert_id,
        at=now,
        actor=actor,
        action="updated",
        from_state=found.state,
        to_state=found.state,
        reason=None,
        entry_id=entry_id,
    )


def new_ids() -> Iterator[tuple[str, str]]:
    """Ids for new alerts, endlessly: ``al_`` and 24 random hex digits, and their raised
    entry's random UUID (version 4), as ``secrets.token_hex(12)`` and ``uuid.uuid4()`` give
    them, but read from the system's randomness once per 1,024 alerts, not twice a piece
    (a run raising 170,000 alerts spent more on those reads than on its digests)."""
    while True:
        block = secrets.token_bytes(28 * 1024)
        for at in range(0, len(block), 28):
            entry = uuid.UUID(bytes=block[at + 12 : at + 28], version=4)
            yield f"al_{block[at : at + 12].hex()}", str(entry)


def _columns(
    f: Finding,
    evidence: Evidence,
    digest: str,
    detector: Detector,
    now: datetime,
) -> dict[str, Any]:
    dealer = detector.parties.get(f.dealer_id or "")
    allocated = f.allocation.at if f.allocation else None
    return {
        "kind": f.kind,
        "strength": f.strength,
        "dealer_id": f.dealer_id,
        "region_id": dealer.region_id if dealer else None,
        "code_id": int(f.code),
        "code_key": evidence.code,
        # A clone's product is its code's even where no dealer held the code's case.
        "gtin": f.gtin if f.gtin is not None else _gtin_of(evidence.code),
        "score": f.score,
        # JSON text from the encodings the entry and its leaves were built of (stored as is).
        "signals": evidence.members["signals"].decode(),
        "observations": (b"[%s]" % b",".join(evidence.observations)).decode(),
        "place": f.place,
        "to_region_id": detector.territory.region_of(f.place) if f.place else None,
        "allocated_at": when(allocated) if allocated is not None else None,
        "allocation_month": month(allocated) if allocated is not None else None,
        "first_seen_at": when(f.first_at),
        "last_seen_at": when(f.last_at),
        "updated_at": now,
        "evidence_digest": digest,
    }


def _gtin_of(code_key: str) -> str | None:
    """The GTIN of a code's Digital Link key (``/01/{gtin}/10/…``), if it is one."""
    parts = code_key.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "01" else None


_MONTHS: dict[int, str] = {}
_EIGHT_HOURS_SINCE = 694_195_200
"""1992-01-01 00:00 in Shanghai: China has kept UTC+8 all year since its last summer time."""


def month(seconds: int) -> str:
    """The month (``YYYY-MM``, Asia/Shanghai) of a second since the epoch, as reports group
    allocations; worked out once per local day where the offset is a fixed eight hours (a
    run has one allocation per case, and formatting each through the zone cost more than
    the rest of its alert's columns)."""
    if seconds < _EIGHT_HOURS_SINCE:
        return when(seconds).astimezone(SHANGHAI).strftime("%Y-%m")
    day = (seconds + 8 * 3600) // 86_400
    found = _MONTHS.get(day)
    if found is None:
        found = "{:04d}-{:02d}".format(*time.gmtime(day * 86_400)[:2])
        if len(_MONTHS) < 100_000:
            _MONTHS[day] = found
    return found


def _store_allocations(
    conn: Connection, detector: Detector, case_ids: Sequence[int] | None
) -> None:
    rows = []
    for case, spans in detector.timelines.items():
        for span in spans:
            a = span.allocation
            dealer = detector.parties.get(a.dealer_id)
            at = when(a.at)
            rows.append(
                {
                    "case_id": int(case),
                    "entry_id": a.entry_id,
                    "dealer_id": a.dealer_id,
                    "region_id": dealer.region_id if dealer else None,
                    "gtin": a.gtin,
                    "allocated_at": at,
                    "month": month(a.at),
                }
            )
    repo.replace_allocations(conn, rows, case_ids)


def _record_run(conn: Connection, report: RunReport, th: Thresholds, started: datetime) -> None:
    repo.insert_run(
        conn,
        {
            "run_id": f"run_{secrets.token_hex(8)}",
            "mode": report.mode,
            "started_at": started,
            "finished_at": datetime.now(UTC),
            "scans": report.scans,
            "movements": report.movements,
            "signals": json.dumps(dict(report.signals), sort_keys=True),
            "alerts_raised": report.raised,
            "alerts_updated": report.updated,
            "thresholds": json.dumps(th.as_dict(), sort_keys=True),
        },
    )
