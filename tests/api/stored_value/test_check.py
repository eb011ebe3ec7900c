"""``jiuyuan stored-value check``: the books must be the ledger's projection."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import text

from api.db import Database
from api.log.service import LogService
from tests.api.stored_value.till import Till


def check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "stored-value", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_passes_then_finds_a_tampered_balance(
    till: Till, db: Database, log: LogService, cli_env: dict[str, str]
) -> None:
    m = till.register().member_id
    till.top_up(m, 30_000)
    sale = till.spend(m, 1_000).result
    log.relay()
    till.refund(sale.journal_id, 400)  # committed but still staged: counted from the outbox
    ok = check(cli_env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK: 2 stored-value ledger entries (+1 staged)")
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE stored_value_accounts SET bonus_fen = bonus_fen + 1 WHERE member_id = :m"),
            {"m": m},
        )
    bad = check(cli_env)
    assert bad.returncode == 1
    assert f"MISMATCH member {m}: ledger (29400, 0), account (29400, 1)" in bad.stderr
