"""HTTP endpoints for base-liquor lots and blends."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import Connection

from api.auth.dependencies import require_role
from api.auth.service import Principal, Role
from api.deps import get_conn
from api.trace.blending import service
from api.trace.blending.schemas import BaseLiquorIn, BaseLiquorOut, BlendIn, BlendOut
from api.trace.deps import write_conn

router = APIRouter(prefix="/v1", tags=["traceability: base liquors and blends"])


@router.post(
    "/base-liquors",
    response_model=BaseLiquorOut,
    status_code=201,
    summary="Register a base-liquor lot",
)
def register_base_liquor(
    body: BaseLiquorIn,
    _: Principal = Depends(require_role(Role.WRITER)),
    conn: Connection = Depends(write_conn, scope="function"),
) -> BaseLiquorOut:
    """Writes a `trace.base_liquor.registered` ledger entry."""
    return service.register_base_liquor(conn, body)


@router.get("/base-liquors", response_model=list[BaseLiquorOut], summary="All base-liquor lots")
def list_base_liquors(
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[BaseLiquorOut]:
    return service.list_base_liquors(conn)


@router.get("/base-liquors/{lot}", response_model=BaseLiquorOut, summary="One base-liquor lot")
def get_base_liquor(
    lot: str, conn: Connection = Depends(get_conn, scope="function")
) -> BaseLiquorOut:
    return service.get_base_liquor(conn, lot)


@router.post(
    "/blends", response_model=BlendOut, status_code=201, summary="Record a blend (勾调记录)"
)
def record_blend(
    body: BlendIn,
    _: Principal = Depends(require_role(Role.WRITER)),
    conn: Connection = Depends(write_conn, scope="function"),
) -> BlendOut:
    """Draws the input volumes from their lots (refused if a lot has too little left) and writes
    a `trace.blend.recorded` ledger entry listing inputs, volumes and shares."""
    return service.record_blend(conn, body)


@router.get("/blends", response_model=list[BlendOut], summary="All blends")
def list_blends(conn: Connection = Depends(get_conn, scope="function")) -> list[BlendOut]:
    return service.list_blends(conn)


@router.get("/blends/{blend_no}", response_model=BlendOut, summary="One blend with its inputs")
def get_blend(blend_no: str, conn: Connection = Depends(get_conn, scope="function")) -> BlendOut:
    return service.get_blend(conn, blend_no)
