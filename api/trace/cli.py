"""``jiuyuan`` sub-commands of traceability: batches, codes, storage, epcis."""

from __future__ import annotations

import errno
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import Connection

from api.config import get_settings
from api.errors import AppError

batches_app = typer.Typer(help="Bottling batches.", no_args_is_help=True)
codes_app = typer.Typer(help="One code per bottle (GS1 Digital Link).", no_args_is_help=True)
storage_app = typer.Typer(help="Storage conditions (sensor readings).", no_args_is_help=True)
epcis_app = typer.Typer(help="EPCIS 2.0 export.", no_args_is_help=True)

err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@contextmanager
def _transaction(write: bool = False) -> Iterator[Connection]:
    """One transaction on the configured database; AppErrors become a clear exit."""
    from api.db import Database

    db = Database(get_settings().resolved_database_url)
    try:
        with (db.writer if write else db.engine).begin() as conn:
            yield conn
    except AppError as exc:
        raise _fail(exc.message) from None
    finally:
        db.dispose()


@contextmanager
def _replacing(out: Path, *, private: bool = False) -> Iterator[Path]:
    """A temporary file beside ``out`` that becomes ``out`` when the block succeeds: a failed
    or interrupted run leaves no half-written file, and ``out`` as it was. ``private``: the
    file is the owner's alone (mode 0600), whatever the file it replaces allowed."""
    if out.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory", str(out))
    if not out.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such directory", str(out.parent))
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    os.close(fd)
    part = Path(name)
    try:
        yield part
        if not private:
            umask = os.umask(0)
            os.umask(umask)
            part.chmod(0o666 & ~umask)
        part.replace(out)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _relay() -> None:
    """Sequence what a command staged and publish a checkpoint (as the server would)."""
    from api.cli import _open_log

    log = _open_log(get_settings())
    try:
        log.relay()
        log.checkpoint_now()
    finally:
        log.close()
        log.db.dispose()


@batches_app.command("list")
def batches_list() -> None:
    """One JSON object per line: lot, GTIN, product, blend, line, bottled_on, status."""
    from api.trace.batches import service

    with _transaction() as conn:
        for b in service.list_batches(conn):
            row = {
                "lot": b.lot,
                "gtin": b.gtin,
                "product": b.product,
                "blend": b.blend_no,
                "line": b.line,
                "bottled_on": b.bottled_on.isoformat(),
                "status": b.status.value,
            }
            typer.echo(json.dumps(row, ensure_ascii=False))


@codes_app.command("generate")
def codes_generate(
    lot: Annotated[str, typer.Option(help="the batch's lot number")],
    count: Annotated[int, typer.Option(min=1, help="how many codes")],
    kind: Annotated[str, typer.Option(help="bottle or case")] = "bottle",
) -> None:
    """Generate new random codes for a batch; print the code batch id."""
    from api.trace.codes.service import CodeKind, generate

    try:
        parsed = CodeKind(kind)
    except ValueError:
        raise _fail(f"--kind must be bottle or case, not {kind!r}") from None
    with _transaction(write=True) as conn:
        batch = generate(conn, lot, count, parsed)
    err.print(f"generated {count:,} {kind} codes for lot {lot}")
    typer.echo(batch["batch_id"])


@codes_app.command("list")
def codes_list(
    lot: Annotated[str | None, typer.Option(help="only this lot")] = None,
    state: Annotated[str | None, typer.Option(help="only this state")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
) -> None:
    """One JSON object per line: uri, serial, kind, state, lot, gtin."""
    from api.trace.codes import repository as repo
    from api.trace.codes.service import CodeState, to_code

    if state is not None and state not in {s.value for s in CodeState}:
        raise _fail(f"unknown state {state!r}; one of {', '.join(s.value for s in CodeState)}")
    from api.trace.batches import repository as batches

    host = get_settings().resolver_host
    with _transaction() as conn:
        if lot is not None and batches.get(conn, lot) is None:
            raise _fail(f"no batch with lot {lot!r}; `jiuyuan batches list` shows the lots")
        for row in repo.list_codes(conn, lot, state, None, limit, 0):
            code = to_code(row)
            out = {
                "uri": code.uri(host),
                "serial": code.serial,
                "kind": code.kind.value,
                "state": code.state.value,
                "lot": code.lot,
                "gtin": code.gtin,
            }
            typer.echo(json.dumps(out))


@codes_app.command("export")
def codes_export(
    batch_id: Annotated[str, typer.Argument(help="the code batch id")],
    format: Annotated[str, typer.Option("--format", help="txt or csv")] = "txt",
    out: Annotated[Path | None, typer.Option("--out", help="file (default: stdout)")] = None,
) -> None:
    """The printer file: txt (one Digital Link URI per line) or csv (with a header row)."""
    from api.trace.codes.service import export_lines

    host = get_settings().resolver_host
    with _transaction() as conn:
        total, lines = export_lines(conn, batch_id, host, format)
        try:
            if out is None:
                _write_lines(sys.stdout, lines, total)
            else:
                with (
                    _replacing(out) as part,
                    part.open("w", encoding="utf-8", newline="") as stream,
                ):
                    _write_lines(stream, lines, total)
        finally:
            lines.close()  # its cursor, while the transaction is still open
    if out:
        err.print(f"wrote {total:,} codes to {out}")


def _write_lines(stream: Any, lines: Iterator[str], total: int) -> None:
    columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("codes", total=total)
        buffer: list[str] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) == 10_000:
                stream.write("".join(buffer))
                bar.advance(task, len(buffer))
                buffer = []
        stream.write("".join(buffer))
        stream.flush()
        bar.update(task, completed=total)


