"""The backend setting, keys, the single-anchorer lease, the local chains."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from anchoring.anchorer import Web3Anchorer
from anchoring.devchain import run_with_dev_chain
from anchoring.errors import AnchoringConfigError
from anchoring.keys import AnchorKey
from anchoring.runner import AnchorRunner
from anchoring.service import NullAnchorer, load_anchorer, start_anchoring
from api.app import create_app
from api.config import Settings
from api.db import Database
from ledger.note import NoteSigner
from tests.anchoring.conftest import ROOT, Clock, Ledger, invoke

SECRET = "0x" + "5a" * 32


@pytest.fixture
def bare(tmp_path: Path) -> Iterator[tuple[Settings, Database, NoteSigner]]:
    """Settings, a database handle and a signer, for tests that read no table."""
    settings = Settings(data_dir=tmp_path, log_origin="test.jiuyuan.local/log")
    database = Database(settings.resolved_database_url)
    yield settings, database, NoteSigner.generate(settings.log_origin)
    database.dispose()


def test_null_backend_is_the_default_and_does_nothing(
    settings: Settings, db: Database, signer: NoteSigner, ledger: Ledger
) -> None:
    ledger.append(2)
    anchorer = load_anchorer(settings, db, signer.verifier())
    assert isinstance(anchorer, NullAnchorer)
    report = anchorer.step()
    assert report.action == "disabled" and "JIUYUAN_ANCHOR_BACKEND=web3" in report.message
    assert start_anchoring(settings, db, signer.verifier()) is None
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/anchors").json() == {"anchors": [], "next_before": None}
        assert client.get("/v1/entries/0/receipt").json()["error"]["code"] == "not_anchored"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "needs JIUYUAN_CHAIN_RPC_URL"),
        ({"chain_rpc_url": "ws://127.0.0.1:8545"}, "must be an http"),
        ({"chain_rpc_url": "http://127.0.0.1:9"}, "anchoring needs a key"),
        (
            {"chain_rpc_url": "http://127.0.0.1:9", "chain_private_key": SecretStr("0x1234")},
            "not a valid 32-byte hex private key",
        ),
        (
            {"chain_rpc_url": "http://127.0.0.1:9", "anchor_max_fee_gwei": "0.0000000001"},
            "JIUYUAN_ANCHOR_MAX_FEE_GWEI",
        ),
    ],
)
def test_web3_backend_explains_what_is_missing(
    changes: dict[str, object], message: str, bare: tuple[Settings, Database, NoteSigner]
) -> None:
    settings, db, signer = bare
    broken = Settings(**{**settings.model_dump(), "anchor_backend": "web3", **changes})
    with pytest.raises(AnchoringConfigError, match=message) as caught:
        load_anchorer(broken, db, signer.verifier())
    assert "1234" not in str(caught.value)


def test_keystore_and_secrets_never_show(tmp_path: Path) -> None:
    key = AnchorKey.generate()
    path = tmp_path / "keystore.json"
    key.write_keystore(path, SecretStr("correct horse"), iterations=2)
    assert path.stat().st_mode & 0o777 == 0o600
    assert AnchorKey.from_keystore(path, SecretStr("correct horse")).address == key.address
    with pytest.raises(AnchoringConfigError, match="wrong password") as caught:
        AnchorKey.from_keystore(path, SecretStr("wrong horse"))
    assert "horse" not in str(caught.value)
    with pytest.raises(AnchoringConfigError, match="KEYSTORE_PASSWORD is needed"):
        AnchorKey.from_keystore(path, None)
    with pytest.raises(AnchoringConfigError, match="no keystore file"):
        AnchorKey.from_keystore(tmp_path / "nope.json", SecretStr("x"))
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(AnchoringConfigError, match="not an Ethereum v3 keystore"):
        AnchorKey.from_keystore(tmp_path / "bad.json", SecretStr("x"))

    hidden = AnchorKey.from_private_key(SecretStr(SECRET))
    assert SECRET[2:] not in repr(hidden)
    settings = Settings(chain_private_key=SECRET, chain_keystore_password="correct horse")
    assert SECRET[2:] not in repr(settings) and "horse" not in repr(settings)
    assert SECRET[2:] not in settings.model_dump_json()


def test_keystore_setting_wins_over_the_private_key(
    bare: tuple[Settings, Database, NoteSigner], tmp_path: Path
) -> None:
    settings, db, signer = bare
    key = AnchorKey.generate()
    key.write_keystore(tmp_path / "ks.json", SecretStr("pw"), iterations=2)
    chosen = Settings(
        **{
            **settings.model_dump(),
            "anchor_backend": "web3",
            "chain_rpc_url": "http://127.0.0.1:9",
            "chain_keystore": tmp_path / "ks.json",
            "chain_keystore_password": "pw",
            "chain_private_key": SECRET,
        }
    )
    anchorer = load_anchorer(chosen, db, signer.verifier())
    assert isinstance(anchorer, Web3Anchorer) and anchorer.key.address == key.address
    assert key.address in anchorer.describe() and "pw" not in anchorer.describe()


def test_one_process_anchors_at_a_time(db: Database) -> None:
    clock = Clock()
    first = AnchorRunner(db, NullAnchorer(), poll_s=1, lease_s=60, clock=clock)
    second = AnchorRunner(db, NullAnchorer(), poll_s=1, lease_s=60, clock=clock)
    assert first.run_once().action == "disabled"
    report = second.run_once()
    assert report.action == "standby" and first.holder in report.message
    clock.advance(30)
    assert first.run_once().action == "disabled"  # renewed
    clock.advance(59)
    assert second.run_once().action == "standby"
    # A holder that stops renewing (crashed) is replaced once its lease has run out.
    clock.advance(2)
    assert second.run_once().action == "disabled"
    assert first.run_once().action == "standby"
    # One that stops cleanly hands over at once.
    second.release()
    assert first.run_once().action == "disabled"


def test_in_process_chain_anchors_without_node(
    settings: Settings, db: Database, signer: NoteSigner, ledger: Ledger
) -> None:
    chosen = settings.model_copy(
        update={
            "anchor_backend": "web3",
            "chain_rpc_url": "eth-tester",
            "chain_private_key": SecretStr(AnchorKey.generate().private_key_hex()),
            "anchor_confirmations": 1,
        }
    )
    ledger.append(3)
    anchorer = load_anchorer(chosen, db, signer.verifier())
    assert isinstance(anchorer, Web3Anchorer) and anchorer.chain.in_process
    assert anchorer.step().action == "submitted"
    report = anchorer.step()
    assert report.action == "confirmed" and report.anchor is not None
    assert report.anchor.gas_used is not None and report.anchor.gas_used <= 23_000


CHILD = """
import json, os, urllib.request
url = os.environ["JIUYUAN_CHAIN_RPC_URL"]
seen = {k: os.environ.get(k) for k in
        ("JIUYUAN_ANCHOR_BACKEND", "JIUYUAN_CHAIN_RPC_URL", "JIUYUAN_CHAIN_ID",
         "JIUYUAN_ANCHOR_CONFIRMATIONS")}
