"""The channel's demo for ``make run``: HQ, 32 regions, a few hundred dealers, a few thousand
stores, six HQ warehouses and one per dealer, price lists, one login per role, and orders
flowing through their states with real case codes scanned out and in, so that codes have
custody on the ledger. Seeded once; afterwards only the logins are shown again.

It runs after the traceability demo and puts that demo's stored cases into HQ's stock (plus
fresh case codes of its own), through the same services the HTTP API uses.
"""

from __future__ import annotations

import os
import random
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from api.auth.service import Principal, Role, create_api_key
from api.auth.users import create_user
from api.catalogue import repository as prices
from api.channel import repository as repo
from api.channel import service as channel
from api.channel.admin_codes import PROVINCES
from api.channel.schemas import Location, RegionIn, WarehouseIn
from api.log.service import LogService
from api.orders import service as orders
from api.orders.schemas import OrderIn, OrderLineIn
from api.shipments import putaway as stockroom
from api.shipments import repository as shipment_repo
from api.shipments import service as shipments
from api.trace.codes import repository as code_repo
from api.trace.codes.custody import commission
from api.trace.codes.service import CodeKind, CodeState, generate, to_code
from api.trace.products import repository as products

ROOT = Principal("demo", Role.ADMIN)
DEALERS_PER_REGION = 10
STORES_PER_DEALER = 10
TIERS = (("gold", 1_788_000), ("silver", 1_838_000), ("bronze", 1_888_000))  # fen per case
STORE_MARKUP_PERMILLE = 1150
MAINLAND = [c for c in PROVINCES if c < "700000"]
REGIONAL_WAREHOUSES = [  # (code, name, admin code of the city)
    ("WH-CD", "成都区域仓", "510100"),
    ("WH-GZ", "广州区域仓", "440100"),
    ("WH-SH", "上海区域仓", "310100"),
    ("WH-BJ", "北京区域仓", "110100"),
    ("WH-WH", "武汉区域仓", "420100"),
]


def seed(log: LogService, data_dir: Path) -> list[str]:
    """Seed the channel demo once; return the demo logins as lines to print."""
    logins = data_dir / "demo-logins.txt"
    with log.db.engine.connect() as conn:
        seeded = repo.count_parties(conn, "region") > 0
    if seeded:
        return logins.read_text().splitlines() if logins.exists() else []
    rng = random.Random(20261125)
    with log.db.writer.begin() as conn:
        ids = _parties(conn, rng)
        _prices(conn, ids)
        lines = _logins(conn, ids)
    _write_private(logins, lines)
    cases = _stock(log, ids, rng)
    _orders(log, ids, cases, rng)
    log.relay()
    log.checkpoint_now()
    return lines


# --- parties ---------------------------------------------------------------------------------


_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")


def short_name(province: str) -> str:
    """A province's name as people say it (黑龙江省 → 黑龙江, 内蒙古自治区 → 内蒙古, 广西壮族自治区
    → 广西), not its first two characters."""
    for suffix in _SUFFIXES:
        if province.endswith(suffix):
            return province[: -len(suffix)]
    return province


def _jitter(rng: random.Random, lat: int, lon: int, spread: int = 150_000) -> tuple[int, int]:
    return lat + rng.randint(-spread, spread), lon + rng.randint(-spread, spread)


