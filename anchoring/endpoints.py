"""HTTP endpoints of anchoring: the anchors, and an entry's anchor and receipt (public reads)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy import Connection

from anchoring import repository as repo
from anchoring.receipt import EntryNotFound, NotAnchored, Receipt, build_receipt
from anchoring.schemas import AnchorList, AnchorOut
from api.deps import BIGINT_MAX, get_conn, get_log
from api.log import repository as log_repo
from api.log.service import LogService

router = APIRouter(prefix="/v1", tags=["anchoring"])

_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such entry (`entry_not_found`) or not anchored yet (`not_anchored`)"}
}


@router.get("/anchors", response_model=AnchorList, summary="Anchors of checkpoints on chain")
def list_anchors(
    state: Literal["pending", "submitted", "confirmed"] | None = Query(
        None, description="only anchors in this state"
    ),
    before: int | None = Query(
        None, ge=1, le=BIGINT_MAX, description="only anchors of smaller trees"
    ),
    limit: int = Query(50, ge=1, le=500),
    conn: Connection = Depends(get_conn, scope="function"),
) -> AnchorList:
    """Newest (largest tree) first. An anchor is `confirmed` once its block is
    `confirmations` deep; see docs/anchoring.md for the calldata format."""
    rows = repo.list_anchors(conn, state=state, before=before, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return AnchorList(
        anchors=[AnchorOut.of(a) for a in rows],
        next_before=rows[-1].tree_size if more and rows else None,
    )


@router.get(
    "/entries/{seq}/anchor",
    response_model=AnchorOut,
    summary="The confirmed anchor covering an entry",
    responses=_NOT_FOUND,
)
def entry_anchor(
    seq: int = Path(ge=0, le=BIGINT_MAX), conn: Connection = Depends(get_conn, scope="function")
) -> AnchorOut:
    """The earliest confirmed anchor whose checkpoint contains the entry."""
    anchor = repo.anchor_covering(conn, seq)
    if anchor is None:
        size = log_repo.log_size(conn)
        if seq >= size:
            raise EntryNotFound(f"there is no entry {seq}; the log has {size} entries")
        raise NotAnchored(f"entry {seq} is not covered by a confirmed anchor yet")
    return AnchorOut.of(anchor)


@router.get(
    "/entries/{seq}/receipt",
    response_model=Receipt,
    summary="A self-contained anchor receipt for an entry",
    responses=_NOT_FOUND,
)
def entry_receipt(
    seq: int = Path(ge=0, le=BIGINT_MAX),
    conn: Connection = Depends(get_conn, scope="function"),
    log: LogService = Depends(get_log),
) -> Receipt:
    """The entry's bytes, its inclusion proof to the anchored checkpoint, the signed note and
    verifier key, and the anchor. Check it with `jiuyuan receipt verify FILE --rpc URL`, or by
    hand as docs/anchoring.md explains."""
    return build_receipt(conn, seq, log.signer.verifier_key())
