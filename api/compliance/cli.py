"""``jiuyuan diversion …`` and ``jiuyuan evidence …``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

diversion_app = typer.Typer(
    help="Diversion (窜货) and cloned-code detection.", no_args_is_help=True
)
evidence_app = typer.Typer(help="Evidence bundles of compliance alerts.", no_args_is_help=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@diversion_app.command("detect")
def detect(
    helpers: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="processes to fork to share the building of the alerts "
            "(default: one fewer than the cores, at most 3)",
        ),
    ] = None,
) -> None:
    """Run detection over every case and scan; print counts by signal and the alerts raised.

    Alerts are written to the ledger; the command relays them and publishes a checkpoint.
    """
    from api.cli import _open_log, _signer
    from api.compliance.alerts.runs import default_helpers, run_detection
    from api.compliance.detection.thresholds import from_settings
    from api.config import get_settings
    from api.db import Database

    settings = get_settings()
    signer = _signer(settings)  # before the run: alerts that cannot be relayed are not worth it
    if helpers is None:
        helpers = default_helpers()
    # The run first, on a database of its own: its helpers are forked from a process with
    # no other thread yet (the log's writer starts with the log).
    db = Database(settings.resolved_database_url)
    try:
        with db.writer.begin() as conn:
            report = run_detection(conn, from_settings(settings), "cli", helpers=helpers)
    finally:
        db.dispose()
    log = _open_log(settings, signer)
    try:
        log.relay()
        log.checkpoint_now()
    finally:
        log.close()
        log.db.dispose()
    typer.echo(f"scans judged: {report.scans:,}; case movements: {report.movements:,}")
    typer.echo("signals seen (alert or not):")
    for name, count in sorted(report.signals.items()):
        typer.echo(f"  {name:<24} {count:>8,}")
    typer.echo("findings at or above the alert score:")
    for name, count in sorted(report.findings.items()):
        typer.echo(f"  {name:<24} {count:>8,}")
    typer.echo(f"alerts raised: {report.raised:,}; updated with new evidence: {report.updated:,}")


@evidence_app.command("export")
def export(
    alert_id: Annotated[str, typer.Argument(help="the alert's id (al_…)")],
    out: Annotated[Path, typer.Option("--out", help="where to write the bundle (JSON)")],
) -> None:
    """Write an alert's evidence bundle: its entries, proofs, checkpoint, key and anchors."""
    from api.cli import _open_log
    from api.compliance.alerts import repository as repo
    from api.compliance.evidence.export import export_bundle
    from api.config import get_settings
    from api.errors import AppError

    settings = get_settings()
    log = _open_log(settings)
    try:
        log.relay()
        log.checkpoint_now()
        with log.db.engine.connect() as conn:
            alert = repo.get_alert(conn, alert_id)
            if alert is None:
                raise _fail(f"no alert {alert_id}", 2)
            bundle = export_bundle(
                conn, alert, origin=settings.log_origin, verifier_key=log.signer.verifier_key()
            )
    except AppError as exc:
        raise _fail(exc.message) from None
    finally:
        log.close()
        log.db.dispose()
    out.write_text(bundle.model_dump_json(indent=2) + "\n", encoding="utf-8")
    typer.echo(
        f"wrote the evidence of {alert_id} ({len(bundle.entries)} entries) to {out}", err=True
    )


@evidence_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="an evidence bundle (JSON), or - for stdin")],
    key: Annotated[
        str | None, typer.Option("--key", help="pin the log's verifier key (obtained out of band)")
    ] = None,
) -> None:
    """Check a bundle offline — no database, no network: the checkpoint's signature, every
    entry's hash and inclusion proof, every list item, the alert's decisions, the anchors.

    Exits 0 only when every check holds; otherwise 1, naming each failure.
    """
    from api.compliance.evidence.verify import parse_bundle, verify_bundle
    from ledger.errors import VerificationError

    try:
        text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
        bundle = parse_bundle(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {file}: {exc}") from None
    except VerificationError as exc:
        raise _fail(str(exc)) from None
    checks = verify_bundle(bundle, key=key)
    for check in checks:
        mark = {True: "ok  ", False: "FAIL", None: "skip"}[check.ok]
        typer.echo(f"{mark} {check.name}: {check.detail}")
    if not all(c.ok for c in checks):
        raise typer.Exit(1)
    pinned = "" if key else " (verifier key not pinned: pass --key to check who signed)"
    typer.echo(f"OK: alert {bundle.alert_id}, {len(bundle.entries)} entries verified{pinned}")
