"""SQL of base liquors and blends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update

from api.trace.blending.models import BaseLiquor, Blend, BlendInput

base_liquors = BaseLiquor.__table__
blends = Blend.__table__
blend_inputs = BlendInput.__table__


def get_base_liquor(conn: Connection, lot: str) -> RowMapping | None:
    return conn.execute(select(base_liquors).where(base_liquors.c.lot == lot)).mappings().first()


def base_liquors_by_lot(conn: Connection, lots: Sequence[str]) -> dict[str, RowMapping]:
    rows = conn.execute(select(base_liquors).where(base_liquors.c.lot.in_(lots))).mappings()
    return {r["lot"]: r for r in rows}


def list_base_liquors(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(base_liquors).order_by(base_liquors.c.lot)).mappings())


def insert_base_liquor(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(base_liquors.insert().values(**row))


def draw_base_liquor(conn: Connection, lot: str, volume_ml: int) -> bool:
    """Take ``volume_ml`` from the lot if that much is left (one conditional UPDATE)."""
    result = conn.execute(
        update(base_liquors)
        .where(base_liquors.c.lot == lot, base_liquors.c.remaining_ml >= volume_ml)
        .values(remaining_ml=base_liquors.c.remaining_ml - volume_ml)
    )
    return result.rowcount == 1


def get_blend(conn: Connection, blend_no: str) -> RowMapping | None:
    return conn.execute(select(blends).where(blends.c.blend_no == blend_no)).mappings().first()


def list_blends(conn: Connection) -> list[RowMapping]:
    return list(conn.execute(select(blends).order_by(blends.c.blend_no)).mappings())


def insert_blend(conn: Connection, row: dict[str, Any], inputs: list[dict[str, Any]]) -> None:
    conn.execute(blends.insert().values(**row))
    conn.execute(blend_inputs.insert(), inputs)


def blend_inputs_of(conn: Connection, blend_no: str) -> list[RowMapping]:
    """The inputs joined with their base-liquor lots, largest share first."""
    query = (
        select(
            blend_inputs.c.lot,
            blend_inputs.c.volume_ml,
            blend_inputs.c.share_bp,
            base_liquors.c.vintage,
            base_liquors.c.distillery,
            base_liquors.c.grade,
            base_liquors.c.tank,
            base_liquors.c.abv_permille,
            base_liquors.c.zone_id,
            base_liquors.c.stored_since,
            base_liquors.c.entry_id,
        )
        .join(base_liquors, base_liquors.c.lot == blend_inputs.c.lot)
        .where(blend_inputs.c.blend_no == blend_no)
        .order_by(blend_inputs.c.share_bp.desc(), blend_inputs.c.lot)
    )
    return list(conn.execute(query).mappings())


def draw_blend(conn: Connection, blend_no: str, volume_ml: int) -> bool:
    result = conn.execute(
        update(blends)
        .where(blends.c.blend_no == blend_no, blends.c.remaining_ml >= volume_ml)
        .values(remaining_ml=blends.c.remaining_ml - volume_ml)
    )
    return result.rowcount == 1
