"""HTTP endpoints for regions, dealers, stores and warehouses (rules in the service)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection

from api.auth.dependencies import current_principal
from api.auth.service import Principal, Role
from api.channel import access, service
from api.channel import repository as repo
from api.channel.schemas import (
    DealerIn,
    DealerOut,
    DealerPatch,
    RegionIn,
    RegionOut,
    StoreIn,
    StoreOut,
    WarehouseIn,
    WarehouseOut,
)
from api.channel.transactions import writing
from api.deps import get_conn

router = APIRouter(prefix="/v1", tags=["channel"])

After = Query(None, description="code to continue after (pagination)")
Limit = Query(100, ge=1, le=1000)
CHANNEL = (
    Role.HQ_ADMIN,
    Role.REGION_MANAGER,
    Role.DEALER_STAFF,
    Role.STORE_CLERK,
    Role.COMPLIANCE_OFFICER,
    Role.DEVICE,
)


def channel_member(principal: Principal = Depends(current_principal)) -> Principal:
    principal.require(*CHANNEL)
    return principal


@router.get("/regions", response_model=list[RegionOut], summary="The sales regions")
def list_regions(
    after: str | None = After,
    limit: int = Limit,
    _: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[RegionOut]:
    return service.region_out(conn, repo.list_parties(conn, "region", after=after, limit=limit))


@router.get("/regions/{region_id}", response_model=RegionOut, summary="One region")
def get_region(
    region_id: str,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> RegionOut:
    return service.region_out(conn, [service.readable(conn, principal, region_id, "region")])[0]


@router.post("/regions", response_model=RegionOut, status_code=201, summary="Create a region")
def create_region(
    request: Request,
    body: RegionIn,
    principal: Principal = Depends(channel_member),
) -> RegionOut:
    principal.require(Role.HQ_ADMIN)
    with writing(request) as conn:
        return service.create_region(conn, body)


@router.post("/dealers", response_model=DealerOut, status_code=201, summary="Create a dealer")
def create_dealer(
    request: Request,
    body: DealerIn,
    principal: Principal = Depends(channel_member),
) -> DealerOut:
    """HQ creates dealers anywhere; a region manager in its own region."""
    principal.require(Role.HQ_ADMIN, Role.REGION_MANAGER)
    with writing(request) as conn:
        return service.create_dealer(conn, principal, body)


@router.get("/dealers", response_model=list[DealerOut], summary="Dealers you may see")
def list_dealers(
    region_id: str | None = Query(None, description="only dealers of this home region"),
    after: str | None = After,
    limit: int = Limit,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[DealerOut]:
    rows = _scoped(conn, principal, "dealer", after, limit, region_id=region_id)
    return service.dealers_out(conn, rows)


@router.get("/dealers/{dealer_id}", response_model=DealerOut, summary="One dealer")
def get_dealer(
    dealer_id: str,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> DealerOut:
    return service.dealers_out(conn, [service.readable(conn, principal, dealer_id, "dealer")])[0]


@router.patch("/dealers/{dealer_id}", response_model=DealerOut, summary="Change a dealer")
def update_dealer(
    request: Request,
    dealer_id: str,
    body: DealerPatch,
    principal: Principal = Depends(channel_member),
) -> DealerOut:
    """Tier, credit limit, stock share and authorized regions are HQ's to change."""
    with writing(request) as conn:
        return service.update_dealer(conn, principal, dealer_id, body)


@router.post(
    "/dealers/{dealer_id}/stores",
    response_model=StoreOut,
    status_code=201,
    summary="Create a store of a dealer",
)
def create_store(
    request: Request,
    dealer_id: str,
    body: StoreIn,
    principal: Principal = Depends(channel_member),
) -> StoreOut:
    """The store's address must lie in one of the dealer's authorized regions."""
    with writing(request) as conn:
        return service.create_store(conn, principal, dealer_id, body)


@router.get("/stores", response_model=list[StoreOut], summary="Stores you may see")
def list_stores(
    dealer_id: str | None = Query(None, description="only this dealer's stores"),
    after: str | None = After,
    limit: int = Limit,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[StoreOut]:
    rows = _scoped(conn, principal, "store", after, limit, dealer_id=dealer_id)
    return [service.store_out(r) for r in rows]


@router.get("/stores/{store_id}", response_model=StoreOut, summary="One store")
def get_store(
    store_id: str,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> StoreOut:
    return service.store_out(service.readable(conn, principal, store_id, "store"))


@router.post(
    "/warehouses", response_model=WarehouseOut, status_code=201, summary="Create a warehouse"
)
def create_warehouse(
    request: Request,
    body: WarehouseIn,
    principal: Principal = Depends(channel_member),
) -> WarehouseOut:
    """HQ creates central and regional warehouses; dealers their own."""
    with writing(request) as conn:
        return service.create_warehouse(conn, principal, body)


@router.get("/warehouses", response_model=list[WarehouseOut], summary="Warehouses you may see")
def list_warehouses(
    owner: str | None = Query(None, description="`hq` for HQ's warehouses, or a dealer id"),
    after: str | None = After,
    limit: int = Limit,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[WarehouseOut]:
    """Everyone sees HQ's warehouses (they appear in allocations); dealers' are scoped."""
    if owner == "hq":
        rows = repo.list_parties(
            conn, "warehouse", warehouse_kinds=access.HQ_WAREHOUSES, after=after, limit=limit
        )
    else:
        rows = _scoped(conn, principal, "warehouse", after, limit, dealer_id=owner)
    return [service.warehouse_out(conn, r) for r in rows]


@router.get("/warehouses/{warehouse_id}", response_model=WarehouseOut, summary="One warehouse")
def get_warehouse(
    warehouse_id: str,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> WarehouseOut:
    return service.warehouse_out(conn, service.readable(conn, principal, warehouse_id, "warehouse"))


def _scoped(
    conn: Connection,
    principal: Principal,
    kind: str,
    after: str | None,
    limit: int,
    **wanted: str | None,
) -> list[repo.PartyRow]:
    """Parties of ``kind`` matching ``wanted`` that the principal may see."""
    tenancy = access.tenancy_filter(principal, kind)
    if tenancy.nothing:
        return []
    filters = {k: v for k, v in tenancy.as_kwargs().items() if v is not None}
    for key, value in wanted.items():
        if value is None:
            continue
        if key in filters and filters[key] != value:
            return []
        filters[key] = value
    return repo.list_parties(conn, kind, after=after, limit=limit, **filters)
