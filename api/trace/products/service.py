"""The product catalogue: SKUs identified by GTIN, each registration a ledger entry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from api.errors import Conflict, NotFound, Unprocessable
from api.trace import common
from api.trace.products import repository as repo
from api.trace.products.schemas import AROMA_ZH, Aroma, ProductIn, ProductOut
from ledger.gs1 import GS1Error, normalize_gtin


class UnknownProduct(NotFound):
    code = "unknown_product"


class ProductExists(Conflict):
    code = "product_exists"


def parse_gtin(text: str) -> str:
    """A GTIN as given by a person, in its 14-digit form, or a 422 saying what is wrong."""
    try:
        return normalize_gtin(text)
    except GS1Error as exc:
        raise Unprocessable(str(exc), code="invalid_gtin") from None


def register(conn: Connection, data: ProductIn) -> ProductOut:
    gtin = parse_gtin(data.gtin)
    if repo.get(conn, gtin) is not None:
        raise ProductExists(f"GTIN {gtin} is already registered; a GTIN names one product")
    payload = {
        "gtin": gtin,
        "name_zh": data.name_zh,
        "name_en": data.name_en,
        "volume_ml": data.volume_ml,
        "abv_permille": data.abv_permille,
        "aroma": data.aroma.value,
        "case_size": data.case_size,
    }
    entry_id = common.stage(conn, "trace.product.registered", payload)
    repo.insert(conn, {**payload, "entry_id": entry_id, "created_at": common.now()})
    return get(conn, gtin)


def get(conn: Connection, gtin: str) -> ProductOut:
    row = repo.get(conn, parse_gtin(gtin))
    if row is None:
        raise UnknownProduct(f"no product with GTIN {gtin}")
    return to_out(row)


def list_products(conn: Connection) -> list[ProductOut]:
    return [to_out(r) for r in repo.list_all(conn)]


def to_out(row: Any) -> ProductOut:
    aroma = Aroma(row["aroma"])
    permille = row["abv_permille"]
    abv = f"{permille // 10}%vol" if permille % 10 == 0 else f"{permille / 10:.1f}%vol"
    return ProductOut(
        gtin=row["gtin"],
        name_zh=row["name_zh"],
        name_en=row["name_en"],
        volume_ml=row["volume_ml"],
        abv_permille=permille,
        abv=abv,
        aroma=aroma,
        aroma_zh=AROMA_ZH[aroma],
        case_size=row["case_size"],
        entry_id=row["entry_id"],
        created_at=common.local_text(row["created_at"]),
    )
