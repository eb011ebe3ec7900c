"""The traceability commands other teams and the printing plant rely on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.db import Database
from tests.api.trace.conftest import make_history, ok
from tests.api.trace.test_storage import ZONE
from tests.cli import invoke, run


def jiuyuan(env: dict[str, str], *args: str) -> str:
    """``jiuyuan ARGS`` in this process (the console script's own start is tested by the
    commands' tests that run it: a process per call cost the suite 3 s a call); its stdout."""
    result = invoke(env, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_batches_codes_epcis(admin: TestClient, cli_env: dict[str, str], tmp_path: Path) -> None:
    h = make_history(admin, bottles=6)
    (batch,) = [json.loads(line) for line in jiuyuan(cli_env, "batches", "list").splitlines()]
    assert batch["lot"] == h.lot and batch["gtin"] == h.gtin and batch["blend"] == h.blend
    batch_id = jiuyuan(cli_env, "codes", "generate", "--lot", h.lot, "--count", "25").strip()
    assert batch_id.startswith("cb_")
    out = tmp_path / "codes.csv"
    jiuyuan(cli_env, "codes", "export", batch_id, "--format", "csv", "--out", str(out))
    lines = out.read_text().splitlines()
    assert lines[0] == "uri,serial,gtin,lot,kind" and len(lines) == 26
    listed = jiuyuan(
        cli_env, "codes", "list", "--lot", h.lot, "--state", "generated", "--limit", "100"
    )
    uris = {json.loads(line)["uri"] for line in listed.splitlines()}
    assert uris == {line.split(",")[0] for line in lines[1:]}
    doc = json.loads(jiuyuan(cli_env, "epcis", "export", "--code", h.bottles[0]))
    assert doc["type"] == "EPCISDocument"


def test_a_readings_file_refused_anywhere_stores_nothing(
    admin: TestClient,
    db: Database,
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from api.trace.storage import service

    ok(admin.post("/v1/storage/zones", json=ZONE), 201)
    ok(admin.post("/v1/storage/sensors", json={"sensor_id": "S-A-1", "zone_id": "GY-WH-A"}), 201)
    # Stored a chunk at a time: the unknown sensor is in the last chunk of three.
    monkeypatch.setattr(service, "MAX_READINGS", 10)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    lines = [
        json.dumps(
            {
                "sensor": "S-A-1",
                "at": (start + timedelta(minutes=5 * k)).isoformat(),
                "temp_c": "16.5",
                "rh": "65",
            }
        )
        for k in range(25)
    ]
    lines.append(lines[-1].replace("S-A-1", "NO-SUCH-SENSOR"))
    source = tmp_path / "readings.jsonl"
    source.write_text("\n".join(lines) + "\n")
    assert run(monkeypatch, cli_env, "storage", "ingest", str(source)) == 2
    assert "unknown sensor(s): NO-SUCH-SENSOR" in capsys.readouterr().err
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM trace_readings")).scalar_one() == 0
    source.write_text("\n".join(lines[:-1]) + "\n")
    assert run(monkeypatch, cli_env, "storage", "ingest", str(source)) == 0
    assert json.loads(capsys.readouterr().out)["accepted"] == 25


def test_a_lot_that_is_not_there_and_an_empty_code_are_named(
    admin: TestClient, cli_env: dict[str, str]
) -> None:
    make_history(admin, bottles=6)
    missing = invoke(cli_env, "codes", "list", "--lot", "NOSUCH")
    assert missing.exit_code == 2 and "no batch with lot 'NOSUCH'" in missing.stderr
    for option in ("--code", "--lot"):
        empty = invoke(cli_env, "epcis", "export", option, " ")
        assert empty.exit_code == 2 and "must not be empty" in empty.stderr
