"""HTTP endpoints of the product catalogue."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import Connection

from api.auth.dependencies import require_role
from api.auth.service import Principal, Role
from api.deps import get_conn
from api.trace.deps import write_conn
from api.trace.products import service
from api.trace.products.schemas import ProductIn, ProductOut

router = APIRouter(prefix="/v1/products", tags=["traceability: products"])


@router.post("", response_model=ProductOut, status_code=201, summary="Register a product (SKU)")
def register(
    body: ProductIn,
    _: Principal = Depends(require_role(Role.ADMIN)),
    conn: Connection = Depends(write_conn, scope="function"),
) -> ProductOut:
    """Registers a GTIN with its names, volume, ABV, aroma type and case size, and writes a
    `trace.product.registered` ledger entry. A GTIN-13 is stored and printed as 14 digits."""
    return service.register(conn, body)


@router.get("", response_model=list[ProductOut], summary="All products")
def list_products(conn: Connection = Depends(get_conn, scope="function")) -> list[ProductOut]:
    return service.list_products(conn)


@router.get("/{gtin}", response_model=ProductOut, summary="One product by GTIN")
def get_product(gtin: str, conn: Connection = Depends(get_conn, scope="function")) -> ProductOut:
    return service.get(conn, gtin)
