"""Several writer processes, and a server killed mid-append: the log stays dense and linear."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from api.db import Database

from .test_audit import run_verify

pytestmark = pytest.mark.slow


def jiuyuan(*args: str, env: dict[str, str], **kw: object) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,  # type: ignore[call-overload]
    )


def stored(db: Database) -> list[tuple[int, str]]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, entry_id FROM ledger_entries ORDER BY seq"))
        return [(seq, entry_id) for seq, entry_id in rows]


def test_concurrent_writer_processes(db: Database, cli_env: dict[str, str], tmp_path: Path) -> None:
    files = []
    for p in range(3):
        path = tmp_path / f"writer{p}.jsonl"
        lines = (
            json.dumps({"id": str(uuid.uuid4()), "kind": "test.entry", "payload": {"p": p, "i": i}})
            for i in range(200)
        )
        path.write_text("\n".join(lines) + "\n")
        files.append(path)
    procs = [jiuyuan("append", str(f), env=cli_env) for f in files]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    acknowledged = {
        json.loads(line)["id"]: json.loads(line)["seq"]
        for out, _ in outputs
        for line in out.splitlines()
    }
    rows = stored(db)
    assert [seq for seq, _ in rows] == list(range(600))
    assert {entry_id: seq for seq, entry_id in rows} == acknowledged
    result = run_verify(cli_env)
    assert result.returncode == 0, result.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server_port() -> int:
    return free_port()


def start_server(env: dict[str, str], port: int) -> Iterator[subprocess.Popen[bytes]]:
    log_path = Path(env["JIUYUAN_DATA_DIR"]) / f"server-{time.monotonic_ns()}.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        proc.wait()
        raise AssertionError(f"server did not start: {log_path.read_text()[-2000:]}")
    yield proc


def test_sigkill_mid_append_loses_nothing_acknowledged(
    db: Database, writer_key: str, cli_env: dict[str, str], server_port: int
) -> None:
    base = f"http://127.0.0.1:{server_port}"
    headers = {"Authorization": f"Bearer {writer_key}"}
    acknowledged: dict[str, int] = {}
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=5) as http:
            while not stop.is_set():
                batch = [
                    {"id": str(uuid.uuid4()), "kind": "test.entry", "payload": {"i": i}}
                    for i in range(20)
                ]
                try:
                    r = http.post("/v1/entries", json=batch)
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code == 201:
                    for e in r.json()["entries"]:
                        acknowledged[e["id"]] = e["seq"]

    for server in start_server(cli_env, server_port):
        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 400 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        stop.set()
        for t in threads:
            t.join(timeout=10)
    assert len(acknowledged) >= 400

    # A commit the dead server had already sent may still land (PostgreSQL finishes it): wait
    # until the log stops moving before comparing.
    settled, seen = 0, -1
    while settled < 3:
        now = len(stored(db))
        settled = settled + 1 if now == seen else 0
        seen = now
        time.sleep(0.2)
    rows = dict((entry_id, seq) for seq, entry_id in stored(db))
    assert sorted(rows.values()) == list(range(len(rows)))
    missing = {k: v for k, v in acknowledged.items() if rows.get(k) != v}
    assert not missing, f"{len(missing)} acknowledged entries lost or moved"
    assert run_verify(cli_env).returncode == 0

    # After a restart the server integrates what was sequenced and checkpoints all of it.
    for server in start_server(cli_env, server_port):
        try:
            r = httpx.post(f"{base}/v1/checkpoint", headers=headers, timeout=30)
            assert r.status_code == 200
            assert int(r.text.split("\n")[1]) == len(rows)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
    result = run_verify(cli_env)
    assert result.returncode == 0, result.stderr
    assert f"OK: {len(rows)} entries" in result.stdout
