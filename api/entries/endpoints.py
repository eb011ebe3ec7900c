"""HTTP endpoints for the log's entries and proofs (thin: rules live in the service)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import Connection

from api.auth.dependencies import require_role
from api.auth.service import Principal, Role
from api.config import Settings
from api.deps import BIGINT_MAX, get_app_settings, get_conn, get_log
from api.entries import service
from api.entries.schemas import AppendedEntry, AppendResult, EntryOut, ProofOut
from api.errors import AppError
from api.log.service import LogService
from api.media import media_type
from ledger.canonical import format_ts

router = APIRouter(prefix="/v1", tags=["ledger"])


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class BodyTooLarge(AppError):
    status_code = 413
    code = "body_too_large"


async def _read_body(request: Request, limit: int) -> bytes:
    media = media_type(request.headers.get("content-type"))
    if media != "application/json":
        raise UnsupportedMediaType(
            f"send entries as application/json (got {media or 'no content type'})"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"request body over {limit} bytes; send fewer entries per request")
        chunks.append(chunk)
    return b"".join(chunks)


_ENTRY_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": "#/components/schemas/EntryIn"},
                        {"type": "array", "items": {"$ref": "#/components/schemas/EntryIn"}},
                    ]
                },
                "example": {
                    "id": "5f0c1a52-8f7e-4a55-9d55-0d3c0b3c9a11",
                    "kind": "production.batch",
                    "payload": {"lot": "L20261125A", "gtin": "06901234567892", "bottles": 1200},
                },
            }
        },
    }
}


@router.post(
    "/entries",
    response_model=AppendResult,
    status_code=201,
    openapi_extra=_ENTRY_BODY,
    summary="Append one entry or a list of entries",
    responses={
        200: {"description": "every entry was a retry of one already in the log"},
        409: {"description": "an id was already used for a different entry"},
        413: {"description": "body or entry too large"},
        415: {"description": "not application/json"},
        422: {"description": "malformed entry (floats, unknown fields, bad kind or id)"},
        503: {"description": "overloaded; retry after Retry-After seconds"},
    },
)
async def append_entries(
    request: Request,
    response: Response,
    _: Principal = Depends(require_role(Role.WRITER)),
    log: LogService = Depends(get_log),
    settings: Settings = Depends(get_app_settings),
) -> AppendResult:
    """Entries are acknowledged only once durably committed, with their `seq` and hashes.

    Limits: at most `max_entries_per_request` (1,000) entries and 8 MiB per request, 64 KiB per
    entry as canonical JSON. Numbers must be integers.
    """
    raw = await _read_body(request, settings.max_request_bytes)
    subs, _single = service.parse_submissions(raw, settings)
    results = await asyncio.wrap_future(log.sequencer.submit(subs))
    if all(r.duplicate for r in results):
        response.status_code = 200
    return AppendResult(
        entries=[
            AppendedEntry(
                seq=r.seq,
                id=r.entry_id,
                leaf_hash=r.leaf_hash.hex(),
                chain_hash=r.chain_hash.hex(),
                ts=format_ts(r.ts),
                duplicate=r.duplicate,
            )
            for r in results
        ]
    )


@router.get("/entries/{seq}", response_model=EntryOut, summary="One entry, optionally with proof")
def get_entry(
    seq: int = Path(ge=0, le=BIGINT_MAX),
    proof: bool = Query(False, description="include an inclusion proof to the latest checkpoint"),
    conn: Connection = Depends(get_conn, scope="function"),
) -> EntryOut:
    return service.read_entry(conn, seq, proof)


@router.get("/proofs/inclusion", response_model=ProofOut, summary="Inclusion proof")
def inclusion(
    seq: int = Query(ge=0, le=BIGINT_MAX),
    size: int = Query(ge=1, le=BIGINT_MAX),
    conn: Connection = Depends(get_conn, scope="function"),
) -> ProofOut:
    return ProofOut(proof=[h.hex() for h in service.inclusion_proof(conn, seq, size)])


@router.get("/proofs/consistency", response_model=ProofOut, summary="Consistency proof")
def consistency(
    first: int = Query(ge=1, le=BIGINT_MAX),
    second: int = Query(ge=1, le=BIGINT_MAX),
    conn: Connection = Depends(get_conn, scope="function"),
) -> ProofOut:
    return ProofOut(proof=[h.hex() for h in service.consistency_proof(conn, first, second)])
