"""``python -m bench [NAME ...]``: run the benchmarks and print one table of their figures."""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bench import anchoring, compliance, ledger, orders, stored_value, trace
from bench.postgres import BenchSettings, server_facts
from bench.report import Options, Row, render

BENCHMARKS: dict[str, Callable[[Options, str], list[Row]]] = {
    "ledger": ledger.run,
    "anchoring": anchoring.run,
    "trace": trace.run,
    "orders": orders.run,
    "compliance": compliance.run,
    "stored_value": stored_value.run,
}
QUICK = Options(entries=100_000, appends=10_000, reps=3, verify_reps=3, proof_calls=200)


def main() -> None:
    default = Options()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a short run: 100,000-entry log, 10,000 appends, 3 repetitions",
    )
    parser.add_argument(
        "--entries", type=int, help=f"log size for proofs and verify (default {default.entries:,})"
    )
    parser.add_argument(
        "--appends", type=int, help=f"entries per append repetition (default {default.appends:,})"
    )
    parser.add_argument(
        "--reps", type=int, help=f"repetitions of appends and proofs (default {default.reps})"
    )
    parser.add_argument(
        "--verify-reps", type=int, help=f"repetitions of the audit (default {default.verify_reps})"
    )
    parser.add_argument(
        "--per-request",
        type=int,
        help=f"entries per append request (default {default.per_request})",
    )
    parser.add_argument(
        "--clients", type=int, help=f"client threads sending appends (default {default.clients})"
    )
    parser.add_argument(
        "--scans",
        type=int,
        help=f"scans the compliance benchmark makes (default {default.scans:,})",
    )
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; there are {', '.join(BENCHMARKS)}")
    options = QUICK if args.quick else default
    chosen = {
        key: value
        for key in (
            "entries",
            "appends",
            "reps",
            "verify_reps",
            "clients",
            "per_request",
            "scans",
        )
        if (value := getattr(args, key)) is not None
    }
    options = replace(options, **chosen)
    if options.entries < 16 or min(options.appends, options.reps, options.verify_reps) < 1:
        parser.error("--entries must be at least 16, and the other counts at least 1")
    if min(options.clients, options.per_request) < 1:
        parser.error("--clients and --per-request must be at least 1")
    url = BenchSettings().postgres_url
    try:
        facts = server_facts(url)
    except OperationalError as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        parser.exit(
            2,
            f"PostgreSQL at {shown} cannot be reached ({exc.orig}); "
            "set JIUYUAN_BENCH_POSTGRES_URL\n",
        )
    started = time.perf_counter()
    rows: list[Row] = []
    for name in args.names or BENCHMARKS:
        rows += BENCHMARKS[name](options, url)
    render(
        "Jiuyuan benchmarks: ratio = figure / baseline, both measured in this run",
        [
            f"{facts}; {os.cpu_count()} CPUs; {time.perf_counter() - started:.0f} s in all.",
            "Figures are medians of the repetitions under 'runs' (p99: over each run's calls).",
            "pymerkle appends a whole run in one SQLite transaction, with no hash chain and no "
            "canonical JSON: a peer figure, not a like-for-like one.",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
