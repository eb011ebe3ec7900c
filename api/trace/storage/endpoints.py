"""HTTP endpoints of storage conditions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import Connection

from api.auth.dependencies import require_role
from api.auth.service import Principal, Role
from api.deps import BIGINT_MAX, get_conn, get_log
from api.entries.endpoints import BodyTooLarge
from api.log.service import LogService
from api.media import media_type
from api.trace.deps import write_conn
from api.trace.storage import service
from api.trace.storage.schemas import IngestOut, SensorIn, SensorOut, ZoneIn, ZoneOut

router = APIRouter(prefix="/v1/storage", tags=["traceability: storage conditions"])
writer = Depends(require_role(Role.WRITER))
MAX_BODY = 16 * 1024 * 1024


@router.post("/zones", response_model=ZoneOut, status_code=201, summary="Register a zone")
def register_zone(
    body: ZoneIn,
    _: Principal = Depends(require_role(Role.ADMIN)),
    conn: Connection = Depends(write_conn, scope="function"),
) -> ZoneOut:
    """A warehouse or cellar zone with its allowed temperature and humidity band."""
    return service.register_zone(conn, body)


@router.get("/zones", response_model=list[ZoneOut], summary="Zones")
def list_zones(conn: Connection = Depends(get_conn, scope="function")) -> list[ZoneOut]:
    return service.list_zones(conn)


@router.get("/zones/{zone_id}", response_model=ZoneOut, summary="One zone")
def get_zone(zone_id: str, conn: Connection = Depends(get_conn, scope="function")) -> ZoneOut:
    return service.get_zone(conn, zone_id)


@router.post("/sensors", response_model=SensorOut, status_code=201, summary="Register a sensor")
def register_sensor(
    body: SensorIn,
    _: Principal = Depends(require_role(Role.ADMIN)),
    conn: Connection = Depends(write_conn, scope="function"),
) -> SensorOut:
    return service.register_sensor(conn, body)


@router.get("/sensors", response_model=list[SensorOut], summary="Sensors")
def list_sensors(
    zone_id: str | None = None, conn: Connection = Depends(get_conn, scope="function")
) -> list[SensorOut]:
    return service.list_sensors(conn, zone_id)


_READINGS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {
                "example": '{"sensor":"S-GY-1","at":"2026-11-25T10:00:00+08:00",'
                '"temp_c":"16.2","rh":"66.5"}\n'
            },
            "text/csv": {
                "example": "sensor,at,temp_c,rh\nS-GY-1,2026-11-25T10:00:00+08:00,16.2,66.5\n"
            },
        },
    }
}


@router.post(
    "/readings",
    response_model=IngestOut,
    summary="Ingest sensor readings in bulk",
    openapi_extra=_READINGS_BODY,
)
async def ingest(
    request: Request,
    _: Principal = writer,
    log: LogService = Depends(get_log),
) -> IngestOut:
    """JSON lines (`application/x-ndjson`: `{"sensor","at","temp_c","rh"}`) or CSV
    (`text/csv` with header `sensor,at,temp_c,rh`); up to 100,000 readings or 16 MiB per
    request, all or nothing. Times carry their UTC offset; °C is kept to 0.01 and %RH to 0.1.
    Exact repeats are ignored; a changed value for a stored reading is refused (409). Hours
    that are over are sealed into `trace.storage.hour` ledger entries at once."""
    media = media_type(request.headers.get("content-type"))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge(f"request body over {MAX_BODY} bytes; send fewer readings")
        chunks.append(chunk)
    readings = service.parse_readings(b"".join(chunks), media)

    import asyncio

    def run() -> IngestOut:
        with log.db.writer.begin() as conn:
            return service.ingest(conn, readings)

    result = await asyncio.to_thread(run)
    log.wake()
    return result


@router.post("/seal", response_model=IngestOut, summary="Seal every finished hour now")
def seal(
    _: Principal = writer, conn: Connection = Depends(write_conn, scope="function")
) -> IngestOut:
    hours, found = service.seal(conn)
    return IngestOut(accepted=0, duplicates=0, sealed_hours=hours, excursions=found)


@router.get("/readings/{reading_id}/proof", summary="A raw reading with its proofs")
def reading_proof(
    request: Request,
    reading_id: int = Path(ge=1, le=BIGINT_MAX),
    conn: Connection = Depends(get_conn, scope="function"),
) -> dict[str, Any]:
    """The reading, its membership proof in its hour's Merkle root, and the hourly entry's
    inclusion proof against the latest checkpoint."""
    key = request.app.state.log.signer.verifier_key()
    return service.reading_proof(conn, reading_id, key)
