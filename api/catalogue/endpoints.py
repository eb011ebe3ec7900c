"""HTTP endpoints for price lists and the buyer's catalogue."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy import Connection

from api.auth.service import Principal
from api.catalogue import service
from api.catalogue.schemas import Catalogue, PriceIn, PriceOut
from api.channel.endpoints import channel_member
from api.channel.schemas import TIER_PATTERN
from api.channel.transactions import writing
from api.deps import get_conn

router = APIRouter(prefix="/v1", tags=["catalogue"])

TierPath = Path(
    min_length=1,
    max_length=32,
    pattern=TIER_PATTERN,
    description="a price tier, as dealers carry it (gold, standard, …)",
)


@router.put(
    "/price-lists/{seller_id}/{tier}/{gtin}",
    response_model=PriceOut,
    summary="Set a case price (integer fen)",
)
def set_price(
    request: Request,
    seller_id: str,
    gtin: str,
    body: PriceIn,
    tier: str = TierPath,
    principal: Principal = Depends(channel_member),
) -> PriceOut:
    """HQ prices by dealer tier (seller = HQ's party id); a dealer's staff price their stores'
    tiers. The GTIN must be a registered product."""
    with writing(request) as conn:
        return service.set_price(conn, principal, seller_id, tier, gtin, body.case_price_fen)


@router.delete(
    "/price-lists/{seller_id}/{tier}/{gtin}", status_code=204, summary="Withdraw a price"
)
def remove_price(
    request: Request,
    seller_id: str,
    gtin: str,
    tier: str = TierPath,
    principal: Principal = Depends(channel_member),
) -> Response:
    with writing(request) as conn:
        service.remove_price(conn, principal, seller_id, tier, gtin)
        return Response(status_code=204)


@router.get(
    "/price-lists/{seller_id}/{tier}", response_model=list[PriceOut], summary="A price list"
)
def price_list(
    seller_id: str,
    tier: str = TierPath,
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> list[PriceOut]:
    return service.price_list(conn, principal, seller_id, tier)


@router.get("/catalogue", response_model=Catalogue, summary="What a buyer may order, at what price")
def catalogue(
    buyer_id: str = Query(description="a dealer (buys from HQ) or a store (from its dealer)"),
    principal: Principal = Depends(channel_member),
    conn: Connection = Depends(get_conn, scope="function"),
) -> Catalogue:
    return service.catalogue(conn, principal, buyer_id)
