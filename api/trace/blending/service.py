"""Base-liquor lots and blending (勾调): a blend consumes volumes of lots and produces a blend.

Each lot and each blend is a ledger entry; the blend's entry lists its inputs with volumes and
shares, so the transformation inputs → output is on the ledger as one record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from api.errors import Conflict, NotFound, Unprocessable
from api.trace import common
from api.trace.blending import repository as repo
from api.trace.blending.schemas import (
    BaseLiquorIn,
    BaseLiquorOut,
    BlendIn,
    BlendInputOut,
    BlendOut,
)
from api.trace.storage import repository as storage_repo


class UnknownBaseLiquor(NotFound):
    code = "unknown_base_liquor"


class UnknownBlend(NotFound):
    code = "unknown_blend"


class InsufficientVolume(Conflict):
    code = "insufficient_volume"


def register_base_liquor(conn: Connection, data: BaseLiquorIn) -> BaseLiquorOut:
    if repo.get_base_liquor(conn, data.lot) is not None:
        raise Conflict(f"base-liquor lot {data.lot} is already registered", code="lot_exists")
    today = common.today()
    if data.vintage > today.year:
        raise Unprocessable(
            f"vintage {data.vintage} is a year to come; a lot is registered once distilled",
            code="date_in_future",
        )
    if data.stored_since is not None and data.stored_since.year < data.vintage:
        raise Unprocessable(
            f"stored_since {data.stored_since} is before the vintage year {data.vintage}"
        )
    if data.stored_since is not None and data.stored_since > today:
        raise Unprocessable(
            f"stored_since {data.stored_since} is after today ({today}, Asia/Shanghai)",
            code="date_in_future",
        )
    if data.zone_id is not None and storage_repo.get_zone(conn, data.zone_id) is None:
        raise Unprocessable(
            f"zone_id {data.zone_id} is not a registered storage zone: register it first "
            "(POST /v1/storage/zones), or leave zone_id out",
            code="unknown_zone",
        )
    payload: dict[str, Any] = {
        "lot": data.lot,
        "tank": data.tank,
        "distillery": data.distillery,
        "vintage": data.vintage,
        "grade": data.grade,
        "abv_permille": data.abv_permille,
        "volume_ml": data.volume_ml,
    }
    if data.zone_id is not None:
        payload["zone"] = data.zone_id
    if data.stored_since is not None:
        payload["stored_since"] = data.stored_since.isoformat()
    entry_id = common.stage(conn, "trace.base_liquor.registered", payload)
    repo.insert_base_liquor(
        conn,
        {
            **data.model_dump(),
            "remaining_ml": data.volume_ml,
            "entry_id": entry_id,
            "created_at": common.now(),
        },
    )
    return get_base_liquor(conn, data.lot)


def get_base_liquor(conn: Connection, lot: str) -> BaseLiquorOut:
    row = repo.get_base_liquor(conn, lot)
    if row is None:
        raise UnknownBaseLiquor(f"no base-liquor lot {lot}")
    return _base_liquor_out(row)


def list_base_liquors(conn: Connection) -> list[BaseLiquorOut]:
    return [_base_liquor_out(r) for r in repo.list_base_liquors(conn)]


def _base_liquor_out(row: Any) -> BaseLiquorOut:
    return BaseLiquorOut.model_validate({k: row[k] for k in BaseLiquorOut.model_fields})


def shares_bp(volumes: list[int]) -> list[int]:
    """Each volume's share of the total in basis points, summing to exactly 10,000.

    Largest remainder: floor every share, then hand the missing points to the largest
    remainders (ties to the earlier input), so the record never claims 100.01 %.
    """
    total = sum(volumes)
    exact = [v * 10_000 for v in volumes]
    floors = [e // total for e in exact]
    missing = 10_000 - sum(floors)
    order = sorted(range(len(volumes)), key=lambda i: (-(exact[i] % total), i))
    for i in order[:missing]:
        floors[i] += 1
    return floors


def record_blend(conn: Connection, data: BlendIn) -> BlendOut:
    if repo.get_blend(conn, data.blend_no) is not None:
        raise Conflict(f"blend {data.blend_no} is already recorded", code="blend_exists")
    today = common.today()
    if data.blended_on > today:
        raise Unprocessable(
            f"blended_on {data.blended_on} is after today ({today}, Asia/Shanghai); a blend is "
            "recorded once it is made",
            code="date_in_future",
        )
    lots = [i.lot for i in data.inputs]
    if len(set(lots)) != len(lots):
        raise Unprocessable("each base-liquor lot may appear once among a blend's inputs")
    known = repo.base_liquors_by_lot(conn, lots)
    missing = [lot for lot in lots if lot not in known]
    if missing:
        raise UnknownBaseLiquor(f"unknown base-liquor lot(s): {', '.join(missing)}")
    for item in data.inputs:
        if known[item.lot]["vintage"] > data.blended_on.year:
            raise Unprocessable(
                f"lot {item.lot} (vintage {known[item.lot]['vintage']}) cannot go into a blend "
                f"made on {data.blended_on}"
            )
        if not repo.draw_base_liquor(conn, item.lot, item.volume_ml):
            left = known[item.lot]["remaining_ml"]
            raise InsufficientVolume(
                f"lot {item.lot} has {left} ml left; the blend asks for {item.volume_ml} ml"
            )
    shares = shares_bp([i.volume_ml for i in data.inputs])
    volume = sum(i.volume_ml for i in data.inputs)
    inputs = [
        {"lot": i.lot, "volume_ml": i.volume_ml, "share_bp": s}
        for i, s in zip(data.inputs, shares, strict=True)
    ]
    payload = {
        "blend": data.blend_no,
        "blender": data.blender,
        "blended_on": data.blended_on.isoformat(),
        "notes": data.notes,
        "abv_permille": data.abv_permille,
        "volume_ml": volume,
        "inputs": inputs,
    }
    entry_id = common.stage(conn, "trace.blend.recorded", payload)
    repo.insert_blend(
        conn,
        {
            "blend_no": data.blend_no,
            "blender": data.blender,
            "blended_on": data.blended_on,
            "notes": data.notes,
            "abv_permille": data.abv_permille,
            "volume_ml": volume,
            "remaining_ml": volume,
            "entry_id": entry_id,
            "created_at": common.now(),
        },
        [{**i, "blend_no": data.blend_no} for i in inputs],
    )
    return get_blend(conn, data.blend_no)


def get_blend(conn: Connection, blend_no: str) -> BlendOut:
    row = repo.get_blend(conn, blend_no)
    if row is None:
        raise UnknownBlend(f"no blend {blend_no}")
    return _blend_out(conn, row)


def list_blends(conn: Connection) -> list[BlendOut]:
    return [_blend_out(conn, r) for r in repo.list_blends(conn)]


def _blend_out(conn: Connection, row: Any) -> BlendOut:
    inputs = [
        BlendInputOut.model_validate({k: r[k] for k in BlendInputOut.model_fields})
        for r in repo.blend_inputs_of(conn, row["blend_no"])
    ]
    return BlendOut(
        blend_no=row["blend_no"],
        blender=row["blender"],
        blended_on=row["blended_on"],
        notes=row["notes"],
        abv_permille=row["abv_permille"],
        volume_ml=row["volume_ml"],
        remaining_ml=row["remaining_ml"],
        inputs=inputs,
        entry_id=row["entry_id"],
    )
