"""Evidence bundles: exported over HTTP and by the CLI, verified offline, tampering caught."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from api.compliance.evidence.bundle import Bundle
from api.compliance.evidence.verify import parse_bundle, verify_bundle
from ledger.errors import VerificationError
from ledger.note import NoteSigner
from tests.api.compliance.alerts.scenario import build
from tests.api.shipments.flow import Flow
from tests.cli import invoke


def jiuyuan(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def failures(bundle: dict[str, Any], key: str | None = None) -> list[str]:
    checks = verify_bundle(Bundle.model_validate(bundle), key=key)
    return [f"{c.name}: {c.detail}" for c in checks if not c.ok]


def test_a_confirmed_alerts_bundle_verifies_offline_and_tampering_fails(
    flow: Flow, signer: NoteSigner
) -> None:
    s = build(flow)
    s.run()
    alert_id = s.alert_of(s.diverted)["id"]
    path = f"/v1/compliance/alerts/{alert_id}/decision"
    flow.ok(flow.w.post("compliance", path, {"to": "confirmed", "reason": "异地入库扫码，确认"}))
    bundle = s.evidence(alert_id)
    key = signer.verifier_key()
    assert failures(bundle, key) == []
    roles = [e["role"] for e in bundle["entries"]]
    assert roles == ["signal:inbound_scan_outside", "alert.raised", "alert.decided"]
    [receipt] = [e for e in bundle["entries"] if e["role"].startswith("signal")]
    assert receipt["members"][0] == {
        "kind": "listed",
        "item": s.alert_of(s.diverted)["code"],
        "field": "extra",
    }
    assert bundle["alert"]["state"] == "confirmed"

    # One byte of an entry changed.
    forged = copy.deepcopy(bundle)
    data = bytearray(base64.b64decode(forged["entries"][0]["data"]))
    data[-3] ^= 1
    forged["entries"][0]["data"] = base64.b64encode(bytes(data)).decode()
    assert any("leaf hash" in f for f in failures(forged, key))
    # An entry's bytes swapped for JSON nested beyond any parser's depth, its leaf hash made
    # to match: refused as a failed check, not a crash of the verifier.
    forged = copy.deepcopy(bundle)
    nested = b"[" * 100_000 + b"]" * 100_000
    forged["entries"][0]["data"] = base64.b64encode(nested).decode()
    forged["entries"][0]["leaf_hash"] = hashlib.sha256(b"\x00" + nested).hexdigest()
    assert any("nest deeper" in f for f in failures(forged, key))
    # A proof hash changed.
    forged = copy.deepcopy(bundle)
    forged["entries"][1]["proof"][0] = "00" * 32
    assert failures(forged, key)
    # Another log's key.
    assert any("pinned" in f for f in failures(bundle, NoteSigner.generate("x").verifier_key()))
    # The decision left out: the bundle says confirmed, the ledger entries say new.
    forged = copy.deepcopy(bundle)
    forged["entries"] = forged["entries"][:2]
    assert any("decisions say 'new'" in f for f in failures(forged, key))
    # The signal's entry left out.
    forged = copy.deepcopy(bundle)
    forged["entries"] = forged["entries"][1:]
    assert any("absent from the bundle" in f for f in failures(forged, key))
    with pytest.raises(VerificationError, match="jiuyuan-evidence/1"):
        parse_bundle('{"format": "something-else"}')

    # A clone's observed scans are proven against the alert's own entry.
    bundle = s.evidence(s.alert_of(s.cloned)["id"])
    assert failures(bundle) == []
    [raised] = bundle["entries"]
    assert len(raised["members"]) == 6
    forged = copy.deepcopy(bundle)
    forged["entries"][0]["members"][2]["item"]["device"] = "ff" * 32
    assert failures(forged)


def test_the_cli_detects_exports_and_verifies(
    flow: Flow, cli_env: dict[str, str], signer: NoteSigner, tmp_path: Path, database_url: str
) -> None:
    s = build(flow)
    detected = invoke(cli_env, "diversion", "detect")
    assert detected.exit_code == 0, detected.output
    assert "inbound_scan_outside" in detected.output
    assert "alerts raised: 1;" in detected.output  # the clone was raised when scanned
    alert_id = s.alert_of(s.diverted)["id"]
    out = tmp_path / "evidence.json"
    exported = invoke(cli_env, "evidence", "export", alert_id, "--out", str(out))
    assert exported.exit_code == 0, exported.output
    missing = invoke(cli_env, "evidence", "export", "al_nothing", "--out", str(tmp_path / "x"))
    assert missing.exit_code == 2 and "no alert al_nothing" in missing.output
    key = signer.verifier_key()
    assert invoke(cli_env, "evidence", "verify", str(out), "--key", key).exit_code == 0
    bundle = json.loads(out.read_text())
    bundle["entries"][0]["leaf_hash"] = "00" * 32
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(bundle))
    bad = invoke(cli_env, "evidence", "verify", str(forged))
    assert bad.exit_code == 1 and "FAIL" in bad.output
    if database_url.startswith("sqlite"):
        # Once, as a separate process with no database reachable: verification is offline.
        offline = {k: v for k, v in cli_env.items() if not k.startswith("JIUYUAN_")}
        offline["JIUYUAN_DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
        ok = jiuyuan(offline, "evidence", "verify", str(out), "--key", key)
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert ok.stdout.strip().splitlines()[-1].startswith(f"OK: alert {alert_id}")
