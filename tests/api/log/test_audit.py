"""`jiuyuan verify` against a stored log tampered with by direct SQL, on both databases."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from api.config import Settings
from api.db import Database
from api.log.sequencer import Submission
from api.log.service import LogService
from ledger.canonical import entry_bytes, entry_prefix
from ledger.chain import chain_hash
from ledger.merkle import leaf_hash
from ledger.note import NoteSigner
from tests.cli import invoke


@pytest.fixture
def log20(db: Database, settings: Settings, signer: NoteSigner) -> Iterator[LogService]:
    """A log of 20 entries with checkpoints at sizes 8 and 20."""
    service = LogService(db, settings, signer, background=False)
    first = [Submission.of(str(uuid.uuid4()), "test.entry", {"n": i}) for i in range(8)]
    service.sequencer.append(first)
    service.checkpoint_now()
    rest = [Submission.of(str(uuid.uuid4()), "test.entry", {"n": i}) for i in range(8, 20)]
    service.sequencer.append(rest)
    service.checkpoint_now()
    yield service
    service.close()


def run_verify(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``jiuyuan verify``, run in this process (a process per call cost the suite 3 s a call)."""
    done = invoke(env, "verify")
    return subprocess.CompletedProcess(["verify"], done.exit_code, done.stdout, done.stderr)


def assert_fails_at(env: dict[str, str], seq: int, reason: str) -> None:
    result = run_verify(env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"at seq {seq}:" in result.stderr, result.stderr
    assert reason in result.stderr, result.stderr


def sql(db: Database, statement: str, **params: object) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement), params)


def data_of(db: Database, seq: int) -> bytes:
    with db.engine.connect() as conn:
        return bytes(
            conn.execute(text("SELECT data FROM ledger_entries WHERE seq = :s"), {"s": seq}).one()[
                0
            ]
        )


def test_untouched_log_verifies(log20: LogService, cli_env: dict[str, str]) -> None:
    result = run_verify(cli_env)
    assert result.returncode == 0, result.stderr
    assert "OK: 20 entries, 2 checkpoints" in result.stdout


def test_one_changed_byte(log20: LogService, db: Database, cli_env: dict[str, str]) -> None:
    data = bytearray(data_of(db, 5))
    data[data.index(b'"n":5') + 4] = ord("6")
    sql(db, "UPDATE ledger_entries SET data = :d WHERE seq = 5", d=bytes(data))
    assert_fails_at(cli_env, 5, "stored bytes do not hash to the stored leaf hash")


def test_changed_bytes_with_recomputed_leaf(
    log20: LogService, db: Database, cli_env: dict[str, str]
) -> None:
    data = data_of(db, 5).replace(b'"n":5', b'"n":6')
    sql(
        db,
        "UPDATE ledger_entries SET data = :d, leaf_hash = :l WHERE seq = 5",
        d=data,
        l=leaf_hash(data),
    )
    assert_fails_at(cli_env, 5, "chain hash does not follow")


def test_deleted_row(log20: LogService, db: Database, cli_env: dict[str, str]) -> None:
    sql(db, "DELETE FROM ledger_entries WHERE seq = 7")
    assert_fails_at(cli_env, 7, "entry is missing")


def test_deleted_tail(log20: LogService, db: Database, cli_env: dict[str, str]) -> None:
    sql(db, "DELETE FROM ledger_entries WHERE seq >= 17")
    assert_fails_at(cli_env, 17, "covers entries the log does not have")


def test_swapped_rows(log20: LogService, db: Database, cli_env: dict[str, str]) -> None:
    cols = "entry_id, kind, ts, body_digest, data, leaf_hash, chain_hash"
    with db.engine.begin() as conn:
        a = conn.execute(text(f"SELECT {cols} FROM ledger_entries WHERE seq = 3")).one()
        b = conn.execute(text(f"SELECT {cols} FROM ledger_entries WHERE seq = 11")).one()
        sets = ", ".join(f"{c} = :{c}" for c in cols.split(", "))
        # Unique entry_id: park one row's id first.
        conn.execute(text("UPDATE ledger_entries SET entry_id = 'x' WHERE seq = 3"))
        conn.execute(text(f"UPDATE ledger_entries SET {sets} WHERE seq = 11"), a._asdict())
        conn.execute(text(f"UPDATE ledger_entries SET {sets} WHERE seq = 3"), b._asdict())
    assert_fails_at(cli_env, 3, "carry seq 11")


def test_inserted_forged_row(log20: LogService, db: Database, cli_env: dict[str, str]) -> None:
    """A forger shifts entries 10.. up and writes a self-consistent entry at seq 10."""
    with db.engine.begin() as conn:
        for seq in range(19, 9, -1):
            conn.execute(
                text("UPDATE ledger_entries SET seq = :n WHERE seq = :o"), {"n": seq + 1, "o": seq}
            )
        prev = bytes(
            conn.execute(text("SELECT chain_hash FROM ledger_entries WHERE seq = 9")).one()[0]
        )
        forged_id = str(uuid.uuid4())
        data = entry_bytes(
            entry_prefix(forged_id, "test.entry", {"n": 999}), 10, "2026-11-25T00:00:00.000000Z"
        )
        leaf = leaf_hash(data)
        conn.execute(
            text(
                "INSERT INTO ledger_entries (seq, entry_id, kind, ts, body_digest, data, "
                "leaf_hash, chain_hash) VALUES (10, :id, 'test.entry', :ts, :d, :data, :l, :c)"
            ),
            {
                "id": forged_id,
                "ts": "2026-11-25 00:00:00+00:00",
                "d": bytes(32),
                "data": data,
                "l": leaf,
                "c": chain_hash(prev, leaf),
            },
        )
    assert_fails_at(cli_env, 10, "inserted")


def test_edited_checkpoint_note(log20: LogService, db: Database, cli_env: dict[str, str]) -> None:
    with db.engine.begin() as conn:
        note = conn.execute(text("SELECT note FROM ledger_checkpoints WHERE tree_size = 8")).one()[
            0
        ]
        lines = note.split("\n")
        lines[1] = "9"
        conn.execute(
            text("UPDATE ledger_checkpoints SET note = :n WHERE tree_size = 8"),
            {"n": "\n".join(lines)},
        )
    assert_fails_at(cli_env, 7, "checkpoint of tree size 8")


def test_edited_checkpoint_root(log20: LogService, db: Database, cli_env: dict[str, str]) -> None:
    sql(db, "UPDATE ledger_checkpoints SET root_hash = :r WHERE tree_size = 20", r=bytes(32))
    assert_fails_at(cli_env, 19, "stored root differs from the signed root")


def test_damaged_tree_node(log20: LogService, db: Database, cli_env: dict[str, str]) -> None:
    sql(db, "UPDATE ledger_tree_nodes SET hash = :h WHERE level = 1 AND idx = 6", h=bytes(32))
    assert_fails_at(cli_env, 12, "stored tree node (level 1, index 6) differs from entries 12..13")


def test_missing_tree_node(log20: LogService, db: Database, cli_env: dict[str, str]) -> None:
    sql(db, "DELETE FROM ledger_tree_nodes WHERE level = 3 AND idx = 1")
    assert_fails_at(cli_env, 8, "stored tree node (level 3, index 1) is missing for entries 8..15")
