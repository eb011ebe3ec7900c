"""HTTP endpoints for checkpoints."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from sqlalchemy import Connection

from api.auth.dependencies import require_role
from api.auth.service import Principal, Role
from api.deps import BIGINT_MAX, get_conn, get_log
from api.errors import NotFound
from api.log import repository as repo
from api.log.service import LogService

router = APIRouter(prefix="/v1", tags=["ledger"])

NOTE = "text/plain; charset=utf-8"


@router.get("/checkpoint", response_class=PlainTextResponse, summary="Latest signed checkpoint")
def latest(conn: Connection = Depends(get_conn, scope="function")) -> PlainTextResponse:
    cp = repo.latest_checkpoint(conn)
    if cp is None:
        raise NotFound("no checkpoint has been published yet; the log is empty")
    return PlainTextResponse(cp.note, media_type=NOTE)


@router.get("/checkpoint/key", response_class=PlainTextResponse, summary="Verifier key")
def verifier_key(log: LogService = Depends(get_log)) -> PlainTextResponse:
    return PlainTextResponse(log.signer.verifier_key() + "\n", media_type=NOTE)


@router.get("/checkpoints", response_class=PlainTextResponse, summary="Checkpoint by tree size")
def by_size(
    size: int = Query(ge=0, le=BIGINT_MAX), conn: Connection = Depends(get_conn, scope="function")
) -> PlainTextResponse:
    cp = repo.checkpoint_at(conn, size)
    if cp is None:
        latest = repo.latest_checkpoint(conn)
        hint = f"; the latest is {latest.tree_size}" if latest else ""
        raise NotFound(f"no checkpoint was published at tree size {size}{hint}")
    return PlainTextResponse(cp.note, media_type=NOTE)


@router.post("/checkpoint", response_class=PlainTextResponse, summary="Publish a checkpoint now")
async def publish_now(
    _: Principal = Depends(require_role(Role.WRITER)), log: LogService = Depends(get_log)
) -> PlainTextResponse:
    """Integrate what is sequenced and publish a checkpoint if the tree grew; return the latest."""
    await asyncio.to_thread(log.checkpoint_now)
    with log.db.engine.begin() as conn:
        cp = repo.latest_checkpoint(conn)
    if cp is None:
        raise NotFound("the log is empty; there is nothing to checkpoint")
    return PlainTextResponse(cp.note, media_type=NOTE)
