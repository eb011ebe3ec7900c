"""The traceability commands other teams and the printing plant rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tests.api.trace.conftest import make_history


def jiuyuan(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


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
