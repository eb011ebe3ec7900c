"""Traceability demo data for ``make run``: a brand's products, base liquors in their cellars,
blends, bottling batches, weeks of storage readings with a few excursions, and some thousands
of commissioned, packed, stored and shipped codes. Seeded once (skipped when present)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from api.log.service import LogService
from api.trace.batches import service as batches
from api.trace.batches.schemas import BatchIn
from api.trace.blending import service as blending
from api.trace.blending.schemas import BaseLiquorIn, BlendIn, BlendInputIn
from api.trace.codes import custody
from api.trace.codes import repository as codes_repo
from api.trace.codes import service as codes
from api.trace.common import SHANGHAI
from api.trace.products import repository as products_repo
from api.trace.products import service as products
from api.trace.products.schemas import Aroma, ProductIn
from api.trace.storage import service as storage
from api.trace.storage.schemas import SensorIn, ZoneIn, ZoneKind
from ledger.gs1 import check_digit


def _gtin(body: str) -> str:
    return ("0" + body + str(check_digit(body)))[-14:]


PRODUCTS = [
    (
        _gtin("690123456789"),
        "酒源·酱香典藏 53%vol 500ml",
        "Jiuyuan Jiangxiang Reserve 500 ml",
        500,
        530,
        Aroma.JIANG,
        6,
    ),
    (
        _gtin("690123456790"),
        "酒源·浓香窖藏 52%vol 500ml",
        "Jiuyuan Nongxiang Cellar 500 ml",
        500,
        520,
        Aroma.NONG,
        6,
    ),
    (
        _gtin("690123456791"),
        "酒源·酱香小酒 53%vol 375ml",
        "Jiuyuan Jiangxiang 375 ml",
        375,
        530,
        Aroma.JIANG,
        12,
    ),
]
ZONES = [
    (
        "RH-CELLAR-1",
        "RENHUAI-DISTILLERY",
        "仁怀一号酒库 (陶坛)",
        ZoneKind.CELLAR,
        "贵州 仁怀",
        ("12", "24"),
        ("60", "85"),
    ),
    (
        "RH-CELLAR-2",
        "RENHUAI-DISTILLERY",
        "仁怀二号酒库 (陶坛)",
        ZoneKind.CELLAR,
        "贵州 仁怀",
        ("12", "24"),
        ("60", "85"),
    ),
    (
        "GY-WH-A",
        "HQ-GUIYANG",
        "贵阳成品库 A 区",
        ZoneKind.WAREHOUSE,
        "贵州 贵阳",
        ("5", "28"),
        ("40", "75"),
    ),
    (
        "CD-WH-1",
        "RDC-CHENGDU",
        "成都区域仓 1 区",
        ZoneKind.WAREHOUSE,
        "四川 成都",
        ("5", "28"),
        ("40", "75"),
    ),
]


def seed(log: LogService, *, host: str, now: datetime | None = None) -> dict[str, Any]:
    """Seed the demo if its first product is absent; return what was made and a bottle URI."""
    now = now or datetime.now(UTC)
    today = now.astimezone(SHANGHAI).date()
    rng = random.Random(20261125)
    with log.db.engine.connect() as conn:
        if products_repo.get(conn, PRODUCTS[0][0]) is not None:
            return {"seeded": False, **_sample(conn, host)}
    with log.db.writer.begin() as conn:
        for gtin, zh, en, ml, abv, aroma, case in PRODUCTS:
            products.register(
                conn,
                ProductIn(
                    gtin=gtin,
                    name_zh=zh,
                    name_en=en,
                    volume_ml=ml,
                    abv_permille=abv,
                    aroma=aroma,
                    case_size=case,
                ),
            )
        for zone_id, wh, name, kind, region, t, h in ZONES:
            storage.register_zone(
                conn,
                ZoneIn(
                    zone_id=zone_id,
                    warehouse=wh,
                    name=name,
                    kind=kind,
                    region=region,
                    temp_c={"min": Decimal(t[0]), "max": Decimal(t[1])},
                    rh={"min": Decimal(h[0]), "max": Decimal(h[1])},
                ),
            )
            for n in (1, 2):
                storage.register_sensor(
                    conn, SensorIn(sensor_id=f"S-{zone_id}-{n}", zone_id=zone_id, model="THS-200")
                )
        lots = [
            ("BL-2018-003", "T-03", 2018, "特级", 545, "RH-CELLAR-1"),
            ("BL-2019-017", "T-17", 2019, "优级", 535, "RH-CELLAR-1"),
            ("BL-2020-022", "T-22", 2020, "优级", 535, "RH-CELLAR-2"),
            ("BL-2021-042", "T-42", 2021, "一级", 530, "RH-CELLAR-2"),
            ("BL-2022-008", "T-08", 2022, "一级", 528, "RH-CELLAR-2"),
        ]
        for lot, tank, vintage, grade, abv, zone in lots:
            blending.register_base_liquor(
                conn,
                BaseLiquorIn(
                    lot=lot,
                    tank=tank,
                    distillery="仁怀一号酒厂",
                    vintage=vintage,
                    grade=grade,
                    abv_permille=abv,
                    volume_ml=20_000_000,
                    zone_id=zone,
                    stored_since=date(vintage, 11, 20),
                ),
            )
        blended = today - timedelta(days=30)
        blends = [
            ("BD-2026-118", ["BL-2018-003", "BL-2019-017", "BL-2021-042"], [150, 550, 300]),
            ("BD-2026-121", ["BL-2020-022", "BL-2022-008"], [600, 400]),
            ("BD-2026-125", ["BL-2019-017", "BL-2020-022"], [500, 500]),
        ]
        for blend_no, inputs, parts in blends:
            blending.record_blend(
                conn,
                BlendIn(
                    blend_no=blend_no,
                    blender="王建国",
                    blended_on=blended,
                    abv_permille=530,
                    notes="典藏基调",
                    inputs=[
                        BlendInputIn(lot=lot, volume_ml=p * 4000)
                        for lot, p in zip(inputs, parts, strict=True)
                    ],
                ),
            )
        bottled = today - timedelta(days=12)
        plan = [
            ("L" + bottled.strftime("%Y%m%d") + "A", PRODUCTS[0][0], "BD-2026-118", 2400),
            ("L" + bottled.strftime("%Y%m%d") + "B", PRODUCTS[1][0], "BD-2026-121", 1200),
            ("L" + bottled.strftime("%Y%m%d") + "C", PRODUCTS[2][0], "BD-2026-125", 1200),
        ]
        for lot, gtin, blend_no, qty in plan:
            batches.create(
                conn,
                BatchIn(
                    lot=lot,
                    gtin=gtin,
                    blend_no=blend_no,
                    line="灌装线 3",
                    bottled_on=bottled,
                    planned_qty=qty,
                ),
            )
    filled = datetime.combine(bottled, time(9), SHANGHAI)
    for index, (lot, gtin, _, qty) in enumerate(plan):
        with log.db.writer.begin() as conn:
            _bottle(conn, lot, gtin, qty, filled, packed=index < 2, shipped=index == 0)
        log.relay()
    with log.db.writer.begin() as conn:
        storage.ingest(conn, _readings(now, rng), now=now)
    log.relay()
    log.checkpoint_now()
    with log.db.engine.connect() as conn:
        return {"seeded": True, **_sample(conn, host)}


def _bottle(
    conn: Any, lot: str, gtin: str, qty: int, at: datetime, *, packed: bool, shipped: bool
) -> None:
    case_size = products_repo.get(conn, gtin)["case_size"]  # type: ignore[index]
    bottle_batch = codes.generate(conn, lot, qty, codes.CodeKind.BOTTLE)
    bottles = [
        codes.to_code(r) for r in codes_repo.in_batch(conn, bottle_batch["batch_id"], "generated")
    ]
    custody.commission(conn, lot, bottles, location="RH-LINE-3", region="贵州 仁怀", at=at)
    if not packed:
        return
    case_batch = codes.generate(conn, lot, qty // case_size, codes.CodeKind.CASE)
    cases = [
        codes.to_code(r) for r in codes_repo.in_batch(conn, case_batch["batch_id"], "generated")
    ]
    fresh = {
        b.id: b
        for b in (
            codes.to_code(r)
            for r in codes_repo.in_batch(conn, bottle_batch["batch_id"], "commissioned")
        )
    }
    ordered = [fresh[b.id] for b in bottles]
    for i, case in enumerate(cases):
        inside = ordered[i * case_size : (i + 1) * case_size]
        custody.pack(conn, case, inside, location="RH-LINE-3", at=at + timedelta(minutes=30))
    packed_cases = [
        codes.to_code(r) for r in codes_repo.in_batch(conn, case_batch["batch_id"], "packed")
    ]
    custody.record_custody(
        conn,
        "stored",
        packed_cases,
        location="GY-WH-A",
        region="贵州 贵阳",
        at=at + timedelta(days=1),
    )
    if shipped:
        moving = [codes.get_code(conn, c.serial) for c in packed_cases[:60]]
        custody.record_custody(
            conn,
            "shipped",
            moving,
            location="CD-WH-1",
            region="四川 成都",
            at=at + timedelta(days=6),
            party="RDC-CHENGDU",
        )
        moving = [codes.get_code(conn, c.serial) for c in moving]
        custody.record_custody(
            conn,
            "received",
            moving,
            location="CD-WH-1",
            region="四川 成都",
            at=at + timedelta(days=7),
            holder_kind="warehouse",
            party="RDC-CHENGDU",
        )


def _readings(now: datetime, rng: random.Random) -> list[storage.RawReading]:
    """Hourly cellar readings for 45 days and 10-minute warehouse readings for 14 days, with a
    hot afternoon in the Guiyang warehouse and a humid night in cellar 2."""
    end = now.replace(minute=0, second=0, microsecond=0)
    out: list[storage.RawReading] = []
    for zone_id, *_ in ZONES:
        cellar = zone_id.startswith("RH-")
        step, days = (timedelta(hours=1), 45) if cellar else (timedelta(minutes=10), 14)
        at = end - timedelta(days=days)
        while at < end:
            for n in (1, 2):
                temp = (18.0 if cellar else 16.0) + rng.uniform(-1.2, 1.2)
                rh = (72.0 if cellar else 58.0) + rng.uniform(-3, 3)
                age = end - at
                if zone_id == "GY-WH-A" and timedelta(days=8, hours=2) < age <= timedelta(
                    days=8, hours=4
                ):
                    temp += 13.5
                if zone_id == "RH-CELLAR-2" and timedelta(days=35) < age <= timedelta(
                    days=35, hours=3
                ):
                    rh += 16
                out.append(
                    storage.RawReading(f"S-{zone_id}-{n}", at, round(temp * 100), round(rh * 10))
                )
            at += step
    return out


def _sample(conn: Any, host: str) -> dict[str, Any]:
    rows = codes_repo.list_codes(conn, None, "received", "bottle", 1, 0) or codes_repo.list_codes(
        conn, None, "packed", "bottle", 1, 0
    )
    if not rows:
        return {"bottle": None}
    code = codes.to_code(rows[0])
    return {"bottle": code.uri(host), "path": code.uri(host).split("/", 3)[3]}
