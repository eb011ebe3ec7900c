"""HTTP endpoints for shipments, put-away and custody (rules in the service)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection

from api.auth.service import Principal
from api.channel.endpoints import channel_member
from api.channel.transactions import writing
from api.deps import get_conn, one_of
from api.shipments import putaway as stockroom
from api.shipments import service
from api.shipments.schemas import CustodyOut, PutawayOut, ScanIn, ShipmentOut

router = APIRouter(prefix="/v1", tags=["shipments"])

REFUSALS = {
    403: {"description": "not your warehouse or shipment"},
    404: {"description": "unknown shipment, or codes that are not this brand's"},
    409: {"description": "code already shipped, held elsewhere, wrong state; short pick"},
    422: {"description": "code of the wrong SKU, a bottle code, malformed code"},
}


@router.get("/shipments", response_model=list[ShipmentOut], summary="Shipments you may see")
def list_shipments(
    warehouse_id: str | None = Query(None, description="from or to this warehouse"),
    state: str | None = Query(
        None,
        examples=["picking"],
        pattern=one_of(service.STATES),
    ),
    after: str | None = Query(None, description="shipment id to continue after"),
    limit: int = Query(100, ge=1, le=500),
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[ShipmentOut]:
    """A device sees the shipments of its own warehouse: its pick list."""
    return service.list_shipments(
        conn, principal, warehouse_id=warehouse_id, state=state, after=after, limit=limit
    )


@router.get("/shipments/{shipment_id}", response_model=ShipmentOut, summary="One shipment")
def get_shipment(
    shipment_id: str,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> ShipmentOut:
    return service.get_shipment(conn, principal, shipment_id)


@router.post(
    "/shipments/{shipment_id}/picks",
    response_model=ShipmentOut,
    summary="Scan case codes into a shipment (picking)",
    responses=REFUSALS,
)
def pick(
    request: Request,
    shipment_id: str,
    body: ScanIn,
    principal: Principal = Depends(channel_member),
) -> ShipmentOut:
    """Each code must be a commissioned case of a SKU on the shipment, held in its warehouse,
    not shipped or picked for another shipment. One bad code refuses the whole scan."""
    with writing(request) as conn:
        return service.pick(conn, principal, shipment_id, body.codes)


@router.delete(
    "/shipments/{shipment_id}/picks/{serial}",
    response_model=ShipmentOut,
    summary="Take a scanned case back out of a shipment",
)
def unpick(
    request: Request,
    shipment_id: str,
    serial: str,
    principal: Principal = Depends(channel_member),
) -> ShipmentOut:
    with writing(request) as conn:
        return service.unpick(conn, principal, shipment_id, serial)


@router.post(
    "/shipments/{shipment_id}/dispatch",
    response_model=ShipmentOut,
    summary="Dispatch: write the transfer.shipped ledger entry",
    responses=REFUSALS,
)
def dispatch(
    request: Request,
    shipment_id: str,
    principal: Principal = Depends(channel_member),
) -> ShipmentOut:
    """Every line must be picked in full. Writes one `transfer.shipped` entry (from/to parties,
    order, lines, Merkle root of the case codes), moves stock and custody; all or nothing."""
    with writing(request) as conn:
        return service.dispatch(conn, principal, shipment_id)


@router.post(
    "/shipments/{shipment_id}/receive",
    response_model=ShipmentOut,
    summary="Receive: scan in what arrived, write transfer.received",
    responses=REFUSALS,
)
def receive(
    request: Request,
    shipment_id: str,
    body: ScanIn,
    principal: Principal = Depends(channel_member),
) -> ShipmentOut:
    """Scan every case that arrived. The `transfer.received` entry lists the received codes
    (Merkle root) and the discrepancies: shipped codes not scanned (missing) and scanned codes
    not shipped (extra)."""
    with writing(request) as conn:
        return service.receive(conn, principal, shipment_id, body.codes)


@router.post(
    "/warehouses/{warehouse_id}/putaway",
    response_model=PutawayOut,
    status_code=201,
    summary="Put fresh cases from the bottling line into an HQ warehouse",
    responses=REFUSALS,
)
def putaway(
    request: Request,
    warehouse_id: str,
    body: ScanIn,
    principal: Principal = Depends(channel_member),
) -> PutawayOut:
    with writing(request) as conn:
        return stockroom.putaway(conn, principal, warehouse_id, body.codes)


@router.get("/custody/{serial}", response_model=CustodyOut, summary="Who holds a case now")
def custody(
    serial: str,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> CustodyOut:
    """HQ and compliance see any case; others the cases held by, or on their way to, a party
    they may see."""
    return stockroom.custody_for(conn, principal, serial)
