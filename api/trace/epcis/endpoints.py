"""``GET /v1/epcis/events``: the EPCIS 2.0 JSON-LD document of a code or a lot."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from sqlalchemy import Connection

from api.config import Settings
from api.deps import get_app_settings, get_conn
from api.errors import Unprocessable
from api.trace.epcis import service

router = APIRouter(prefix="/v1/epcis", tags=["traceability: EPCIS"])


@router.get(
    "/events",
    summary="EPCIS 2.0 events of a code or a lot",
    response_class=JSONResponse,
    responses={200: {"content": {"application/ld+json": {}}}},
)
def events(
    code: str | None = Query(None, description="a code's Digital Link URI or serial"),
    batch: str | None = Query(None, description="a lot number"),
    conn: Connection = Depends(get_conn, scope="function"),
    settings: Settings = Depends(get_app_settings),
) -> JSONResponse:
    """An `EPCISDocument` (schemaVersion 2.0) that validates against GS1's EPCIS JSON schema:
    blending and bottling TransformationEvents, commissioning, packing and custody events in
    CBV terms, and storage conditions as sensor reports. A code's events list only that code."""
    if (code is None) == (batch is None):
        raise Unprocessable("give exactly one of code or batch")
    doc: dict[str, Any] = (
        service.export_code(conn, code, settings.resolver_host)
        if code is not None
        else service.export_lot(conn, batch or "", settings.resolver_host)
    )
    return JSONResponse(doc, media_type="application/ld+json")