seen["has_key"] = bool(os.environ.get("JIUYUAN_CHAIN_PRIVATE_KEY"))
if url.startswith("http"):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    seen["chain"] = json.load(urllib.request.urlopen(req))["result"]
print(json.dumps(seen))
"""


def _listening(port: int) -> bool:
    """Whether something accepts connections on ``port``. A connect to a free port of the
    ephemeral range can meet itself (TCP simultaneous open: the client was given that very
    port), which is nobody listening."""
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    except ConnectionRefusedError:
        return False
    with sock:
        return bool(sock.getsockname() != sock.getpeername())


def test_dev_chain_starts_anvil_for_the_command_and_stops_it(
    anvil_binary: Path,
    bare: tuple[Settings, Database, NoteSigner],
    capfd: pytest.CaptureFixture[str],
) -> None:
    settings = bare[0]
    from anchoring.devchain import free_port

    port = free_port()
    code = run_with_dev_chain([sys.executable, "-c", CHILD], settings, ROOT, port)
    assert code == 0
    seen = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    assert seen == {
        "JIUYUAN_ANCHOR_BACKEND": "web3",
        "JIUYUAN_CHAIN_RPC_URL": f"http://127.0.0.1:{port}",
        "JIUYUAN_CHAIN_ID": "31337",
        "JIUYUAN_ANCHOR_CONFIRMATIONS": None,
        "has_key": True,
        "chain": "0x7a69",
    }
    # Stopped, its chain saved for the next run, the dev key kept private.
    # Nothing listens there any more (a connect, not a bind: a bind can collide with some
    # client's ephemeral port on a busy machine).
    assert not _listening(port)
    assert (settings.data_dir / "anvil-state.json").exists()
    assert (settings.data_dir / "keys" / "anchor-dev.key").stat().st_mode & 0o777 == 0o600


SHIM = """
import signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
def forward(signum, frame):
    child.send_signal(signum)
    sys.exit(0)  # the npm shim's way: forward, then exit without waiting