def _parties(conn: Connection, rng: random.Random) -> dict[str, Any]:
    now = datetime.now(UTC)
    hq = channel.ensure_hq(conn, "酒源酒业集团总部")
    regions: dict[str, str] = {}  # capital city code -> region id
    for code in MAINLAND:
        province = PROVINCES[code]
        areas = [code]
        region = channel.create_region(
            conn,
            RegionIn(
                code=f"R-{code[:2]}", name=f"{short_name(province.name)}大区", admin_codes=areas
            ),
        )
        regions[code[:2] + "0100"] = region.id
    shenzhen = channel.create_region(
        conn, RegionIn(code="R-4403", name="深圳大区", admin_codes=["440300"])
    )
    regions["440300"] = shenzhen.id
    centres = {
        c: (PROVINCES[c[:2] + "0000"].lat_e6, PROVINCES[c[:2] + "0000"].lon_e6) for c in regions
    }
    centres["440300"] = (22_543_100, 114_057_900)

    warehouses = [("WH-CENTRAL", "贵阳中央仓", "central", "520100")] + [
        (code, name, "regional", city) for code, name, city in REGIONAL_WAREHOUSES
    ]
    hq_warehouses = []
    for code, name, kind, city in warehouses:
        lat, lon = centres[city]
        hq_warehouses.append(
            channel.create_warehouse(
                conn,
                ROOT,
                WarehouseIn(
                    code=code,
                    name=name,
                    kind=kind,  # type: ignore[arg-type]
                    location=Location(
                        admin_code=city, address=f"{name} 1号库", lat_e6=lat, lon_e6=lon
                    ),
                ),
            ).id
        )

    dealers: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    links: list[tuple[str, str]] = []
    for n_region, (city, region_id) in enumerate(sorted(regions.items())):
        for k in range(DEALERS_PER_REGION):
            dealer_id = channel.new_party_id("dealer")
            lat, lon = _jitter(rng, *centres[city])
            tier = TIERS[(n_region + k) % 3][0]
            number = n_region * DEALERS_PER_REGION + k + 1
            rows.append(
                _party(
                    dealer_id,
                    "dealer",
                    f"D{number:04d}",
                    f"{_city_name(city)}经销商{k + 1:02d}",
                    now,
                    region_id=region_id,
                    dealer_id=dealer_id,
                    tier=tier,
                    credit_limit_fen=rng.choice((20, 50, 100)) * 1_000_000_00,
                    admin_code=city,
                    address=f"{_city_name(city)}商贸路{number}号",
                    lat_e6=lat,
                    lon_e6=lon,
                )
            )
            warehouse_id = channel.new_party_id("warehouse")
            rows.append(
                _party(
                    warehouse_id,
                    "warehouse",
                    f"WH-D{number:04d}",
                    f"D{number:04d} 仓库",
                    now,
                    region_id=region_id,
                    dealer_id=dealer_id,
                    warehouse_kind="dealer",
                    admin_code=city,
                    address=f"{_city_name(city)}物流园{number}号",
                    lat_e6=lat + 5_000,
                    lon_e6=lon + 5_000,
                )
            )
            links.append((dealer_id, region_id))
            stores = []
            for s in range(STORES_PER_DEALER):
                store_id = channel.new_party_id("store")
                slat, slon = _jitter(rng, lat, lon, 40_000)
                rows.append(
                    _party(
                        store_id,
                        "store",
                        f"S{number:04d}-{s + 1:02d}",
                        f"{_city_name(city)}名酒行{number}-{s + 1}",
                        now,
                        region_id=region_id,
                        dealer_id=dealer_id,
                        tier="standard",
                        admin_code=city,
                        address=f"{_city_name(city)}中山路{s + 1}号",
                        lat_e6=slat,
                        lon_e6=slon,
                    )
                )
                stores.append(store_id)
            dealers.append(
                {
                    "id": dealer_id,
                    "warehouse": warehouse_id,
                    "stores": stores,
                    "region": region_id,
                    "tier": tier,
                }
            )
    # Bulk inserts: every value above was built from checked reference data.
    for i in range(0, len(rows), 1000):
        repo.insert_parties(conn, rows[i : i + 1000])
    for dealer_id, region_id in links:
        repo.set_dealer_regions(conn, dealer_id, [region_id])
    sichuan = regions["510100"]
    return {
        "hq": hq.party_id,
        "regions": regions,
        "sichuan": sichuan,
        "warehouses": hq_warehouses,
        "dealers": dealers,
    }


def _party(
    party_id: str, kind: str, code: str, name: str, now: datetime, **values: Any
) -> dict[str, Any]:
    base = dict.fromkeys(
        (
            "region_id",
            "dealer_id",
            "tier",
            "credit_limit_fen",
            "share_permille",
            "warehouse_kind",
            "admin_code",
            "address",
            "lat_e6",
            "lon_e6",
        ),
    )
    return {
        **base,
        "party_id": party_id,
        "kind": kind,
        "code": code,
        "name": name,
        "created_at": now,
        **values,
    }


def _city_name(city: str) -> str:
    return "深圳" if city == "440300" else PROVINCES[city[:2] + "0000"].capital