@codes_app.command("caps")
def codes_caps(
    batch_id: Annotated[str, typer.Argument(help="a bottle code batch")],
    out: Annotated[Path, typer.Option("--out", help="CSV file for the cap printer")],
) -> None:
    """Issue the under-cap secret codes of a bottle code batch (once; only hashes are kept)."""
    from api.trace.codes.service import issue_caps

    host = get_settings().resolver_host
    # The file is put in place once the caps are committed as issued, never before.
    with _replacing(out, private=True) as part, _transaction(write=True) as conn:
        lines = list(issue_caps(conn, batch_id, host))
        part.write_text("".join(lines), encoding="utf-8")
    err.print(f"wrote {len(lines) - 1:,} under-cap codes to {out} (keep it safe: not stored)")


@codes_app.command("qr")
def codes_qr(
    uri: Annotated[str, typer.Argument(help="a GS1 Digital Link URI")],
    out: Annotated[Path, typer.Option("--out", help="FILE.png or FILE.svg")],
) -> None:
    """Write the URI as a QR image (error correction M, 4-module quiet zone)."""
    from api.trace.codes import qr
    from ledger.gs1 import GS1Error, parse_digital_link

    try:
        parse_digital_link(uri)
    except GS1Error as exc:
        raise _fail(f"not a valid GS1 Digital Link: {exc}") from None
    suffix = out.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise _fail("--out must end in .png or .svg")
    with _replacing(out) as part:
        part.write_bytes(qr.png(uri) if suffix == ".png" else qr.svg(uri))
    err.print(f"wrote {out}")


@storage_app.command("ingest")
def storage_ingest(
    source: Annotated[Path, typer.Argument(help="JSON lines (.jsonl) or CSV (.csv) readings")],
) -> None:
    """Store readings and seal every finished hour into the ledger."""
    from api.trace.storage import service

    media = "text/csv" if source.suffix.lower() == ".csv" else "application/x-ndjson"
    readings = _parse(service, source.read_bytes(), media)
    if not readings:
        raise _fail(f"no readings in {source}")
    total: dict[str, Any] = {"accepted": 0, "duplicates": 0, "sealed_hours": 0, "excursions": 0}
    # One transaction: a file refused anywhere (an unknown sensor, a changed reading) stores
    # nothing, however many readings came before.
    with _transaction(write=True) as conn:
        for start in range(0, len(readings), service.MAX_READINGS):
            result = service.ingest(conn, readings[start : start + service.MAX_READINGS])
            for key in total:
                total[key] += getattr(result, key)
    _relay()
    typer.echo(json.dumps(total))


def _parse(service: Any, raw: bytes, media: str) -> list[Any]:
    try:
        lines = raw.splitlines(keepends=True)
        header = lines[:1] if media == "text/csv" else []
        body = lines[1:] if media == "text/csv" else lines
        out: list[Any] = []
        step = service.MAX_READINGS
        for start in range(0, len(body), step):
            out += service.parse_readings(b"".join(header + body[start : start + step]), media)
        return out
    except AppError as exc:
        raise _fail(exc.message) from None


@storage_app.command("seal")
def storage_seal() -> None:
    """Seal every finished zone-hour now (the server does this after each upload)."""
    from api.trace.storage import service

    with _transaction(write=True) as conn:
        hours, found = service.seal(conn)
    _relay()
    typer.echo(json.dumps({"sealed_hours": hours, "excursions": found}))


@epcis_app.command("export")
def epcis_export(
    code: Annotated[str | None, typer.Option("--code", help="a code's URI or serial")] = None,
    lot: Annotated[str | None, typer.Option("--lot", help="a lot number")] = None,
) -> None:
    """Print the EPCIS 2.0 JSON-LD document of a code or a lot."""
    from api.trace.epcis import service

    if (code is None) == (lot is None):
        raise _fail("give exactly one of --code URI or --lot LOT")
    if not (code or lot or "").strip():
        raise _fail("--code and --lot must not be empty")
    host = get_settings().resolver_host
    with _transaction() as conn:
        doc = (
            service.export_code(conn, code, host)
            if code is not None
            else service.export_lot(conn, lot or "", host)
        )
    typer.echo(json.dumps(doc, ensure_ascii=False, indent=2))
