"""The ordering benchmark: order placement under 50 concurrent clients, and a 1,000-case dispatch.

In a fresh PostgreSQL schema: HQ with a central and five regional warehouses, 50 dealers (one
per client) with their own warehouses, four SKUs priced for their tier, and HQ stock.

* Placement: 50 client threads, spread over one process per CPU as the server's workers would
  be, place orders through ``orders.service.place`` (validate the lines, price them, check
  credit, source over the warehouses, reserve, write order, lines and allocations), one
  transaction per order on the client's own connection. One SKU is
  scarce (fewer cases than the run asks for), so clients collide on its rows and some orders
  are refused; afterwards every reservation is checked against the stock rows (zero oversell).
  Baseline, same database, same run, same clients (the same processes, threads and pools,
  each repetition run right before the placement one, so load from elsewhere hits both alike):
  one-row conditional UPDATEs (``reserved = reserved + 1 WHERE on_hand - reserved >= 1``, one
  transaction each) on a bare table. Target: ≥ 500 orders/s, zero oversell. The client
  processes' CPU per order (the service runs in them) is reported too: unlike rates, it
  barely moves when the machine is shared.
* Dispatch: a 1,000-case order picked with real case codes (commissioned by traceability's
  services and put away), then ``shipments.service.dispatch`` end to end: checks, the
  ``transfer.shipped`` entry with the Merkle root of the codes, code states, custody, stock.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text

from api.auth.service import Principal, Role
from api.catalogue import repository as prices
from api.channel import service as channel
from api.channel.schemas import DealerIn, Location, RegionIn, WarehouseIn
from api.config import Settings
from api.db import Database, make_engine
from api.errors import AppError
from api.log.service import LogService
from api.log.signing import init_signing_key
from api.orders import service as orders
from api.orders.models import OrderAllocation
from api.orders.schemas import OrderIn, OrderLineIn
from api.shipments import putaway as stockroom
from api.shipments import repository as shipment_repo
from api.shipments import service as shipments
from api.stock import repository as stock
from api.stock.models import StockLevel
from api.trace.batches import service as batches
from api.trace.batches.schemas import BatchIn
from api.trace.blending import service as blending
from api.trace.blending.schemas import BaseLiquorIn, BlendIn, BlendInputIn
from api.trace.codes import repository as code_repo
from api.trace.codes.custody import commission
from api.trace.codes.service import CodeKind, generate, to_code
from api.trace.products import service as products
from api.trace.products.schemas import Aroma, ProductIn
from bench.postgres import fresh_schema
from bench.report import Baseline, Options, Row, Target, median, ms, note, p99, rate
from ledger.gs1 import check_digit

ORIGIN = "bench.jiuyuan.local/log"
ROOT = Principal("bench", Role.ADMIN)
CLIENTS = 50
ORDERS_PER_RUN = 5_000
PLENTY = 10_000_000
DISPATCH_CASES = 1_000
TARGET_ORDERS_S = 500.0


def run(options: Options, base_url: str) -> list[Row]:
    orders_per_run = ORDERS_PER_RUN if options.entries >= 1_000_000 else 1_000
    with fresh_schema(base_url, "bench_orders") as url, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=url, data_dir=Path(tmp), log_origin=ORIGIN)
        signer, _ = init_signing_key(settings.resolved_signing_key_file, ORIGIN)
        db = Database(url)
        log = LogService(db, settings, signer, background=False)
        pool = make_engine(url, pool_size=1, max_overflow=0)
        try:
            world = _world(db)
            _raw_table(pool)
            baseline, placement = [], []
            for rep in range(options.reps):
                baseline.append(_placement(url, world, orders_per_run, rep, "raw"))
                placement.append(_placement(url, world, orders_per_run, rep, "orders"))
            oversold = _oversold(db)
            dispatch = [_dispatch(db, log, world, rep) for rep in range(options.reps)]
        finally:
            pool.dispose()
            log.close()
            db.dispose()
    rates = [r["rate"] for r in placement]
    refused = sum(r["refused"] for r in placement)
    placed = sum(r["placed"] for r in placement)
    raw = median([r["rate"] for r in baseline])
    per_order = median(rates)
    cpu, raw_cpu = median([r["cpu"] for r in placement]), median([r["cpu"] for r in baseline])
    runs = ", ".join(f"{x:,.0f}" for x in rates)
    return [
        Row(
            "orders (PostgreSQL)",
            f"order placement, {CLIENTS} clients",
            rate(per_order),
            runs,
            [Baseline("raw 1-row conditional UPDATE, same clients", rate(raw), per_order / raw)],
            [Target(f"≥ {TARGET_ORDERS_S:.0f}/s", per_order >= TARGET_ORDERS_S)],
        ),
        Row(
            "orders (PostgreSQL)",
            "client-process CPU per order (service included)",
            ms(cpu),
            ", ".join(ms(r["cpu"]) for r in placement),
            [Baseline("per raw UPDATE transaction", ms(raw_cpu), cpu / raw_cpu)],
        ),
        Row(
            "orders (PostgreSQL)",
            "order placement p99 latency",
            ms(median([r["p99"] for r in placement])),
            ", ".join(ms(r["p99"]) for r in placement),
            [
                Baseline(
                    "raw UPDATE p99",
                    ms(median([r["p99"] for r in baseline])),
                    median([r["p99"] for r in placement]) / median([r["p99"] for r in baseline]),
                )
            ],
        ),
        Row(
            "orders (PostgreSQL)",
            "orders placed / refused (scarce SKU)",
            f"{placed:,} / {refused:,}",
            f"{options.reps} runs",
        ),
        Row(
            "orders (PostgreSQL)",
            "cases oversold",
            str(oversold),
            "all runs",
            targets=[Target("0", oversold == 0)],
        ),
        Row(
            "orders (PostgreSQL)",
            f"dispatch of a {DISPATCH_CASES:,}-case shipment",
            f"{median([d['dispatch'] for d in dispatch]):.2f} s",
            ", ".join(f"{d['dispatch']:.2f}" for d in dispatch),
        ),
        Row(
            "orders (PostgreSQL)",
            f"picking scan of {DISPATCH_CASES:,} cases (one request)",
            f"{median([d['pick'] for d in dispatch]):.2f} s",
            ", ".join(f"{d['pick']:.2f}" for d in dispatch),
        ),
    ]


# --- the channel -----------------------------------------------------------------------------


def _loc(city: str, lat: float, lon: float) -> Location:
    return Location(admin_code=city, address="bench", lat_e6=int(lat * 1e6), lon_e6=int(lon * 1e6))


def _world(db: Database) -> dict[str, Any]:
    note(f"orders: building HQ, six warehouses, {CLIENTS} dealers and four SKUs")
    now = datetime.now(UTC)
    with db.writer.begin() as conn:
        hq = channel.ensure_hq(conn)
        region = channel.create_region(
            conn, RegionIn(code="R-SC", name="四川大区", admin_codes=["510000", "520000"])
        ).id
        whs = [
            channel.create_warehouse(
                conn,
                ROOT,
                WarehouseIn(code=code, name=code, kind=kind, location=_loc(city, lat, lon)),  # type: ignore[arg-type]
            ).id
            for code, kind, city, lat, lon in [
                ("WH-CENTRAL", "central", "520100", 26.65, 106.63),
                ("WH-CD", "regional", "510100", 30.57, 104.07),
                ("WH-MY", "regional", "510700", 31.47, 104.68),
                ("WH-LS", "regional", "511100", 29.55, 103.77),
                ("WH-ZY", "regional", "520300", 27.73, 106.93),
                ("WH-AS", "regional", "520400", 26.25, 105.95),
            ]
        ]
        dealers = []
        for i in range(CLIENTS):
            dealer = channel.create_dealer(
                conn,
                ROOT,
                DealerIn(
                    code=f"D-{i:03d}",
                    name=f"dealer {i}",
                    region_id=region,
                    tier="gold",
                    credit_limit_fen=10**15,
                    location=_loc("510104", 30.6 + i / 100, 104.0 + i / 100),
                ),
            ).id
            channel.create_warehouse(
                conn,
                ROOT,
                WarehouseIn(
                    code=f"WH-D-{i:03d}",
                    name="仓",
                    kind="dealer",
                    dealer_id=dealer,
                    location=_loc("510104", 30.6, 104.0),
                ),
            )
            dealers.append(dealer)
        skus = []
        for n in range(4):
            body = f"690123459{n:03d}"
            gtin = products.register(
                conn,
                ProductIn(
                    gtin=body + str(check_digit(body)),
                    name_zh=f"酒源·基准 {n}",
                    name_en=f"bench {n}",
                    volume_ml=500,
                    abv_permille=530,
                    aroma=Aroma.JIANG,
                    case_size=6,
                ),
            ).gtin
            prices.upsert_price(conn, hq.party_id, "gold", gtin, 1_788_000, now, "bench")
            skus.append(gtin)
        for wh in whs:
            for gtin in skus[:3]:
                stock.add(conn, wh, gtin, PLENTY)
        # The scarce SKU: less than the runs will ask for, spread over the warehouses.
        for wh in whs:
            stock.add(conn, wh, skus[3], 40)
    return {"hq": hq.party_id, "dealers": dealers, "skus": skus, "central": whs[0]}


# --- placement -------------------------------------------------------------------------------


def _placement(
    url: str, world: dict[str, Any], total: int, rep: int, work: str
) -> dict[str, float]:
    """``CLIENTS`` client threads spread over one process per CPU (as ``jiuyuan serve
    --workers N`` spreads requests), all released at once; the clock runs until the last
    order (``work`` "orders") or raw UPDATE (``work`` "raw") is answered."""
    procs = max(1, os.cpu_count() or 1)
    what = "orders" if work == "orders" else "raw UPDATEs (baseline)"
    note(f"orders: {total:,} {what} from {CLIENTS} clients in {procs} processes (run {rep + 1})")
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(procs + 1)
    results = ctx.Queue()
    shares = [list(range(CLIENTS))[i::procs] for i in range(procs)]
    workers = [
        ctx.Process(
            target=_clients,
            args=(url, world, share, total // CLIENTS, rep, work, start, results),
        )
        for share in shares
    ]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    gathered = [results.get() for _ in workers]
    elapsed = time.perf_counter() - t0
    for w in workers:
        w.join()
    done: Counter[str] = sum((Counter(g["outcomes"]) for g in gathered), Counter())
    unexpected = set(done) - {"placed", "insufficient_stock", "updated"}
    if unexpected:
        raise RuntimeError(f"orders refused for unexpected reasons: {dict(done)}")
    count = sum(done.values())
    return {
        "rate": count / elapsed,
        "cpu": sum(g["cpu"] for g in gathered) / count,
        "p99": p99([x for g in gathered for x in g["latencies"]]),
        "placed": done["placed"],
        "refused": done["insufficient_stock"],
    }


def _clients(
    url: str,
    world: dict[str, Any],
    indices: list[int],
    per_client: int,
    rep: int,
    work: str,
    start: Any,
    results: Any,
) -> None:
    """One process's client threads, each placing ``per_client`` orders for its own dealer
    (or, for the baseline, making ``per_client`` raw UPDATEs)."""
    pool = make_engine(url, pool_size=len(indices), max_overflow=0)
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    skus = world["skus"]
    ready = threading.Barrier(len(indices) + 1)

    def raw(i: int) -> None:
        mine: list[float] = []
        ready.wait()
        for _ in range(per_client):
            t0 = time.perf_counter()
            with pool.begin() as conn:
                conn.execute(RAW_UPDATE)
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            outcomes.update({"updated": per_client})

    def client(i: int) -> None:
        dealer = world["dealers"][i]
        mine: list[float] = []
        seen: Counter[str] = Counter()
        ready.wait()
        for k in range(per_client):
            lines = [
                OrderLineIn(gtin=skus[k % 3], cases=1 + k % 5),
                OrderLineIn(gtin=skus[3] if k % 4 == 0 else skus[(k + 1) % 3], cases=1),
            ]
            body = OrderIn(buyer_id=dealer, client_key=f"B{rep}-{i}-{k}", lines=lines)
            t0 = time.perf_counter()
            try:
                with pool.begin() as conn:
                    orders.place(conn, ROOT, body, "hq-first")
                seen["placed"] += 1
            except AppError as exc:
                seen[exc.code] += 1
            except Exception as exc:  # counted, so that the run fails loudly rather than short
                seen[f"{type(exc).__name__}: {exc}"[:200]] += 1
            mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)
            outcomes.update(seen)

    body = client if work == "orders" else raw
    threads = [threading.Thread(target=body, args=(i,)) for i in indices]
    for t in threads:
        t.start()
    start.wait()
    cpu = time.process_time()
    ready.wait()
    for t in threads:
        t.join()
    cpu = time.process_time() - cpu
    pool.dispose()
    results.put({"latencies": latencies, "outcomes": dict(outcomes), "cpu": cpu})


def _oversold(db: Database) -> int:
    """Cases reserved beyond what is on hand, or held by allocations but not by stock rows."""
    levels, allocs = StockLevel.__table__, OrderAllocation.__table__
    with db.engine.connect() as conn:
        over = conn.execute(
            select(func.coalesce(func.sum(levels.c.reserved - levels.c.on_hand), 0)).where(
                levels.c.reserved > levels.c.on_hand
            )
        ).scalar_one()
        held = conn.execute(select(func.coalesce(func.sum(levels.c.reserved), 0))).scalar_one()
        allocated = conn.execute(select(func.coalesce(func.sum(allocs.c.reserved), 0))).scalar_one()
    return int(over) + abs(int(held) - int(allocated))


RAW_UPDATE = text(
    "UPDATE bench_raw_stock SET reserved = reserved + 1 WHERE id = 1 AND on_hand - reserved >= 1"
)


def _raw_table(pool: Engine) -> None:
    with pool.begin() as conn:
        conn.execute(
            text(
                "CREATE TABLE bench_raw_stock (id int PRIMARY KEY, on_hand bigint, reserved bigint)"
            )
        )
        conn.execute(text("INSERT INTO bench_raw_stock VALUES (1, :n, 0)"), {"n": PLENTY})


# --- dispatch --------------------------------------------------------------------------------


def _dispatch(db: Database, log: LogService, world: dict[str, Any], rep: int) -> dict[str, float]:
    note(f"orders: a {DISPATCH_CASES:,}-case shipment, codes to dispatch (run {rep + 1})")
    gtin = world["skus"][0]
    tag = f"{rep}{int(time.time()) % 100000}"
    with db.writer.begin() as conn:
        blending.register_base_liquor(
            conn,
            BaseLiquorIn(
                lot=f"BB{tag}",
                tank="T",
                distillery="d",
                vintage=2020,
                grade="优级",
                abv_permille=530,
                volume_ml=10**10,
            ),
        )
        blending.record_blend(
            conn,
            BlendIn(
                blend_no=f"BD{tag}",
                blender="b",
                blended_on=date(2026, 11, 1),
                abv_permille=530,
                inputs=[BlendInputIn(lot=f"BB{tag}", volume_ml=10**9)],
            ),
        )
        batches.create(
            conn,
            BatchIn(
                lot=f"L{tag}",
                gtin=gtin,
                blend_no=f"BD{tag}",
                line="3",
                bottled_on=date(2026, 11, 2),
                planned_qty=DISPATCH_CASES * 6,
            ),
        )
        made = generate(conn, f"L{tag}", DISPATCH_CASES, CodeKind.CASE)
        codes = [to_code(r) for r in code_repo.in_batch(conn, made["batch_id"], "generated")]
        commission(conn, f"L{tag}", codes, location="line 3")
        stockroom.putaway(conn, ROOT, world["central"], [c.serial for c in codes])
        # Take everything else at the central warehouse out of reach, so sourcing picks it.
        order, _ = orders.place(
            conn,
            ROOT,
            OrderIn(
                buyer_id=world["dealers"][0],
                client_key=f"DISPATCH-{tag}",
                lines=[OrderLineIn(gtin=gtin, cases=DISPATCH_CASES)],
            ),
            "hq-first",
        )
        orders.confirm(conn, ROOT, order.id, "")
        orders.allocate(conn, ROOT, order.id, "")
        [shipment] = shipment_repo.for_order(conn, order.id)
    log.relay()
    serials = [c.serial for c in codes]
    t0 = time.perf_counter()
    with db.writer.begin() as conn:
        shipments.pick(conn, ROOT, shipment.shipment_id, serials)
    pick = time.perf_counter() - t0
    t0 = time.perf_counter()
    with db.writer.begin() as conn:
        shipments.dispatch(conn, ROOT, shipment.shipment_id)
    log.relay()  # end to end: the transfer.shipped entry is sequenced on the ledger
    return {"pick": pick, "dispatch": time.perf_counter() - t0}