def _prices(conn: Connection, ids: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    skus = [r["gtin"] for r in products.list_all(conn)]
    for gtin in skus:
        for tier, fen in TIERS:
            prices.upsert_price(conn, ids["hq"], tier, gtin, fen, now, "demo")
        for dealer in ids["dealers"]:
            fen = dict(TIERS)[dealer["tier"]] * STORE_MARKUP_PERMILLE // 1000
            prices.upsert_price(conn, dealer["id"], "standard", gtin, fen, now, "demo")


def _logins(conn: Connection, ids: dict[str, Any]) -> list[str]:
    sichuan_dealer = next(d for d in ids["dealers"] if d["region"] == ids["sichuan"])
    people = [
        ("hq.admin", Role.HQ_ADMIN, None),
        ("rm.sichuan", Role.REGION_MANAGER, ids["sichuan"]),
        ("dealer.chengdu", Role.DEALER_STAFF, sichuan_dealer["id"]),
        ("clerk.chengdu", Role.STORE_CLERK, sichuan_dealer["stores"][0]),
        ("compliance", Role.COMPLIANCE_OFFICER, None),
    ]
    lines = ["demo logins (POST /v1/auth/token; shown again on every `make run`):"]
    for username, role, scope in people:
        password = secrets.token_urlsafe(12)
        create_user(conn, username, role.value, password, scope=scope)
        where = f" for {scope}" if scope else ""
        lines.append(f"  {role.value:<19} {username:<15} password {password}{where}")
    key = create_api_key(conn, "device", "demo scanner", ids["warehouses"][0])
    lines.append(f"  {'device':<19} {'API key':<15} {key} (scanner of WH-CENTRAL)")
    return lines


def _write_private(path: Path, lines: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")


# --- stock and orders ------------------------------------------------------------------------


def _stock(log: LogService, ids: dict[str, Any], rng: random.Random) -> list[str]:
    """Put the traceability demo's stored cases and fresh case codes into HQ's warehouses."""
    with log.db.engine.connect() as conn:
        stored = list(
            conn.execute(
                select(code_repo.codes.c.serial).where(
                    code_repo.codes.c.kind == CodeKind.CASE.value,
                    code_repo.codes.c.state == CodeState.STORED.value,
                )
            ).scalars()
        )
        lots = [(r["lot"], r["gtin"]) for r in _batches(conn)]
    with log.db.writer.begin() as conn:
        fresh: list[str] = []
        for lot, _gtin in lots:
            batch = generate(conn, lot, 400, CodeKind.CASE)
            made = [to_code(r) for r in code_repo.in_batch(conn, batch["batch_id"], "generated")]
            commission(conn, lot, made, location="RH-LINE-3", region="贵州 仁怀")
            fresh += [c.serial for c in made]
    everything = stored + fresh
    rng.shuffle(everything)
    warehouses = ids["warehouses"]
    with log.db.writer.begin() as conn:
        for i, warehouse in enumerate(warehouses):
            share = everything[i :: len(warehouses)]
            for j in range(0, len(share), 2000):
                stockroom.putaway(conn, ROOT, warehouse, share[j : j + 2000])
    log.relay()
    return everything


def _batches(conn: Connection) -> list[Any]:
    from api.trace.batches import repository as batches

    return list(batches.list_all(conn))


def _orders(log: LogService, ids: dict[str, Any], cases: list[str], rng: random.Random) -> None:
    """Dealers order from HQ and stores from dealers; most orders go all the way through."""
    with log.db.engine.connect() as conn:
        skus = [r["gtin"] for r in products.list_all(conn)]
    if len(skus) < 2:
        return  # no catalogue to order from (the traceability demo seeds it)
    dealers = rng.sample(ids["dealers"], 40)
    for n, dealer in enumerate(dealers):
        with log.db.writer.begin() as conn:
            lines = [OrderLineIn(gtin=g, cases=rng.randint(3, 12)) for g in rng.sample(skus, 2)]
            order, _ = orders.place(
                conn,
                ROOT,
                OrderIn(buyer_id=dealer["id"], client_key=f"DEMO-PO-{n:03d}", lines=lines),
                "hq-first",
            )
            stage = n % 8
            if stage == 0:
                continue  # left submitted
            if stage == 1:
                orders.cancel(conn, ROOT, order.id, "dealer changed the mix")
                continue
            orders.confirm(conn, ROOT, order.id, "")
            if stage == 2:
                continue
            orders.allocate(conn, ROOT, order.id, "")
        _ship(log, order.id, receive=stage >= 4, lose_one=stage == 5)
        if stage >= 6:
            _store_orders(log, dealer, skus, rng, n)
        log.relay()


def _ship(log: LogService, order_id: str, *, receive: bool, lose_one: bool) -> None:
    with log.db.writer.begin() as conn:
        for s in shipment_repo.for_order(conn, order_id):
            wanted = shipment_repo.lines_of(conn, s.shipment_id)
            picked: list[str] = []
            for gtin, n in wanted.items():
                picked += _held(conn, s.from_warehouse_id or "", gtin, n)
            shipments.pick(conn, ROOT, s.shipment_id, picked)
            shipments.dispatch(conn, ROOT, s.shipment_id)
            if receive:
                arrived = picked[1:] if lose_one else picked
                shipments.receive(conn, ROOT, s.shipment_id, arrived)


def _held(conn: Connection, warehouse_id: str, gtin: str, n: int) -> list[str]:
    table = shipment_repo.custody
    return list(
        conn.execute(
            select(table.c.serial)
            .where(
                table.c.warehouse_id == warehouse_id,
                table.c.gtin == gtin,
                table.c.state == "held",
            )
            .order_by(table.c.serial)
            .limit(n)
        ).scalars()
    )


def _store_orders(
    log: LogService, dealer: dict[str, Any], skus: list[str], rng: random.Random, n: int
) -> None:
    for k, store in enumerate(dealer["stores"][:2]):
        with log.db.writer.begin() as conn:
            stocked = {lv.gtin for lv in _levels(conn, dealer["warehouse"]) if lv.available >= 2}
            if not stocked:
                return
            gtin = sorted(stocked)[0]
            order, _ = orders.place(
                conn,
                ROOT,
                OrderIn(
                    buyer_id=store,
                    client_key=f"DEMO-SO-{n:03d}-{k}",
                    lines=[OrderLineIn(gtin=gtin, cases=rng.randint(1, 2))],
                ),
                "hq-first",
            )
            orders.confirm(conn, ROOT, order.id, "")
            orders.allocate(conn, ROOT, order.id, "")
        _ship(log, order.id, receive=True, lose_one=False)


def _levels(conn: Connection, warehouse_id: str) -> list[Any]:
    from api.stock import repository as stock

    return stock.read(conn, [warehouse_id])
