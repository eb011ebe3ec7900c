"""``jiuyuan anchor …`` and ``jiuyuan receipt …``: the anchoring worker and receipts."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from api.config import Settings, get_settings

anchor_app = typer.Typer(
    help="Anchoring checkpoints to an EVM chain (docs/anchoring.md).", no_args_is_help=True
)


class _SeqOrVerify(TyperGroup):
    """``receipt SEQ`` writes a receipt, ``receipt verify FILE`` checks one."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer vendors click
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["get", *args]
        return super().parse_args(ctx, args)


receipt_app = typer.Typer(
    cls=_SeqOrVerify,
    help="Anchor receipts: `jiuyuan receipt SEQ [--out FILE]` writes one, "
    "`jiuyuan receipt verify FILE [--rpc URL]` checks one.",
    no_args_is_help=True,
)

# The steps after which `run --once` keeps going: something moved, more may follow at once.
_PROGRESS = {"submitted", "bumped", "resent", "confirmed"}


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _signer(settings: Settings) -> Any:
    from api.log.signing import SigningKeyMissing, load_signing_key

    try:
        return load_signing_key(settings.resolved_signing_key_file)
    except SigningKeyMissing as exc:
        raise _fail(str(exc), 2) from None


def _open(settings: Settings) -> tuple[Any, Any]:
    from anchoring.errors import AnchoringConfigError
    from anchoring.service import load_anchorer
    from api.db import Database

    signer = _signer(settings)
    db = Database(settings.resolved_database_url)
    try:
        return db, load_anchorer(settings, db, signer.verifier())
    except AnchoringConfigError as exc:
        db.dispose()
        raise _fail(str(exc), 2) from None


@anchor_app.command("run")
def anchor_run(
    once: Annotated[
        bool, typer.Option("--once", help="one pass: step while anchoring moves, then exit")
    ] = False,
) -> None:
    """Anchor the log's checkpoints: every JIUYUAN_ANCHOR_INTERVAL_S while the log grows.

    Only one process anchors at a time (a lease in the database); others stand by.
    """
    from anchoring.errors import AnchoringError
    from anchoring.runner import AnchorRunner
    from anchoring.service import NullAnchorer, poll_interval

    settings = get_settings()
    _logging()
    db, anchorer = _open(settings)
    try:
        if isinstance(anchorer, NullAnchorer):
            raise _fail(anchorer.describe(), 2)
        runner = AnchorRunner(db, anchorer, poll_s=poll_interval(settings))
        if not once:
            signal.signal(signal.SIGTERM, lambda *_: runner.close(0))
            try:
                runner.run()
            except KeyboardInterrupt:
                runner.release()
            return
        try:
            for _ in range(20):
                report = runner.run_once()
                typer.echo(f"{report.action}: {report.message}")
                if report.action not in _PROGRESS:
                    break
        except AnchoringError as exc:
            raise _fail(str(exc)) from None
        finally:
            runner.release()
    finally:
        db.dispose()


@anchor_app.command("status")
def anchor_status() -> None:
    """Show the backend, the anchoring address and its balance, and the latest anchors."""
    from anchoring import repository as repo
    from anchoring.anchorer import Web3Anchorer
    from anchoring.errors import ChainUnavailable
    from anchoring.runner import LEASE

    settings = get_settings()
    db, anchorer = _open(settings)
    try:
        typer.echo(f"backend: {anchorer.describe()}")
        if isinstance(anchorer, Web3Anchorer):
            try:
                chain_id = anchorer.chain.chain_id()
                balance = anchorer.chain.balance(anchorer.key.address)
                typer.echo(f"chain: {chain_id}, head block {anchorer.chain.head()}")
                typer.echo(f"balance: {balance / 10**18:.6f} ether")
            except ChainUnavailable as exc:
                typer.echo(f"chain: unreachable ({exc})")
        with db.engine.connect() as conn:
            held = repo.lease_holder(conn, LEASE)
            recent = repo.list_anchors(conn, state=None, before=None, limit=5)
        if held is not None:
            typer.echo(f"lease: {held[0]} until {held[1].isoformat()}")
        for a in recent:
            where = f"block {a.block_number}" if a.block_number is not None else "no block yet"
            tx = "0x" + a.tx_hash.hex() if a.tx_hash else "-"
            typer.echo(f"tree {a.tree_size}: {a.state}, chain {a.chain_id}, {where}, tx {tx}")
        if not recent:
            typer.echo("no anchors yet")
    finally:
        db.dispose()