signal.signal(signal.SIGTERM, forward)
child.wait()
"""

SLOW_TO_STOP = """
import pathlib, signal, sys, time
def stop(signum, frame):
    time.sleep(0.5)  # anvil writing its --state
    pathlib.Path(sys.argv[1]).write_text("saved")
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
pathlib.Path(sys.argv[1] + ".up").write_text("up")
while True:
    time.sleep(0.05)
"""


def test_stopping_waits_for_the_chain_behind_the_shim_not_the_shim(tmp_path: Path) -> None:
    from anchoring.devchain import Anvil

    saved = tmp_path / "state"
    node = Anvil(Path(sys.executable), 0)
    node.process = subprocess.Popen(
        [sys.executable, "-c", SHIM, SLOW_TO_STOP.replace("sys.argv[1]", repr(str(saved)))],
        start_new_session=True,
    )
    up = saved.with_name("state.up")
    for _ in range(200):
        if up.exists():
            break
        time.sleep(0.02)
    assert up.exists()
    node.stop()
    assert saved.read_text() == "saved"


def test_dev_chain_without_node_uses_the_in_process_chain(
    bare: tuple[Settings, Database, NoteSigner],
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = bare[0]
    with caplog.at_level(logging.WARNING):
        code = run_with_dev_chain([sys.executable, "-c", CHILD], settings, tmp_path)
    assert code == 0
    seen = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    assert seen["JIUYUAN_CHAIN_RPC_URL"] == "eth-tester"
    assert seen["JIUYUAN_ANCHOR_CONFIRMATIONS"] == "1"
    assert "in-process EthereumTesterProvider" in caplog.text


def test_dev_chain_leaves_a_configured_chain_alone(
    bare: tuple[Settings, Database, NoteSigner],
) -> None:
    settings = bare[0]
    configured = settings.model_copy(update={"chain_rpc_url": "http://127.0.0.1:9"})
    probe = "import os, sys; sys.exit(0 if 'JIUYUAN_ANCHOR_BACKEND' not in os.environ else 3)"
    assert run_with_dev_chain([sys.executable, "-c", probe], configured, ROOT) == 0
    assert not (settings.data_dir / "anvil-state.json").exists()


def test_anchor_run_once_cli(settings: Settings, signer: NoteSigner, ledger: Ledger) -> None:
    ledger.append(2)
    off = invoke(["anchor", "run", "--once"], settings)
    assert off.exit_code == 2 and "anchoring is off" in off.stderr
    on = invoke(
        ["anchor", "run", "--once"],
        settings,
        JIUYUAN_ANCHOR_BACKEND="web3",
        JIUYUAN_CHAIN_RPC_URL="eth-tester",
        JIUYUAN_CHAIN_PRIVATE_KEY=SECRET,
        JIUYUAN_ANCHOR_CONFIRMATIONS="1",
    )
    assert on.exit_code == 0, on.output
    actions = [line.split(":")[0] for line in on.stdout.splitlines()]
    assert actions == ["submitted", "confirmed", "idle"]
    assert SECRET[2:] not in on.output
    status = invoke(["anchor", "status"], settings)
    assert status.exit_code == 0 and "null: anchoring is off" in status.stdout
    assert "tree 2: confirmed" in status.stdout


def test_rpc_errors_never_show_the_url_secrets() -> None:
    from anchoring.chain import Web3Chain
    from anchoring.errors import ChainUnavailable

    chain = Web3Chain.connect("http://user:pw123@127.0.0.1:9/v3/K3YK3Y?apikey=QQQ", timeout_s=2)
    assert chain.description == "http://127.0.0.1:9/…"
    with pytest.raises(ChainUnavailable) as caught:
        chain.chain_id()
    message = str(caught.value)
    assert "127.0.0.1:9" in message
    for secret in ("pw123", "K3YK3Y", "QQQ"):
        assert secret not in message


def test_web3_leaves_the_recursion_limit_alone() -> None:
    """py_ecc and py-evm raise it to 100,000 on import; deeply nested JSON would then crash the
    server instead of being refused (tests/ledger/test_canonical.py)."""
    code = (
        "import sys; before = sys.getrecursionlimit(); import api.app, api.cli;"
        "from anchoring.chain import Web3Chain; Web3Chain.connect('eth-tester').chain_id();"
        "from ledger.canonical import parse_json; from ledger.errors import MalformedEntryError\n"
        "try: parse_json(b'[' * 100_000 + b']' * 100_000)\n"
        "except MalformedEntryError: print(before, sys.getrecursionlimit())"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert ran.returncode == 0, ran.stderr
    before, after = ran.stdout.split()
    assert before == after
