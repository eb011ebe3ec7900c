"""Compliance demo for ``make run``: a case of the channel demo opened at a store in another
region, a copied label scanned by many phones, detection run, one alert under investigation.
Seeded once, after the channel demo (skipped when there is no channel or alerts exist)."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from api.auth.service import Principal, Role
from api.compliance.alerts import repository as repo
from api.compliance.alerts import sources, workflow
from api.compliance.alerts.runs import run_detection
from api.compliance.detection.thresholds import Thresholds
from api.errors import AppError
from api.log.service import LogService
from api.shipments.models import Custody
from api.trace.codes import custody
from api.trace.codes.service import get_code
from api.trace.resolver import repository as scans_repo

OFFICER = Principal("demo-compliance", Role.COMPLIANCE_OFFICER, kind="user")
CITIES = [
    (2313, 11326, "广东", "广州"),
    (3990, 11640, "北京", "北京"),
    (3123, 12147, "上海", "上海"),
    (3034, 10894, "陕西", "西安"),
    (2504, 10271, "云南", "昆明"),
    (3027, 12016, "浙江", "杭州"),
    (2259, 11406, "广东", "深圳"),
]


def seed(log: LogService, thresholds: Thresholds) -> list[str]:
    """Seed once; return lines saying what to look at."""
    with log.db.engine.connect() as conn:
        if repo.latest_run(conn) is not None or not sources.load_parties(conn):
            return []
    rng = random.Random(7)
    with log.db.writer.begin() as conn:
        _divert(conn, rng)
        _clone(conn)
        report = run_detection(conn, thresholds, "demo")
        if report.alert_ids:
            workflow.decide(
                conn, OFFICER, report.alert_ids[0], "investigating", "演示：已致电经销商核实"
            )
    log.relay()
    log.checkpoint_now()
    return [
        f"compliance demo: {report.raised} alerts "
        f"(GET /v1/compliance/alerts as the compliance officer; "
        f"`jiuyuan evidence export ALERT_ID --out FILE` for evidence)"
    ]


def _held_by_dealers(conn: Connection) -> list[tuple[str, str]]:
    table = Custody.__table__
    parties = sources.load_parties(conn)
    rows = conn.execute(
        select(table.c.serial, table.c.holder_id)
        .where(table.c.state == "held")
        .order_by(table.c.serial)
    )
    return [(s, h) for s, h in rows if parties.get(h) and parties[h].kind == "dealer"]


def _divert(conn: Connection, rng: random.Random) -> None:
    """Three cases held by dealers are opened at stores outside their regions."""
    parties = sources.load_parties(conn)
    territory = sources.load_territory(conn, parties)
    stores = [p for p in parties.values() if p.kind == "store" and p.admin_code]
    done = 0
    for serial, dealer in _held_by_dealers(conn):
        foreign = [s for s in stores if not territory.authorizes(dealer, s.admin_code or "")]
        if not foreign:
            continue
        store = rng.choice(foreign)
        try:
            custody.unpack(conn, get_code(conn, serial), location=store.party_id)
        except AppError:
            continue  # an empty case cannot be opened; try the next
        done += 1
        if done == 3:
            return


def _clone(conn: Connection) -> None:
    """A case label copied: scanned by eight phones in seven cities within a day."""
    held = _held_by_dealers(conn)
    if not held:
        return
    code = get_code(conn, held[-1][0])
    at = datetime.now(UTC) - timedelta(hours=20)
    for n in range(8):
        lat, lon, province, city = CITIES[n % len(CITIES)]
        scans_repo.insert_scan(
            conn,
            {
                "code_id": code.id,
                "at": at + timedelta(hours=2 * n),
                "device_hash": secrets.token_bytes(32),
                "province": province,
                "city": city,
                "lat_centi": lat,
                "lon_centi": lon,
                "case_id": code.case_id,
            },
        )
