"""The ``jiuyuan`` command line."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from anchoring.cli import anchor_app, receipt_app
from api.auth.cli import users_app
from api.compliance.cli import diversion_app, evidence_app
from api.config import Settings, get_settings
from api.stored_value.cli import stored_value_app
from api.trace.cli import batches_app, codes_app, epcis_app, storage_app

app = typer.Typer(help="Jiuyuan 酒源: the channel's append-only ledger.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="Signing key and API keys.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data for `make run`.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(demo_app, name="demo")
app.add_typer(users_app, name="users")
app.add_typer(anchor_app, name="anchor")
app.add_typer(receipt_app, name="receipt")
app.add_typer(batches_app, name="batches")
app.add_typer(codes_app, name="codes")
app.add_typer(storage_app, name="storage")
app.add_typer(epcis_app, name="epcis")
app.add_typer(diversion_app, name="diversion")
app.add_typer(evidence_app, name="evidence")
app.add_typer(stored_value_app, name="stored-value")

err = Console(stderr=True)


def main() -> None:
    """The console script: the commands, with the errors any of them can meet for a reason a
    person can fix said in one line (``api.cli_errors``), not as a traceback."""
    from api.cli_errors import explain

    # A reader gone away (``| head``) is click's own to handle (it exits 1 quietly).
    try:
        app(prog_name="jiuyuan")
    except Exception as exc:
        said = explain(exc)
        if said is None:
            raise
        code, message = said
        typer.echo(f"error: {message}", err=True)
        sys.exit(code)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1)] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs)."""
    import uvicorn

    uvicorn.run("api.main:app", host=host, port=port, workers=workers, log_level="info")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to the configured database."""
    from api.migrate import upgrade

    settings = get_settings()
    upgrade(settings.resolved_database_url)
    err.print(f"database is up to date ({_redact(settings.resolved_database_url)})")


@keys_app.command("init")
def keys_init() -> None:
    """Create the checkpoint signing key (mode 0600) if there is none; print the verifier key."""
    from api.log.signing import init_signing_key

    settings = get_settings()
    path = settings.resolved_signing_key_file
    signer, created = init_signing_key(path, settings.log_origin)
    err.print(f"{'created' if created else 'kept existing'} signing key {path}")
    from api.auth.tokens import load_or_create_secret

    load_or_create_secret(settings.resolved_token_secret_file)  # people's bearer tokens
    typer.echo(signer.verifier_key())


@keys_app.command("api-key")
def keys_api_key(
    role: Annotated[str, typer.Option(help="writer, admin or device")] = "writer",
    name: Annotated[str, typer.Option(help="who or what will use the key")] = "cli",
    scope: Annotated[
        str | None, typer.Option(help="the warehouse id a device key scans for")
    ] = None,
) -> None:
    """Create an API key and print it once (only its hash is stored)."""
    from api.auth.service import create_api_key
    from api.db import Database
    from api.errors import AppError

    db = Database(get_settings().resolved_database_url)
    try:
        with db.writer.begin() as conn:  # a write: on SQLite, its lock taken up front
            key = create_api_key(conn, role, name, scope)
    except AppError as exc:
        raise _fail(exc.message, 2) from None
    finally:
        db.dispose()
    typer.echo(key)


@contextmanager
def _rereadable(source: str) -> Iterator[BinaryIO]:
    """The file, or standard input kept in a temporary file, to be read more than once."""
    if source != "-":
        with Path(source).open("rb") as stream:
            yield stream
        return
    with tempfile.TemporaryFile() as kept:
        shutil.copyfileobj(sys.stdin.buffer, kept)
        yield kept


def _read_lines(stream: BinaryIO) -> Iterator[tuple[int, str]]:
    """The non-blank lines from the start of ``stream``, numbered, as UTF-8 text."""
    stream.seek(0)
    for number, raw in enumerate(stream, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(f"line {number} is not UTF-8 text (byte {exc.start + 1})", 2) from None
        if line.strip():
            yield number, line


@app.command()
def append(
    source: Annotated[str, typer.Argument(help="a JSON-lines file of entries, or - for stdin")],
) -> None:
    """Append entries ({"id", "kind", "payload"} per line; a missing id gets a random UUID).

    Every line is checked before any is appended: a file with a bad line appends nothing.
    Prints one JSON line per entry with its seq and hashes, then publishes a checkpoint.
    """
    from api.entries.service import parse_submissions
    from api.errors import AppError
    from api.log.sequencer import Submission

    settings = get_settings()

    def submissions(stream: BinaryIO) -> Iterator[list[Submission]]:
        for number, line in _read_lines(stream):
            try:
                yield parse_submissions(_with_id(line, number), settings)[0]
            except AppError as exc:
                message = f"line {number}: {exc.message}; nothing was appended"
                raise _fail(message, 2) from None

    with _rereadable(source) as stream:
        if sum(len(subs) for subs in submissions(stream)) == 0:
            raise _fail(f"no entries in {source}", 2)
        log = _open_log(settings)
        try:
            batch: list[Submission] = []
            for subs in submissions(stream):
                batch.extend(subs)
                if len(batch) >= settings.max_entries_per_request:
                    _append_batch(log, batch)
                    batch = []
            if batch:
                _append_batch(log, batch)
            cp = log.checkpoint_now()
            if cp is not None:
                err.print(f"published checkpoint of tree size {cp.tree_size}")
        finally:
            log.close()
            log.db.dispose()


def _with_id(line: str, number: int) -> bytes:
    try:
        obj: Any = json.loads(line, parse_float=str)
    except (json.JSONDecodeError, RecursionError):
        return line.encode()  # parse_submissions explains the error
    if isinstance(obj, dict) and "id" not in obj:
        obj = {"id": str(uuid.uuid4()), **obj}
        return json.dumps(obj, ensure_ascii=False).encode()
    return line.encode()


def _append_batch(log: Any, batch: list[Any]) -> None:
    from api.errors import AppError

    try:
        results = log.sequencer.append(batch)
    except AppError as exc:
        raise _fail(exc.message, 2) from None
    for r in results:
        typer.echo(
            json.dumps(
                {
                    "seq": r.seq,
                    "id": r.entry_id,
                    "leaf_hash": r.leaf_hash.hex(),
                    "chain_hash": r.chain_hash.hex(),
                    "duplicate": r.duplicate,
                }
            )
        )


@app.command()
def checkpoint() -> None:
    """Integrate what is sequenced, publish a checkpoint if the log grew, print the latest."""
    from api.log import repository as repo

    settings = get_settings()
    log = _open_log(settings)
    try:
        log.checkpoint_now()
        with log.db.engine.connect() as conn:
            cp = repo.latest_checkpoint(conn)
    finally:
        log.close()
        log.db.dispose()
    if cp is None:
        raise _fail("the log is empty; there is nothing to checkpoint")
    typer.echo(cp.note, nl=False)


@app.command()
def verify() -> None:
    """Check the whole stored log: leaf hashes, chain, roots, signatures, consistency.

    Exits 0 when everything holds; otherwise 1, naming the first bad seq and the reason.
    """
    from api.db import Database
    from api.log import repository as repo
    from api.log.audit import audit_log
    from api.log.signing import load_signing_key
    from ledger.audit import LogFault
    from ledger.note import NoteVerifier

    settings = get_settings()
    signer = load_signing_key(settings.resolved_signing_key_file)
    verifier = NoteVerifier.from_verifier_key(signer.verifier_key())
    db = Database(settings.resolved_database_url)
    try:
        with db.engine.connect() as conn:
            total = repo.log_size(conn)
        columns = (
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("entries", total=total)
            audit = audit_log(
                db.engine,
                verifier,
                settings.log_origin,
                progress=lambda n: bar.advance(task, n),
            )
    except LogFault as fault:
        typer.echo(f"FAILED at seq {fault.seq}: {fault.reason}", err=True)
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    typer.echo(
        f"OK: {audit.size} entries, {audit.checked_checkpoints} checkpoints verified "
        f"(leaf hashes, chain, roots, signatures, consistency)"
    )


@demo_app.command("seed")
def demo_seed(
    base_url: Annotated[
        str, typer.Option(help="where the server will answer: the printed links start with it")
    ] = "http://127.0.0.1:8000",
) -> None:
    """Append a few sample entries when the log is empty (idempotent)."""
    from api.demo import seed

    settings = get_settings()
    log = _open_log(settings)
    try:
        added = seed(log)
    finally:
        log.close()
        log.db.dispose()
    err.print(f"demo data: {added} entries appended" if added else "demo data already present")
    from api.trace.demo import seed as seed_traceability

    log = _open_log(settings)
    try:
        traced = seed_traceability(log, host=settings.resolver_host)
    finally:
        log.close()
        log.db.dispose()
    if traced["bottle"]:
        err.print(f"a demo bottle: {base_url.rstrip('/')}/{traced['path']}  ({traced['bottle']})")
    from api.channel.demo import seed as seed_channel

    log = _open_log(settings)
    try:
        logins = seed_channel(log, settings.data_dir)
    finally:
        log.close()
        log.db.dispose()
    for line in logins:
        typer.echo(line)
    from api.stored_value.demo import seed as seed_stored_value

    log = _open_log(settings)
    try:
        for line in seed_stored_value(log, settings):
            typer.echo(line)
    finally:
        log.close()
        log.db.dispose()
    from api.compliance.demo import seed as seed_compliance
    from api.compliance.detection.thresholds import from_settings

    log = _open_log(settings)
    try:
        for line in seed_compliance(log, from_settings(settings)):
            typer.echo(line)
    finally:
        log.close()
        log.db.dispose()


def _signer(settings: Settings) -> Any:
    """The log's signing key, or the command fails saying how to make one."""
    from api.log.signing import SigningKeyMissing, load_signing_key

    try:
        return load_signing_key(settings.resolved_signing_key_file)
    except SigningKeyMissing as exc:
        raise _fail(str(exc)) from None


def _open_log(settings: Settings, signer: Any = None) -> Any:
    from api.db import Database
    from api.log.service import LogService

    signer = signer if signer is not None else _signer(settings)
    return LogService(Database(settings.resolved_database_url), settings, signer, background=False)


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    main()
