"""Row 2: inclusion and consistency proofs from the stored tree, beside a one-row read.

Arguments are random: tree sizes drawn from those whose roots the build computed on its own, so
every proof timed here is then verified against an independently computed root.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from api.db import Database
from api.log import proofs
from api.log import repository as repo
from bench.ledger.big_log import BigLog
from bench.report import Baseline, Options, Row, Target, median, ms, p99
from ledger.merkle import verify_consistency, verify_inclusion

TARGET_S = 0.001
T = TypeVar("T")
_WARM_UP = 20


def measure(db: Database, log: BigLog, options: Options) -> list[Row]:
    rng = random.Random(7)
    sizes = sorted(log.roots)
    times: dict[str, list[list[float]]] = {"read": [], "inclusion": [], "consistency": []}
    checked = 0
    with db.engine.connect() as conn:
        for rep in range(options.reps + 1):
            calls = _WARM_UP if rep == 0 else options.proof_calls
            timed: dict[str, list[float]] = {name: [] for name in times}
            for _ in range(calls):
                # Interleaved, so that a noisy moment hits the baseline as much as the proofs.
                seq = rng.randrange(log.size)
                if _timed(timed["read"], _read, conn, seq) != log.leaves[seq]:
                    raise AssertionError(f"seq {seq} read back a different leaf hash")
                size = rng.choice(sizes)
                index = rng.randrange(size)
                path = _timed(timed["inclusion"], proofs.inclusion_proof, conn, index, size)
                verify_inclusion(log.leaves[index], index, size, path, log.roots[size])
                old, new = sorted(rng.sample(sizes, 2))
                link = _timed(timed["consistency"], proofs.consistency_proof, conn, old, new)
                verify_consistency(old, new, link, log.roots[old], log.roots[new])
                checked += 2
            if rep > 0:
                for name, values in timed.items():
                    times[name].append(values)
    return _rows(times, checked, log.size, options)


def _read(conn: Connection, seq: int) -> bytes:
    stmt = select(repo.entries.c.leaf_hash).where(repo.entries.c.seq == seq)
    return bytes(conn.execute(stmt).scalar_one())


def _timed(into: list[float], call: Callable[..., T], *args: Any) -> T:
    started = time.perf_counter()
    result = call(*args)
    into.append(time.perf_counter() - started)
    return result


def _rows(times: dict[str, list[list[float]]], checked: int, size: int, o: Options) -> list[Row]:
    section = f"2. proofs at {size:,} entries, {checked:,} verified"
    runs = f"median of {o.reps}×{o.proof_calls}"

    def typical(name: str) -> tuple[float, float]:
        reps = times[name]
        return median([median(r) for r in reps]), median([p99(r) for r in reps])

    read, read_p99 = typical("read")
    baseline = "primary-key SELECT of 1 row"
    rows = []
    for name, what in (("inclusion", "inclusion_proof"), ("consistency", "consistency_proof")):
        mid, tail = typical(name)
        rows.append(
            Row(
                section,
                f"{what}, random sizes",
                f"{ms(mid)}, p99 {tail * 1000:.3f}",
                runs,
                (Baseline(baseline, f"{ms(read)}, p99 {read_p99 * 1000:.3f}", mid / read),),
                (Target(f"median < {ms(TARGET_S)}", mid < TARGET_S),),
            )
        )
    return rows
