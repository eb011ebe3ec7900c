"""Bottling batches: a lot of one product filled from one blend; recalls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Final

from sqlalchemy import Connection

from api.errors import Conflict, NotFound, Unprocessable
from api.trace import common
from api.trace.batches import repository as repo
from api.trace.batches.schemas import BatchIn, BatchOut, BatchStatus
from api.trace.blending import repository as blending
from api.trace.blending.service import InsufficientVolume, UnknownBlend
from api.trace.products import repository as products
from api.trace.products.service import UnknownProduct, parse_gtin

PLANNING_HORIZON: Final = timedelta(days=180)
"""How far ahead a batch may be planned: codes are generated and printed before the line
runs, but a bottling date half a year out is a typing slip, not a plan."""


class UnknownBatch(NotFound):
    code = "unknown_batch"


def create(conn: Connection, data: BatchIn) -> BatchOut:
    gtin = parse_gtin(data.gtin)
    product = products.get(conn, gtin)
    if product is None:
        raise UnknownProduct(f"no product with GTIN {gtin}; register it first")
    if repo.get(conn, data.lot) is not None:
        raise Conflict(f"batch {data.lot} already exists", code="batch_exists")
    blend = blending.get_blend(conn, data.blend_no)
    if blend is None:
        raise UnknownBlend(f"no blend {data.blend_no}")
    if data.bottled_on < blend["blended_on"]:
        raise Unprocessable(
            f"bottled_on {data.bottled_on} is before blend {data.blend_no} was made "
            f"({blend['blended_on']})"
        )
    latest = common.today() + PLANNING_HORIZON
    if data.bottled_on > latest:
        raise Unprocessable(
            f"bottled_on {data.bottled_on} is more than {PLANNING_HORIZON.days} days ahead "
            f"(latest {latest}, Asia/Shanghai)",
            code="date_in_future",
        )
    needed = data.planned_qty * product["volume_ml"]
    if not blending.draw_blend(conn, data.blend_no, needed):
        raise InsufficientVolume(
            f"blend {data.blend_no} has {blend['remaining_ml']} ml left; {data.planned_qty} "
            f"bottles of {product['volume_ml']} ml need {needed} ml"
        )
    payload = {
        "lot": data.lot,
        "gtin": gtin,
        "blend": data.blend_no,
        "line": data.line,
        "bottled_on": data.bottled_on.isoformat(),
        "planned_qty": data.planned_qty,
    }
    entry_id = common.stage(conn, "trace.batch.planned", payload)
    repo.insert(
        conn,
        {
            "lot": data.lot,
            "gtin": gtin,
            "blend_no": data.blend_no,
            "line": data.line,
            "bottled_on": data.bottled_on,
            "planned_qty": data.planned_qty,
            "status": BatchStatus.ACTIVE.value,
            "entry_id": entry_id,
            "created_at": common.now(),
        },
    )
    return get(conn, data.lot)


def get(conn: Connection, lot: str) -> BatchOut:
    row = repo.get(conn, lot)
    if row is None:
        raise UnknownBatch(f"no batch with lot {lot}")
    return to_out(row)


def list_batches(conn: Connection, gtin: str | None = None) -> list[BatchOut]:
    return [to_out(r) for r in repo.list_all(conn, parse_gtin(gtin) if gtin else None)]


def recall(conn: Connection, lot: str, reason: str) -> BatchOut:
    """Recall a batch: every code of it answers 410 Gone at the lookup from now on."""
    get(conn, lot)
    at = common.now()
    entry_id = common.stage(conn, "trace.batch.recalled", {"lot": lot, "reason": reason})
    if not repo.mark_recalled(conn, lot, reason, at, entry_id):
        raise Conflict(f"batch {lot} is already recalled", code="already_recalled")
    return get(conn, lot)


def to_out(row: Any) -> BatchOut:
    return BatchOut(
        lot=row["lot"],
        gtin=row["gtin"],
        product=row["product"],
        blend_no=row["blend_no"],
        line=row["line"],
        bottled_on=row["bottled_on"],
        planned_qty=row["planned_qty"],
        status=BatchStatus(row["status"]),
        recall_reason=row["recall_reason"],
        recalled_at=common.local_text(row["recalled_at"]) if row["recalled_at"] else None,
        entry_id=row["entry_id"],
    )
