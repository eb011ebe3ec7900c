"""Traceability test data made through traceability's own services: SKUs and commissioned
case codes (products and codes belong to ``api.trace``; this only calls it)."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import Connection

from api.trace.batches import service as batches
from api.trace.batches.schemas import BatchIn
from api.trace.blending import service as blending
from api.trace.blending.schemas import BaseLiquorIn, BlendIn, BlendInputIn
from api.trace.codes import repository as code_repo
from api.trace.codes.custody import commission
from api.trace.codes.service import Code, CodeKind, CodeState, generate, to_code
from api.trace.products import service as products
from api.trace.products.schemas import ProductIn


def gtin13(body12: str) -> str:
    """A GTIN-13 with its check digit (GS1 mod-10)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def make_sku(conn: Connection, n: int, case_size: int = 6) -> str:
    """Register SKU number ``n`` (a 690 prefix GTIN); return its 14-digit GTIN."""
    out = products.register(
        conn,
        ProductIn(
            gtin=gtin13(f"690123456{n:03d}"),
            name_zh=f"酒源·测试 {n} 号",
            name_en=f"Jiuyuan test {n}",
            volume_ml=500,
            abv_permille=530,
            aroma="jiang",  # type: ignore[arg-type]
            case_size=case_size,  # type: ignore[arg-type]
        ),
    )
    return out.gtin


def make_cases(conn: Connection, gtin: str, count: int) -> list[Code]:
    """``count`` commissioned case codes of a new batch of ``gtin``."""
    tag = secrets.token_hex(3).upper()
    lot, base, blend = f"L{tag}", f"B{tag}", f"BD{tag}"
    blending.register_base_liquor(
        conn,
        BaseLiquorIn(
            lot=base,
            tank="T-1",
            distillery="仁怀一号酒厂",
            vintage=2019,
            grade="优级",
            abv_permille=535,
            volume_ml=10**9,
        ),
    )
    blending.record_blend(
        conn,
        BlendIn(
            blend_no=blend,
            blender="王建国",
            blended_on=date(2026, 10, 8),
            abv_permille=530,
            inputs=[BlendInputIn(lot=base, volume_ml=10**8)],
        ),
    )
    batches.create(
        conn,
        BatchIn(
            lot=lot,
            gtin=gtin,
            blend_no=blend,
            line="灌装线 3",
            bottled_on=date(2026, 11, 25),
            planned_qty=count * 12,
        ),
    )
    batch = generate(conn, lot, count, CodeKind.CASE)
    codes = [to_code(r) for r in code_repo.in_batch(conn, batch["batch_id"], CodeState.GENERATED)]
    commission(conn, lot, codes, location="GY-LINE-3", region="贵州 遵义")
    return [to_code(r) for r in code_repo.in_batch(conn, batch["batch_id"], CodeState.COMMISSIONED)]
