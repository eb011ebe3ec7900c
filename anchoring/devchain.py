"""A local chain for development: anvil from ``node_modules`` (npm ``@foundry-rs/anvil``).

``jiuyuan anchor dev-chain -- COMMAND`` (what ``make run`` uses) starts anvil on 127.0.0.1,
funds a development anchoring key on it, runs COMMAND with the anchoring settings pointing at
it, and stops anvil (which saves its chain to ``$JIUYUAN_DATA_DIR/anvil-state.json``) when
COMMAND ends. Without Node or anvil, COMMAND anchors to web3's in-process EthereumTesterProvider
instead, and a log line says so. With ``JIUYUAN_CHAIN_RPC_URL`` (or the null backend) set by
the user, nothing is started: the user's chain is used as configured.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from anchoring.chain import IN_PROCESS
from anchoring.errors import AnchoringError
from anchoring.keys import AnchorKey
from api.config import Settings

log = logging.getLogger(__name__)

ANVIL_CHAIN_ID = 31337
DEV_BALANCE_WEI = 1000 * 10**18
DEV_PORT = 8545


def find_anvil(root: Path) -> Path | None:
    """Return ``node_modules/.bin/anvil`` under ``root`` when it and Node are installed."""
    candidate = root / "node_modules" / ".bin" / "anvil"
    if candidate.exists() and shutil.which("node") is not None:
        return candidate
    return None


def free_port(preferred: int | None = None) -> int:
    """Return ``preferred`` if nothing listens on it at 127.0.0.1, else a free port."""
    if preferred is not None:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the child if this process dies without stopping it."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _group_running(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies awaiting their reaper don't)."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():  # pragma: no cover - not Linux
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


class Anvil:
    """One anvil process on 127.0.0.1: started, waited for until it answers, stopped."""

    def __init__(
        self,
        binary: Path,
        port: int,
        *,
        state_file: Path | None = None,
        block_time_s: int | None = None,
        extra_args: tuple[str, ...] = (),
        log_file: Path | None = None,
    ) -> None:
        self.binary = binary
        self.port = port
        self.state_file = state_file
        self.block_time_s = block_time_s
        self.extra_args = extra_args
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        """The command line that starts this anvil."""
        cmd = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port)]
        if self.state_file is not None:
            cmd += ["--state", str(self.state_file)]
        if self.block_time_s is not None:
            cmd += ["--block-time", str(self.block_time_s)]
        return cmd + list(self.extra_args)

    def start(self, timeout_s: float = 30.0) -> None:
        """Start anvil and wait until it answers JSON-RPC.

        :raises AnchoringError: if it exits or does not answer within ``timeout_s``.
        """
        out: Any = subprocess.DEVNULL
        if self.log_file is not None:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            out = self.log_file.open("ab")
        try:
            # Its own session: Ctrl-C reaches the server first, and anvil stops after it.
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            if out is not subprocess.DEVNULL:
                out.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AnchoringError(
                    f"anvil exited with code {self.process.returncode} at start"
                    + (f"; see {self.log_file}" if self.log_file else "")
                )
            try:
                self.rpc("eth_chainId")
                return
            except (OSError, AnchoringError):
                time.sleep(0.05)
        self.stop()
        raise AnchoringError(f"anvil did not answer on {self.url} within {timeout_s:.0f} s")

    def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        """One JSON-RPC call (anvil's own methods too: anvil_setBalance, evm_mine …)."""
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
        request = urllib.request.Request(
            self.url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer = json.load(response)
        if "error" in answer:
            raise AnchoringError(f"{method}: {answer['error'].get('message')}")
        return answer.get("result")

    def fund(self, address: str, wei: int = DEV_BALANCE_WEI) -> None:
        """Give ``address`` ``wei`` if it has less (a development chain's privilege)."""
        if int(self.rpc("eth_getBalance", [address, "latest"]), 16) < wei:
            self.rpc("anvil_setBalance", [address, hex(wei)])

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop anvil (SIGTERM: it saves ``--state`` on the way out); SIGKILL if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        # The npm shim forwards SIGTERM to the native anvil and exits at once, while anvil is
        # still writing its state and holding the port: wait for the whole group, not the shim.
        deadline = time.monotonic() + timeout_s
        try:
            process.wait(timeout_s)
            while _group_running(process.pid) and time.monotonic() < deadline:
                time.sleep(0.02)
        except subprocess.TimeoutExpired:
            pass
        if process.poll() is None or _group_running(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            while _group_running(process.pid):
                time.sleep(0.02)


def dev_key(settings: Settings) -> AnchorKey:
    """The anchoring key for the development chain: the configured one, or one kept under
    ``$JIUYUAN_DATA_DIR/keys/anchor-dev.key`` (mode 0600), made on first use."""
    from anchoring.service import load_key

    if settings.chain_keystore is not None or settings.chain_private_key is not None:
        return load_key(settings)
    path = settings.data_dir / "keys" / "anchor-dev.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(AnchorKey.generate().private_key_hex() + "\n")
    return AnchorKey.from_private_key(SecretStr(path.read_text().strip()))


def run_with_dev_chain(
    command: list[str], settings: Settings, root: Path, port: int = DEV_PORT
) -> int:
    """Run ``command`` with anchoring pointed at a local chain; return its exit code."""
    env = os.environ.copy()
    user_chain = settings.chain_rpc_url is not None
    user_off = settings.anchor_backend == "null" and "anchor_backend" in settings.model_fields_set
    if user_chain or user_off:
        log.info("anchoring as configured (%s); no local chain started", settings.anchor_backend)
        return _run(command, env)
    key = dev_key(settings)
    if settings.chain_keystore is None and settings.chain_private_key is None:
        env["JIUYUAN_CHAIN_PRIVATE_KEY"] = key.private_key_hex()
    env["JIUYUAN_ANCHOR_BACKEND"] = "web3"
    binary = find_anvil(root)
    if binary is None:
        log.warning(
            "Node.js or node_modules/.bin/anvil not found (install Node, then `make node-deps`): "
            "anchoring to web3's in-process EthereumTesterProvider instead, a throw-away chain "
            "inside the server process that `jiuyuan receipt verify --rpc` cannot reach"
        )
        env["JIUYUAN_CHAIN_RPC_URL"] = IN_PROCESS
        # The in-process chain makes a block only per transaction: its own block is the depth.
        if "anchor_confirmations" not in settings.model_fields_set:
            env["JIUYUAN_ANCHOR_CONFIRMATIONS"] = "1"
        return _run(command, env)
    state = settings.data_dir / "anvil-state.json"
    anvil = Anvil(
        binary,
        free_port(port),
        state_file=state,
        block_time_s=2,
        log_file=settings.data_dir / "anvil.log",
    )
    anvil.start()
    try:
        chain_id = int(anvil.rpc("eth_chainId"), 16)
        anvil.fund(key.address)
        env["JIUYUAN_CHAIN_RPC_URL"] = anvil.url
        env["JIUYUAN_CHAIN_ID"] = str(chain_id)
        log.info(
            "local chain: anvil on %s (chain %d, a block every 2 s, saved to %s); anchoring "
            "from %s",
            anvil.url,
            chain_id,
            state,
            key.address,
        )
        return _run(command, env)
    finally:
        anvil.stop()
        log.info("local chain stopped")


def _run(command: list[str], env: dict[str, str]) -> int:
    child = subprocess.Popen(command, env=env)

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                # Ctrl-C reached the whole foreground group, the child included: let it finish.
                continue
    finally:
        signal.signal(signal.SIGTERM, previous)
