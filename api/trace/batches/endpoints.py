"""HTTP endpoints of bottling batches."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection

from api.auth.dependencies import require_role
from api.auth.service import Principal, Role
from api.deps import get_conn
from api.trace.batches import service
from api.trace.batches.schemas import BatchIn, BatchOut, RecallIn
from api.trace.deps import write_conn

router = APIRouter(prefix="/v1/batches", tags=["traceability: batches"])


@router.post("", response_model=BatchOut, status_code=201, summary="Plan a bottling batch")
def create_batch(
    body: BatchIn,
    _: Principal = Depends(require_role(Role.WRITER)),
    conn: Connection = Depends(write_conn, scope="function"),
) -> BatchOut:
    """Links product, blend, line, date and planned quantity; draws the blend's volume
    (planned bottles × bottle volume) and writes a `trace.batch.planned` ledger entry."""
    return service.create(conn, body)


@router.get("", response_model=list[BatchOut], summary="Bottling batches")
def list_batches(
    gtin: str | None = Query(None, description="only this product's batches"),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[BatchOut]:
    return service.list_batches(conn, gtin)


@router.get("/{lot}", response_model=BatchOut, summary="One batch")
def get_batch(lot: str, conn: Connection = Depends(get_conn, scope="function")) -> BatchOut:
    return service.get(conn, lot)


@router.post("/{lot}/recall", response_model=BatchOut, summary="Recall a batch")
def recall_batch(
    lot: str,
    body: RecallIn,
    _: Principal = Depends(require_role(Role.ADMIN)),
    conn: Connection = Depends(write_conn, scope="function"),
) -> BatchOut:
    """Writes `trace.batch.recalled`; the scan lookup answers 410 Gone for its codes."""
    return service.recall(conn, lot, body.reason)
