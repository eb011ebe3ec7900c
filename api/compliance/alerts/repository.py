"""All SQL on compliance's own tables."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, select

from api.compliance.alerts.models import Alert, AlertEvent, CaseAllocation, DetectionRun
from api.compliance.alerts.sources import among
from api.db import insert_rows
from api.log.repository import as_utc

alerts = cast(Table, Alert.__table__)
events = cast(Table, AlertEvent.__table__)
allocations = cast(Table, CaseAllocation.__table__)
runs = cast(Table, DetectionRun.__table__)

_TIMES = (
    "allocated_at",
    "first_seen_at",
    "last_seen_at",
    "detected_at",
    "updated_at",
    "decided_at",
)


@dataclass(frozen=True, slots=True)
class AlertRow:
    alert_id: str
    alert_key: str
    kind: str
    strength: str
    state: str
    dealer_id: str | None
    region_id: str | None
    code_id: int
    code_key: str
    gtin: str | None
    score: int
    signals: list[dict[str, Any]]
    observations: list[dict[str, Any]]
    place: str | None
    to_region_id: str | None
    allocated_at: datetime | None
    allocation_month: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    detected_at: datetime
    updated_at: datetime
    revision: int
    evidence_digest: str
    entry_ids: list[str]
    appeal_state: str | None
    appeal_reason: str | None
    decided_at: datetime | None
    decided_by: str | None
    decision_reason: str | None


def _alert(row: Any) -> AlertRow:
    values = dict(row._mapping)
    for key in ("signals", "observations", "entry_ids"):
        values[key] = json.loads(values[key])
    for key in _TIMES:
        if values[key] is not None:
            values[key] = as_utc(values[key])
    return AlertRow(**values)


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    """The row as stored: the JSON columns as text. A value already text is that JSON (the
    detection run passes the canonical encoding its ledger entry was built from), as the
    columns never hold a bare string."""
    out = dict(values)
    for key in ("signals", "observations", "entry_ids"):
        if key in out and type(out[key]) is not str:
            out[key] = json.dumps(out[key], ensure_ascii=False, sort_keys=True)
    return out


def insert_alerts(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """New alerts, each with its first event (``raised``, number 1)."""
    if not rows:
        return
    insert_rows(conn, alerts, [_stored({k: v for k, v in r.items() if k != "event"}) for r in rows])
    insert_rows(conn, events, [{"alert_id": r["alert_id"], "n": 1, **r["event"]} for r in rows])


def update_alert(conn: Connection, alert_id: str, **values: Any) -> None:
    conn.execute(alerts.update().where(alerts.c.alert_id == alert_id).values(**_stored(values)))


def get_alert(conn: Connection, alert_id: str, *, for_update: bool = False) -> AlertRow | None:
    query = select(alerts).where(alerts.c.alert_id == alert_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _alert(row)


def alerts_by_keys(conn: Connection, keys: Sequence[str]) -> dict[str, AlertRow]:
    out: dict[str, AlertRow] = {}
    # One array parameter a chunk on PostgreSQL: an IN list of 5,000 placeholders cost the
    # driver more to parse than the server took to answer.
    for start in range(0, len(keys), 5000):
        chunk = list(keys[start : start + 5000])
        for row in conn.execute(select(alerts).where(among(conn, alerts.c.alert_key, chunk))):
            found = _alert(row)
            out[found.alert_key] = found
    return out


def list_alerts(
    conn: Connection,
    *,
    state: str | None = None,
    kind: str | None = None,
    strength: str | None = None,
    dealer_id: str | None = None,
    region_id: str | None = None,
    gtin: str | None = None,
    detected_from: datetime | None = None,
    detected_until: datetime | None = None,
    before: tuple[datetime, str] | None = None,
    limit: int = 100,
) -> list[AlertRow]:
    """Newest first; ``before`` is the (detected_at, alert_id) to continue after;
    ``detected_from`` is inclusive, ``detected_until`` exclusive."""
    query = select(alerts)
    for column, value in (
        (alerts.c.state, state),
        (alerts.c.kind, kind),
        (alerts.c.strength, strength),
        (alerts.c.dealer_id, dealer_id),
        (alerts.c.region_id, region_id),
        (alerts.c.gtin, gtin),
    ):
        if value is not None:
            query = query.where(column == value)
    if detected_from is not None:
        query = query.where(alerts.c.detected_at >= detected_from)
    if detected_until is not None:
        query = query.where(alerts.c.detected_at < detected_until)
    if before is not None:
        at, alert_id = before
        query = query.where(
            (alerts.c.detected_at < at)
            | ((alerts.c.detected_at == at) & (alerts.c.alert_id < alert_id))
        )
    query = query.order_by(alerts.c.detected_at.desc(), alerts.c.alert_id.desc()).limit(limit)
    return [_alert(r) for r in conn.execute(query)]


def add_event(conn: Connection, alert_id: str, **values: Any) -> int:
    n = conn.execute(
        select(func.coalesce(func.max(events.c.n), 0)).where(events.c.alert_id == alert_id)
    ).scalar_one()
    conn.execute(events.insert().values(alert_id=alert_id, n=int(n) + 1, **values))
    return int(n) + 1


def events_of(conn: Connection, alert_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(events).where(events.c.alert_id == alert_id).order_by(events.c.n)
    ).mappings()
    return [{**r, "at": as_utc(r["at"])} for r in rows]


def replace_allocations(
    conn: Connection, rows: Sequence[Mapping[str, Any]], case_ids: Sequence[int] | None
) -> None:
    """Store the allocations found; a full run (``case_ids`` None) replaces them all."""
    if case_ids is None:
        conn.execute(delete(allocations))
    else:
        for start in range(0, len(case_ids), 5000):
            chunk = list(case_ids[start : start + 5000])
            conn.execute(delete(allocations).where(allocations.c.case_id.in_(chunk)))
    for start in range(0, len(rows), 5000):
        conn.execute(allocations.insert(), list(rows[start : start + 5000]))


def allocation_rows(conn: Connection) -> list[dict[str, Any]]:
    query = select(
        allocations.c.case_id,
        allocations.c.dealer_id,
        allocations.c.region_id,
        allocations.c.gtin,
        allocations.c.month,
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def insert_run(conn: Connection, values: Mapping[str, Any]) -> None:
    conn.execute(runs.insert().values(**values))


def latest_run(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(select(runs).order_by(runs.c.started_at.desc()).limit(1)).mappings().first()
    return None if row is None else dict(row)


def report_alerts(conn: Connection, kind: str) -> list[dict[str, Any]]:
    """The columns the reports read, for every alert of ``kind``."""
    query = select(
        alerts.c.code_id,
        alerts.c.dealer_id,
        alerts.c.region_id,
        alerts.c.to_region_id,
        alerts.c.state,
    ).where(alerts.c.kind == kind)
    return [dict(r) for r in conn.execute(query).mappings()]


def party_names(conn: Connection, ids: Sequence[str]) -> dict[str, str]:
    from api.channel import repository as channel_repo

    return {p.party_id: p.name for p in channel_repo.get_parties(conn, ids).values()}
