"""HTTP endpoints of codes: generation, printer exports, QR images, custody."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from sqlalchemy import Connection

from api.auth.dependencies import require_role
from api.auth.service import Principal, Role
from api.config import Settings
from api.db import Database
from api.deps import BIGINT_MAX, get_app_settings, get_conn, get_db
from api.errors import Unprocessable
from api.trace import common
from api.trace.codes import custody, labels, qr, service
from api.trace.codes import repository as repo
from api.trace.codes.schemas import (
    CodeBatchOut,
    CodeOut,
    CommissionIn,
    CustodyIn,
    EntriesOut,
    GenerateIn,
    PackIn,
    RedeemIn,
    ReplaceIn,
    UnpackIn,
)
from api.trace.codes.service import Code, CodeState
from api.trace.deps import write_conn
from api.trace.products import repository as products_repo
from api.trace.storage import service as storage

router = APIRouter(prefix="/v1", tags=["traceability: codes"])
writer = Depends(require_role(Role.WRITER))


def batch_out(row: dict[str, Any]) -> CodeBatchOut:
    return CodeBatchOut(
        batch_id=row["batch_id"],
        lot=row["lot"],
        gtin=row["gtin"],
        kind=row["kind"],
        count=row["count"],
        created_at=common.local_text(row["created_at"]),
        caps_issued=row["caps_issued_at"] is not None,
    )


def code_out(conn: Connection, code: Code, host: str) -> CodeOut:
    case = None
    if code.parent_id is not None:
        parent = service.by_ids(conn, [code.parent_id]).get(code.parent_id)
        case = parent.uri(host) if parent else None
    return CodeOut(
        uri=code.uri(host),
        serial=code.serial,
        gtin=code.gtin,
        lot=code.lot,
        kind=code.kind,
        state=code.state,
        case=case,
        region=code.region,
        location=code.location,
    )


@router.post(
    "/code-batches", response_model=CodeBatchOut, status_code=201, summary="Generate codes"
)
def generate(
    body: GenerateIn,
    _: Principal = writer,
    conn: Connection = Depends(write_conn, scope="function"),
) -> CodeBatchOut:
    """Generates `count` new random serials for a batch (bottle or case codes) for printing.
    They stay `generated` until commissioned on the bottling line."""
    if body.count > service.MAX_GENERATE_PER_REQUEST:
        raise Unprocessable(
            f"count {body.count:,} is over the {service.MAX_GENERATE_PER_REQUEST:,} codes one "
            f"request may generate: send several requests, or run `jiuyuan codes generate "
            f"--lot {body.lot} --count {body.count}` (up to {service.MAX_GENERATE:,} a batch)",
            code="too_many_codes",
        )
    return batch_out(service.generate(conn, body.lot, body.count, body.kind))


@router.get("/code-batches", response_model=list[CodeBatchOut], summary="Code batches")
def list_code_batches(
    lot: str | None = None,
    _: Principal = writer,
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[CodeBatchOut]:
    return [batch_out(r) for r in service.list_code_batches(conn, lot)]


@router.get("/code-batches/{batch_id}", response_model=CodeBatchOut, summary="One code batch")
def get_code_batch(
    batch_id: str, _: Principal = writer, conn: Connection = Depends(get_conn, scope="function")
) -> CodeBatchOut:
    return batch_out(service.code_batch(conn, batch_id))


@router.get(
    "/code-batches/{batch_id}/export",
    summary="Printer file (streamed)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/plain": {}, "text/csv": {}}}},
)
def export(
    batch_id: str,
    format: Literal["txt", "csv"] = Query("txt"),
    _: Principal = writer,
    db: Database = Depends(get_db),
    settings: Settings = Depends(get_app_settings),
) -> StreamingResponse:
    """`txt`: one Digital Link URI per line. `csv`: header `uri,serial,gtin,lot,kind`."""
    with db.engine.connect() as conn:
        service.code_batch(conn, batch_id)  # 404 before the stream starts

    def body() -> Iterator[bytes]:
        with db.engine.connect() as conn:
            _, lines = service.export_lines(conn, batch_id, settings.resolver_host, format)
            buffer: list[str] = []
            for line in lines:
                buffer.append(line)
                if len(buffer) >= 5000:
                    yield "".join(buffer).encode()
                    buffer = []
            yield "".join(buffer).encode()

    media = "text/csv" if format == "csv" else "text/plain"
    headers = {"Content-Disposition": f'attachment; filename="{batch_id}.{format}"'}
    return StreamingResponse(body(), media_type=f"{media}; charset=utf-8", headers=headers)


@router.post(
    "/code-batches/{batch_id}/caps",
    summary="Issue the under-cap codes (once)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def issue_caps(
    batch_id: str,
    _: Principal = Depends(require_role(Role.ADMIN)),
    conn: Connection = Depends(write_conn, scope="function"),
    settings: Settings = Depends(get_app_settings),
) -> Response:
    """Creates a secret under-cap code per bottle and returns them as CSV
    (`uri,serial,cap_code`). Only hashes are kept: a second call is refused (409)."""
    lines = "".join(service.issue_caps(conn, batch_id, settings.resolver_host))
    return Response(lines, media_type="text/csv; charset=utf-8")


@router.get(
    "/code-batches/{batch_id}/labels",
    summary="Printable label sheet of sample codes (HTML)",
    response_class=HTMLResponse,
)
def label_sheet(
    batch_id: str,
    limit: int = Query(48, ge=1, le=500, description="labels on the sheet"),
    _: Principal = writer,
    conn: Connection = Depends(get_conn, scope="function"),
    settings: Settings = Depends(get_app_settings),
) -> HTMLResponse:
    """The first `limit` codes of a code batch as an A4 sheet of labels (QR as SVG, serial,
    product name), for proofs and sample prints; print it from the browser."""
    batch = service.code_batch(conn, batch_id)
    product = products_repo.get(conn, batch["gtin"])
    assert product is not None
    pairs = []
    for _id, serial in repo.stream_serials(conn, batch_id):
        pairs.append(
            (service.code_uri(settings.resolver_host, batch["gtin"], batch["lot"], serial), serial)
        )
        if len(pairs) >= limit:
            break
    return HTMLResponse(labels.sheet(f"{batch_id} labels", product["name_zh"], pairs))


@router.get("/codes", response_model=list[CodeOut], summary="List codes")
def list_codes(
    lot: str | None = None,
    state: CodeState | None = None,
    kind: service.CodeKind | None = None,
    limit: int = Query(100, ge=1, le=10_000),
    after: int = Query(0, ge=0, le=BIGINT_MAX, description="continue after this internal position"),
    _: Principal = writer,
    conn: Connection = Depends(get_conn, scope="function"),
    settings: Settings = Depends(get_app_settings),
) -> list[CodeOut]:
    rows = repo.list_codes(
        conn, lot, state.value if state else None, kind.value if kind else None, limit, after
    )
    return [code_out(conn, service.to_code(r), settings.resolver_host) for r in rows]


@router.get(
    "/codes/{code:path}/qr",
    summary="QR image of a code",
    response_class=Response,
    responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}}},
)
def code_qr(
    code: str,
    format: Literal["png", "svg"] = Query("png"),
    conn: Connection = Depends(get_conn, scope="function"),
    _: Principal = writer,
    settings: Settings = Depends(get_app_settings),
) -> Response:
    """The code's Digital Link as a QR symbol for labels (error correction M, 4-module quiet
    zone); decodes back to the same URI with any standard reader."""
    uri = service.get_code(conn, code).uri(settings.resolver_host)
    if format == "svg":
        return Response(qr.svg(uri), media_type="image/svg+xml")
    return Response(qr.png(uri), media_type="image/png")


@router.get("/codes/{code:path}", response_model=CodeOut, summary="One code (URI or serial)")
def get_code(
    code: str,
    _: Principal = writer,
    conn: Connection = Depends(get_conn, scope="function"),
    settings: Settings = Depends(get_app_settings),
) -> CodeOut:
    return code_out(conn, service.get_code(conn, code), settings.resolver_host)


def _not_future(at: datetime | None) -> None:
    if at is not None and at > common.now() + timedelta(minutes=5):
        raise service.InvalidCode(f"at {at.isoformat()} is in the future")


@router.post("/codes/commission", response_model=EntriesOut, summary="Commission codes")
def commission(
    body: CommissionIn,
    _: Principal = writer,
    conn: Connection = Depends(write_conn, scope="function"),
) -> EntriesOut:
    """Activates codes of a batch on the bottling line: `trace.codes.commissioned` entries,
    each with the Merkle root of up to 4,096 codes."""
    if body.code_batch is not None:
        batch = service.code_batch(conn, body.code_batch)
        if batch["lot"] != body.lot:
            raise service.InvalidCode(f"code batch {body.code_batch} is for lot {batch['lot']}")
        codes = [
            service.to_code(r)
            for r in repo.in_batch(conn, body.code_batch, CodeState.GENERATED.value)
        ]
        if not codes:
            raise service.CodeStateConflict(f"code batch {body.code_batch} has no unused codes")
    else:
        codes = service.get_codes(conn, body.codes or [])
    _not_future(body.at)
    entries = custody.commission(
        conn, body.lot, codes, location=body.location, region=body.region, at=body.at
    )
    return EntriesOut(entries=entries, codes=len(codes))


@router.post("/codes/pack", response_model=EntriesOut, summary="Pack bottles into cases")
def pack(
    body: PackIn, _: Principal = writer, conn: Connection = Depends(write_conn, scope="function")
) -> EntriesOut:
    """One `trace.codes.packed` entry per case, with the Merkle root of its bottles.
    All cases or none: a bad case fails the whole request."""
    _not_future(body.at)
    entries: list[str] = []
    count = 0
    for item in body.cases:
        case = service.get_code(conn, item.case)
        bottles = service.get_codes(conn, item.bottles)
        entries += custody.pack(conn, case, bottles, location=body.location, at=body.at)
        count += len(bottles)
    return EntriesOut(entries=entries, codes=count)


@router.post("/codes/unpack", response_model=EntriesOut, summary="Unpack a case")
def unpack(
    body: UnpackIn, _: Principal = writer, conn: Connection = Depends(write_conn, scope="function")
) -> EntriesOut:
    case = service.get_code(conn, body.case)
    bottles = service.get_codes(conn, body.bottles) if body.bottles is not None else None
    entries = custody.unpack(conn, case, bottles, location=body.location)
    return EntriesOut(entries=entries, codes=len(bottles) if bottles is not None else 0)


@router.post("/codes/replace", response_model=EntriesOut, summary="Replace a damaged label")
def replace(
    body: ReplaceIn, _: Principal = writer, conn: Connection = Depends(write_conn, scope="function")
) -> EntriesOut:
    """The old code is decommissioned, the new (unused, same product and lot) takes its place,
    its case and custody; at most 3 replacements per case."""
    old, new = service.get_code(conn, body.old), service.get_code(conn, body.new)
    return EntriesOut(entries=custody.replace(conn, old, new, body.reason), codes=2)


@router.post("/codes/custody", response_model=EntriesOut, summary="Record a custody event")
def record(
    body: CustodyIn, _: Principal = writer, conn: Connection = Depends(write_conn, scope="function")
) -> EntriesOut:
    """stored / shipped / received / sold / voided for a list of codes; cases carry their
    bottles along."""
    codes = service.get_codes(conn, body.codes)
    region = body.region
    if body.event == "stored":
        # Storing puts codes in a registered zone, whose conditions then show in provenance.
        if not body.location:
            raise Unprocessable(
                "a stored event needs a location: the id of the registered storage zone",
                code="location_required",
            )
        zone = storage.get_zone(conn, body.location)
        region = region or zone.region
    _not_future(body.at)
    entries = custody.record_custody(
        conn,
        body.event,
        codes,
        location=body.location,
        region=region,
        party=body.party,
        holder_kind=body.holder_kind,
        at=body.at,
    )
    return EntriesOut(entries=entries, codes=len(codes))


@router.post("/codes/redeem", response_model=EntriesOut, summary="Redeem an under-cap code")
def redeem(
    body: RedeemIn, _: Principal = writer, conn: Connection = Depends(write_conn, scope="function")
) -> EntriesOut:
    """Once per bottle, and only after a store has received it."""
    code = service.get_code(conn, body.code)
    return EntriesOut(entries=custody.redeem_cap(conn, code, body.cap_code), codes=1)
