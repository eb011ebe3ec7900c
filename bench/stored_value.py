"""The stored-value benchmark: top-ups and spends from 50 concurrent clients on PostgreSQL.

In a fresh schema: one store, 10 hot members and 10,000 cold ones (rows inserted in bulk,
then each card topped up with 2,500.00 CNY through the service, unmeasured). Then 50 client
threads — spread over as many processes as there are CPUs (at most 4), as ``jiuyuan serve
--workers`` would spread requests — send operations through the real service, as the
endpoints do: ``optimistically`` + ``operations.spend`` / ``operations.top_up`` (idempotency
key, conditional UPDATE on the card's version, journal entry and postings, the ledger entry
staged in the same atomic booking; a transaction with the row lock when the card keeps
moving); half of them to a hot member, half to a random cold one, half spends and half top-ups
of 1.00–10.00 CNY. The log worker relays the staged entries to the ledger while the clients run;
the figure counts operations committed, the ledger's catch-up is shown beside it. The HTTP
layer (FastAPI, JSON) is not part of the figure.

Baseline, same database, same run: the same clients, processes, pool, key skew and mix as raw
one-row conditional UPDATEs (``balance = balance ± a WHERE id = :id AND balance >= a``) on a
bare table, one transaction each; each service run is followed by a raw run, so that a change
in the machine's load weighs on both. Beside the rates: the CPU per operation of the client
processes and of the server processes of their connections (read from /proc), to show where
the time goes, and the share of operations whose card kept moving until they locked it.
Afterwards the comparison of ``jiuyuan stored-value check`` must find the books equal to the
ledger's projection.

Target (issue 5): ≥ 1,000 operations/s with hot-member contention, ≥ 0.3 of the raw loop.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import random
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Table, func, select, text

from api.auth.service import Principal, Role
from api.channel import service as channel
from api.channel.schemas import DealerIn, Location, RegionIn, StoreIn
from api.config import Settings
from api.db import Database, make_engine
from api.errors import AppError
from api.log.service import LogService
from api.log.signing import init_signing_key
from api.models import OutboxEntry
from api.stored_value import operations, transactions
from api.stored_value.accounts import PaymentMethod
from api.stored_value.counter import counter_at
from api.stored_value.idempotency import RequestKey
from api.stored_value.models import Member, StoredValueAccount
from api.stored_value.privacy import MemberKeys
from api.stored_value.projection import check
from api.stored_value.rules import Rules
from api.stored_value.schemas import SpendIn, TopUpIn
from api.stored_value.transactions import optimistically
from bench.postgres import fresh_schema
from bench.report import Baseline, Options, Row, Target, median, ms, note, p99, rate

ORIGIN = "bench.jiuyuan.local/log"
ROOT = Principal("bench", Role.ADMIN)
CLIENTS = 50
HOT, COLD = 10, 10_000
HOT_SHARE = 0.5
OPENING_FEN = 250_000
TARGET_OPS_S = 1_000.0
TARGET_RATIO = 0.3
SECTION = "stored value (PostgreSQL)"


def run(options: Options, base_url: str) -> list[Row]:
    per_run = 10_000 if options.entries >= 1_000_000 else 3_000
    processes = max(1, min(4, os.cpu_count() or 1))
    with fresh_schema(base_url, "bench_sv") as url, tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=url, data_dir=Path(tmp), log_origin=ORIGIN, checkpoint_interval_s=1.0
        )
        signer, _ = init_signing_key(settings.resolved_signing_key_file, ORIGIN)
        db = Database(url)
        log = LogService(db, settings, signer, background=True)
        try:
            store, members = _world(db)
            job = Job(url, store, members, 0, 0, len(members), "open", opening=True)
            note(f"stored value: opening top-ups of {len(members):,} cards (not measured)")
            _drive(job, processes)
            _drain(db, log)
            _raw_table(url)
            runs, raws = [], []
            # Each service run is followed by a raw run, so that a machine whose load changes
            # during the benchmark weighs on both figures alike.
            for rep in range(options.reps):
                note(
                    f"stored value: {per_run:,} operations, {CLIENTS} clients in {processes} "
                    f"processes, then the raw conditional UPDATE loop alike (run {rep + 1})"
                )
                measured = replace(job, total=per_run, tag=f"run{rep}", opening=False)
                runs.append(_drive(measured, processes))
                runs[-1]["catch_up"] = _drain(db, log)
                raws.append(_drive(replace(measured, raw=True), processes))
            raw = [r["rate"] for r in raws]
            snapshot = db.engine.connect().execution_options(isolation_level="REPEATABLE READ")
            with snapshot as conn, conn.begin():
                audit = check(conn)
        finally:
            log.close()
            db.dispose()
    rates = [r["rate"] for r in runs]
    ours, baseline = median(rates), median(raw)
    refused = sum(r["refused"] for r in runs)
    return [
        Row(
            SECTION,
            f"top-ups and spends, {CLIENTS} clients, {HOT} hot + {COLD:,} cold members",
            rate(ours),
            ", ".join(f"{x:,.0f}" for x in rates),
            [Baseline("raw 1-row conditional UPDATE, same skew", rate(baseline), ours / baseline)],
            [
                Target(f"≥ {TARGET_OPS_S:,.0f}/s", ours >= TARGET_OPS_S),
                Target(f"≥ {TARGET_RATIO} of raw", ours / baseline >= TARGET_RATIO),
            ],
        ),
        Row(
            SECTION,
            "operation p99 latency",
            ms(median([r["p99"] for r in runs])),
            ", ".join(ms(r["p99"]) for r in runs),
            [_baseline("raw loop p99", runs, raws, "p99")],
        ),
        Row(
            SECTION,
            "client processes' CPU per operation",
            ms(median([r["cpu"] for r in runs])),
            ", ".join(ms(r["cpu"]) for r in runs),
            [_baseline("raw loop", runs, raws, "cpu")],
        ),
        Row(
            SECTION,
            "their server processes' CPU per operation",
            ms(median([r["server_cpu"] for r in runs])),
            ", ".join(ms(r["server_cpu"]) for r in runs),
            [_baseline("raw loop", runs, raws, "server_cpu")],
        ),
        Row(
            SECTION,
            "operations that fell back to locking the card (it kept moving)",
            f"{median([r['fell_back'] for r in runs]):.1%}",
            ", ".join(f"{r['fell_back']:.1%}" for r in runs),
        ),
        Row(
            SECTION,
            "ledger catch-up after the last operation",
            f"{median([r['catch_up'] for r in runs]):.2f} s",
            ", ".join(f"{r['catch_up']:.2f}" for r in runs),
        ),
        Row(
            SECTION,
            "operations refused (balance or cap)",
            f"{refused:,}",
            f"{options.reps} runs",
        ),
        Row(
            SECTION,
            "books vs ledger projection: differences",
            str(len(audit.problems)),
            f"{audit.entries:,} entries",
            targets=[Target("0", not audit.problems)],
        ),
    ]


def _baseline(
    name: str, runs: list[dict[str, Any]], raws: list[dict[str, Any]], what: str
) -> Baseline:
    ours, theirs = median([r[what] for r in runs]), median([r[what] for r in raws])
    return Baseline(name, ms(theirs), ours / theirs)


# --- the store and its members ---------------------------------------------------------------


def _world(db: Database) -> tuple[str, list[str]]:
    note(f"stored value: one store, {HOT + COLD:,} members")
    at = Location(admin_code="510104", address="bench", lat_e6=30_657_000, lon_e6=104_081_000)
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        channel.ensure_hq(conn)
        region = channel.create_region(
            conn, RegionIn(code="R-SC", name="四川大区", admin_codes=["510000"])
        ).id
        dealer = channel.create_dealer(
            conn,
            ROOT,
            DealerIn(
                code="D-1",
                name="dealer",
                region_id=region,
                tier="gold",
                credit_limit_fen=0,
                location=at,
            ),
        ).id
        store = channel.create_store(
            conn, ROOT, dealer, StoreIn(code="S-1", name="store", location=at)
        ).id
        members = [f"mb_{uuid.uuid4().hex}" for _ in range(HOT + COLD)]
        conn.execute(
            cast(Table, Member.__table__).insert(),
            [
                {
                    "member_id": m,
                    "issuer_id": store,
                    "home_store_id": store,
                    "real_name": True,
                    "token_generation": 1,
                    "created_at": now,
                    "erased_at": None,
                    "registered_entry_id": str(uuid.uuid4()),
                    "real_name_entry_id": None,
                }
                for m in members
            ],
        )
        conn.execute(
            cast(Table, StoredValueAccount.__table__).insert(),
            [
                {
                    "member_id": m,
                    "issuer_id": store,
                    "principal_fen": 0,
                    "bonus_fen": 0,
                    "debit_count": 0,
                    "updated_at": now,
                }
                for m in members
            ],
        )
    return store, members


@dataclass(frozen=True)
class Job:
    """What one client process does: ``threads`` clients, ``total`` operations between them."""

    url: str
    store: str
    members: list[str]
    threads: int
    first: int  # the process's first client number
    total: int
    tag: str
    raw: bool = False
    opening: bool = False


def _client_process(job: Job, ready: Any, results: Any) -> None:
    """A client process: its own engine and threads; waits for the start, reports back."""
    # A connection per client thread, as a server sized by JIUYUAN_DATABASE_POOL_SIZE would
    # hold; the raw loop uses the same pool.
    db = Database(job.url, pool_size=job.threads, max_overflow=0)
    engine = db.engine
    keys = MemberKeys(random.randbytes(32))
    rules = Rules()
    latencies: list[list[float]] = [[] for _ in range(job.threads)]
    outcomes: list[Counter[str]] = [Counter() for _ in range(job.threads)]
    start = threading.Barrier(job.threads + 1)
    backends: set[int] = set()  # the server processes of this process's connections
    fallbacks = _Fallbacks()

    def operate(kind: str, member: str, amount: int, txn: str) -> None:
        key = RequestKey(job.store, txn)

        def work(conn: Connection) -> Any:
            counter = counter_at(conn, job.store)
            if kind == "spend":
                body: Any = SpendIn(store_id=job.store, member_id=member, amount_fen=amount)
                return operations.spend(conn, keys, rules, counter, key, body)
            body = TopUpIn(
                store_id=job.store,
                member_id=member,
                paid_fen=amount,
                payment_method=PaymentMethod.WECHAT,
            )
            return operations.top_up(conn, keys, rules, counter, key, body)

        optimistically(db, work)

    def raw_update(kind: str, member: str, amount: int, _: str) -> None:
        with engine.begin() as conn:
            conn.execute(RAW_SPEND if kind == "spend" else RAW_TOP_UP, {"a": amount, "id": member})

    act = raw_update if job.raw else operate

    def client(t: int) -> None:
        number = job.first + t
        rng = random.Random(f"{job.tag}-{number}")
        try:
            for _ in range(2):  # open this thread's connection before the clock starts
                with engine.connect() as conn:
                    backends.add(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())
        except Exception as exc:  # reported by _drive, instead of a run that never ends
            outcomes[t][f"failed: {type(exc).__name__}: {exc}"] += 1
            return
        finally:
            start.wait()
        for k in range(number, job.total, CLIENTS):
            if job.opening:
                kind, member, amount = "top_up", job.members[k], OPENING_FEN
            else:
                kind, member, amount = _pick(rng, job.members, job.raw)
            t0 = time.perf_counter()
            try:
                act(kind, member, amount, f"{job.tag}-{k}")
                outcomes[t]["ok"] += 1
            except AppError as exc:
                outcomes[t][exc.code] += 1
            except Exception as exc:
                outcomes[t][f"failed: {type(exc).__name__}: {exc}"] += 1
                return
            latencies[t].append(time.perf_counter() - t0)

    threads = [threading.Thread(target=client, args=(t,)) for t in range(job.threads)]
    for thread in threads:
        thread.start()
    ready.wait()  # every process is up: go
    before = os.times()
    cpu0 = before.user + before.system
    start.wait()
    server0 = _server_cpu(backends)
    for thread in threads:
        thread.join()
    done = sum(outcomes, Counter())
    cpu = os.times()
    server = _server_cpu(backends) - server0
    latency = [x for per in latencies for x in per]
    fallbacks.close()
    results.put((dict(done), latency, cpu.user + cpu.system - cpu0, server, fallbacks.count))
    engine.dispose()


class _Fallbacks(logging.Handler):
    """Counts, from their log records, the operations that the card's moving made lock it
    (``Desk.settle``) or run in a transaction (``optimistically``), in this process from now
    until closed."""

    LOGGERS = (operations.__name__, transactions.__name__)

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self._levels: dict[str, int] = {}
        for name in self.LOGGERS:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.DEBUG)
            logger.addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if str(record.msg).startswith("a stored-value operation runs"):
            self.count += 1

    def close(self) -> None:
        for name, level in self._levels.items():
            logger = logging.getLogger(name)
            logger.removeHandler(self)
            logger.setLevel(level)
        super().close()


def _drive(job: Job, processes: int) -> dict[str, Any]:
    """Run ``CLIENTS`` clients over ``processes`` processes; the rate is over the wall clock
    from the common start to the last client's finish."""
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(processes + 1)
    results = context.Queue()
    share = [CLIENTS // processes + (1 if p < CLIENTS % processes else 0) for p in range(processes)]
    workers = []
    first = 0
    for p in range(processes):
        part = replace(job, threads=share[p], first=first)
        first += share[p]
        workers.append(context.Process(target=_client_process, args=(part, ready, results)))
    for w in workers:
        w.start()
    ready.wait()
    t0 = time.perf_counter()
    collected = [results.get() for _ in workers]
    elapsed = time.perf_counter() - t0
    for w in workers:
        w.join()
        if w.exitcode != 0:
            raise RuntimeError(f"a client process failed (exit code {w.exitcode})")
    done: Counter[str] = sum((Counter(c) for c, *_ in collected), Counter())
    unexpected = set(done) - {"ok", "insufficient_balance", "cap_exceeded"}
    if unexpected:
        raise RuntimeError(f"operations refused for unexpected reasons: {dict(done)}")
    return {
        "rate": sum(done.values()) / elapsed,
        "p99": p99([x for _, lat, *_ in collected for x in lat]),
        "cpu": sum(c[2] for c in collected) / sum(done.values()),
        "server_cpu": sum(c[3] for c in collected) / sum(done.values()),
        "refused": sum(done.values()) - done["ok"],
        "fell_back": sum(c[4] for c in collected) / sum(done.values()),
    }


RAW_SPEND = text(
    "UPDATE bench_raw_balances SET balance = balance - :a WHERE id = :id AND balance >= :a"
)
RAW_TOP_UP = text("UPDATE bench_raw_balances SET balance = balance + :a WHERE id = :id")


def _server_cpu(pids: set[int]) -> float:
    """CPU seconds the PostgreSQL server processes ``pids`` have used (from /proc: the
    benchmark's server runs on this machine); NaN where that cannot be read."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            return math.nan
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def _pick(rng: random.Random, members: list[str], raw: bool) -> tuple[str, Any, int]:
    n = rng.randrange(HOT) if rng.random() < HOT_SHARE else HOT + rng.randrange(COLD)
    kind = "spend" if rng.random() < 0.5 else "top_up"
    return kind, n if raw else members[n], rng.randrange(100, 1_001)


def _drain(db: Database, log: LogService) -> float:
    """Seconds until every staged entry is on the ledger."""
    t0 = time.perf_counter()
    log.wake()
    outbox = OutboxEntry.__table__
    while True:
        with db.engine.connect() as conn:
            left = conn.execute(select(func.count()).select_from(outbox)).scalar_one()
        if not left:
            return time.perf_counter() - t0
        time.sleep(0.01)


def _raw_table(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_raw_balances"))
        conn.execute(text("CREATE TABLE bench_raw_balances (id int PRIMARY KEY, balance bigint)"))
        conn.execute(
            text("INSERT INTO bench_raw_balances SELECT g, :b FROM generate_series(0, :n) g"),
            {"b": OPENING_FEN, "n": HOT + COLD - 1},
        )
    engine.dispose()
