"""The ledger benchmark: appends, proofs and audit on PostgreSQL, each against a baseline.

Everything runs in one fresh schema that is dropped at the end: first the append rates, then a
log of ``options.entries`` entries built for the proof and audit rows.
"""

from __future__ import annotations

import random

from api.config import Settings
from api.db import Database
from api.log.service import LogService
from bench.ledger import appends, big_log, proofs, verify
from bench.postgres import fresh_schema
from bench.report import Options, Row, note
from ledger.note import NoteSigner

ORIGIN = "bench.jiuyuan.local/log"
_PROOF_SIZES = 64


def run(options: Options, base_url: str) -> list[Row]:
    with fresh_schema(base_url, "bench_ledger") as url:
        db = Database(url)
        signer = NoteSigner.generate(ORIGIN)
        settings = Settings(database_url=url, log_origin=ORIGIN)
        log = LogService(db, settings, signer, background=False)
        try:
            note(f"appends: {options.reps} × {options.appends:,} entries per contender")
            rows = appends.measure(db, log.sequencer, settings.max_batch_entries, options)
            n = options.entries
            note(f"building a log of {n:,} entries (COPY of computed rows and nodes)")
            rng = random.Random(11)
            sizes = {rng.randrange(1, n + 1) for _ in range(_PROOF_SIZES)}
            checkpoints = sorted({max(1, n * k // 4) for k in range(1, 5)})
            built = big_log.build(db, log.publisher, n, sizes, checkpoints)
            note(f"proofs: {options.reps} × {options.proof_calls} calls of each kind")
            rows += proofs.measure(db, built, options)
            note(f"verify: {options.verify_reps} × audit of {n:,} entries")
            rows += verify.measure(db, built, signer.verifier(), ORIGIN, options)
        finally:
            log.close()
            db.dispose()
    return rows
