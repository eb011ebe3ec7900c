"""Fixtures for anchoring: a real anvil per test (JSON-RPC on 127.0.0.1), a log, an anchorer.

anvil comes from ``node_modules/.bin/anvil`` (``make node-deps``). Without it the anvil tests
are skipped with the reason, except where ``JIUYUAN_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import Result

from anchoring.anchorer import AnchorPolicy, Web3Anchorer
from anchoring.chain import Web3Chain
from anchoring.devchain import Anvil, find_anvil, free_port
from anchoring.keys import AnchorKey
from api.config import Settings
from api.db import Database
from api.log import repository as log_repo
from api.log.sequencer import Submission
from api.log.service import LogService
from ledger.note import NoteSigner
from tests.api import conftest as service_fixtures
from tests.cli import invoke as run_in_process

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_ANVIL = os.environ.get("JIUYUAN_REQUIRE_POSTGRES") == "1"
GWEI = 10**9

# The service's own fixtures: settings on the per-test database, its signing key, its engines.
settings = service_fixtures.settings
signer = service_fixtures.signer
db = service_fixtures.db


@pytest.fixture(scope="session")
def anvil_binary() -> Path:
    binary = find_anvil(ROOT)
    if binary is None:
        reason = (
            "anvil not installed: node_modules/.bin/anvil (npm @foundry-rs/anvil) or Node.js is "
            "missing; run `make node-deps` with Node.js installed"
        )
        if REQUIRE_ANVIL:
            pytest.fail(f"{reason} (JIUYUAN_REQUIRE_POSTGRES=1 requires it)")
        pytest.skip(reason)
    return binary


@pytest.fixture
def anvil(anvil_binary: Path, tmp_path: Path) -> Iterator[Anvil]:
    node = Anvil(anvil_binary, free_port(), log_file=tmp_path / "anvil.log")
    node.start()
    yield node
    node.stop()


class Clock:
    """A settable clock for the anchorer: intervals and stuck timeouts without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@dataclass
class Ledger:
    """The log under test: append entries, publish checkpoints."""

    service: LogService
    db: Database

    def append(self, count: int) -> int:
        """Append ``count`` entries and publish a checkpoint; return the new tree size."""
        subs = [
            Submission.of(str(uuid.uuid4()), "test.entry", {"n": n, "bottles": 6})
            for n in range(count)
        ]
        self.service.sequencer.append(subs)
        checkpoint = self.service.checkpoint_now()
        if checkpoint is None:
            # An app under test on the same database (its own log worker) published first.
            with self.db.engine.connect() as conn:
                checkpoint = log_repo.latest_checkpoint(conn)
        assert checkpoint is not None
        return checkpoint.tree_size


@pytest.fixture
def ledger(db: Database, settings: Settings, signer: NoteSigner) -> Iterator[Ledger]:
    service = LogService(db, settings, signer, background=False)
    yield Ledger(service, db)
    service.close()


@pytest.fixture
def key(anvil: Anvil) -> AnchorKey:
    """A fresh anchoring key with ether on the test chain."""
    fresh = AnchorKey.generate()
    anvil.fund(fresh.address)
    return fresh


MakeAnchorer = Callable[..., Web3Anchorer]


@pytest.fixture
def make_anchorer(
    db: Database, signer: NoteSigner, settings: Settings, clock: Clock, key: AnchorKey, anvil: Anvil
) -> MakeAnchorer:
    """A new anchorer over the same database and chain, as a restarted process would have."""

    def make(
        *,
        url: str | None = None,
        confirmations: int = 3,
        interval_s: float = 600.0,
        max_fee_wei: int = 100 * GWEI,
        stuck_after_s: float = 60.0,
    ) -> Web3Anchorer:
        policy = AnchorPolicy(
            interval_s=interval_s,
            confirmations=confirmations,
            max_fee_wei=max_fee_wei,
            stuck_after_s=stuck_after_s,
        )
        return Web3Anchorer(
            db,
            Web3Chain.connect(url or anvil.url, timeout_s=5),
            key,
            signer.verifier(),
            settings.log_origin,
            policy,
            expected_chain_id=31337,
            clock=clock,
        )

    return make


class FlakyProxy:
    """A TCP proxy in front of anvil that can drop every connection: an RPC outage."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.up = True
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def down(self) -> None:
        self.up = False
        with self._lock:
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self._closed = True
        self.down()
        _close(self._server)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self.up:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@pytest.fixture
def proxy(anvil: Anvil) -> Iterator[FlakyProxy]:
    flaky = FlakyProxy(anvil.port)
    yield flaky
    flaky.close()


def invoke(args: list[str], settings: Settings | None = None, **env: str) -> Result:
    """Run ``jiuyuan ARGS`` in this process against ``settings``' database."""
    if settings is not None:
        env = {
            "JIUYUAN_DATA_DIR": str(settings.data_dir),
            "JIUYUAN_DATABASE_URL": settings.resolved_database_url,
            "JIUYUAN_LOG_ORIGIN": settings.log_origin,
            **env,
        }
    return run_in_process(env, *args)