@anchor_app.command(
    "dev-chain", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def anchor_dev_chain(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="anvil's port (a free one if taken)")] = 8545,
) -> None:
    """Run COMMAND (after --) with anchoring on a local anvil, stopped when COMMAND ends.

    Used by `make run`. Without Node/anvil, COMMAND anchors to web3's in-process
    EthereumTesterProvider; with JIUYUAN_CHAIN_RPC_URL set, to that chain, starting nothing.
    """
    from anchoring.devchain import run_with_dev_chain
    from anchoring.errors import AnchoringError

    command = list(ctx.args)
    if not command:
        raise _fail("give the command to run after --, e.g. -- jiuyuan serve", 2)
    _logging()
    try:
        code = run_with_dev_chain(command, get_settings(), Path.cwd(), port)
    except AnchoringError as exc:
        raise _fail(str(exc)) from None
    raise typer.Exit(code)


@receipt_app.command("get", hidden=True)
def receipt_get(
    seq: Annotated[int, typer.Argument(min=0, help="the entry's seq")],
    out: Annotated[Path | None, typer.Option("--out", help="write here, not stdout")] = None,
) -> None:
    """Write the anchor receipt of entry SEQ (JSON)."""
    from anchoring.errors import AnchoringError
    from anchoring.receipt import build_receipt
    from api.db import Database
    from api.errors import AppError

    settings = get_settings()
    signer = _signer(settings)
    db = Database(settings.resolved_database_url)
    try:
        with db.engine.connect() as conn:
            receipt = build_receipt(conn, seq, signer.verifier_key())
    except AppError as exc:
        raise _fail(exc.message) from None
    except AnchoringError as exc:
        raise _fail(str(exc)) from None
    finally:
        db.dispose()
    text = receipt.model_dump_json(indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote the receipt of entry {seq} to {out}", err=True)


@receipt_app.command("verify")
def receipt_verify(
    file: Annotated[Path, typer.Argument(help="a receipt JSON file, or - for stdin")],
    rpc: Annotated[
        str | None, typer.Option("--rpc", help="a JSON-RPC URL: also check the anchor on chain")
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", help="pin the log's verifier key (out of band)")
    ] = None,
    sender: Annotated[
        str | None, typer.Option("--sender", help="pin the log's anchoring address")
    ] = None,
    confirmations: Annotated[
        int | None, typer.Option(min=1, help="depth to demand (default: the receipt's)")
    ] = None,
) -> None:
    """Check a receipt: entry hash, signature, inclusion proof and calldata offline; with
    --rpc also that the transaction is on chain, canonical, deep enough and carries it.

    Exits 0 only when every check holds; otherwise 1, with the reason of each failure.
    """
    from anchoring.errors import AnchoringError
    from anchoring.receipt import parse_receipt, verify_offline, verify_on_chain
    from ledger.errors import VerificationError

    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        receipt = parse_receipt(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {file}: {exc}") from None
    except VerificationError as exc:
        raise _fail(str(exc)) from None
    if rpc is None and (sender is not None or confirmations is not None):
        raise _fail("--sender and --confirmations are checked on chain: add --rpc URL", 2)
    checks = verify_offline(receipt, key=key)
    if rpc is not None:
        from anchoring.chain import Web3Chain

        try:
            checks += verify_on_chain(
                receipt,
                Web3Chain.connect(rpc),
                confirmations=confirmations,
                sender=sender,
            )
        except AnchoringError as exc:
            raise _fail(f"cannot check on chain: {exc}") from None
    for check in checks:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[check.ok]
        typer.echo(f"{mark} {check.name}: {check.detail}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
    where = "on chain" if rpc else "offline (add --rpc URL to check the chain)"
    typer.echo(f"OK: entry {receipt.entry.seq} is in an anchored checkpoint, verified {where}")
