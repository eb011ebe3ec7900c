"""Price lists per seller and buyer tier, and the catalogue a buyer orders from.

HQ sells to dealers by dealer tier; a dealer sells to its stores by store tier. SKUs are the
traceability catalogue's products: a price can only be set for a registered GTIN.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection

from api.auth.service import Principal, Role
from api.catalogue import repository as repo
from api.catalogue.schemas import Catalogue, CatalogueItem, PriceOut
from api.channel import access
from api.channel import service as channel
from api.channel.repository import PartyRow
from api.errors import Forbidden, NotFound, Unprocessable
from api.trace.products import service as products
from api.trace.products.schemas import ProductOut


class UnknownSku(Unprocessable):
    code = "unknown_sku"


def sku(conn: Connection, gtin: str) -> ProductOut:
    """The registered product with this GTIN (any accepted spelling), or a 422."""
    try:
        return products.get(conn, gtin)
    except products.UnknownProduct:
        raise UnknownSku(f"no SKU with GTIN {gtin} in the product catalogue") from None


def seller_and_tier(conn: Connection, buyer: PartyRow) -> tuple[PartyRow, str]:
    """Who sells to ``buyer`` and at which tier's prices."""
    if buyer.kind == "dealer":
        return channel.ensure_hq(conn), tier_of(buyer)
    if buyer.kind == "store":
        return channel.party(conn, buyer.dealer_id or "", "dealer"), tier_of(buyer)
    raise Unprocessable(f"{buyer.kind} {buyer.party_id} does not buy; dealers and stores do")


def tier_of(buyer: PartyRow) -> str:
    """The price-list tier a buyer orders at (see :func:`seller_and_tier`)."""
    return buyer.tier or ("standard" if buyer.kind == "store" else "")


def _check_seller_side(conn: Connection, principal: Principal, seller_id: str) -> PartyRow:
    seller = channel.party(conn, seller_id)
    if seller.kind == "hq":
        if not principal.runs_channel:
            raise Forbidden("only HQ sets HQ's prices")
    elif seller.kind == "dealer":
        if not (principal.runs_channel or principal.role is Role.DEALER_STAFF):
            raise Forbidden("a dealer's store prices are set by its staff")
        access.check_manage(principal, seller)
    else:
        raise Unprocessable(f"{seller.kind} {seller_id} does not sell")
    return seller


def set_price(
    conn: Connection, principal: Principal, seller_id: str, tier: str, gtin: str, fen: int
) -> PriceOut:
    _check_seller_side(conn, principal, seller_id)
    product = sku(conn, gtin)
    now = datetime.now(UTC)
    repo.upsert_price(conn, seller_id, tier, product.gtin, fen, now, principal.key_id)
    return PriceOut(
        seller_id=seller_id, tier=tier, gtin=product.gtin, case_price_fen=fen, updated_at=now
    )


def remove_price(
    conn: Connection, principal: Principal, seller_id: str, tier: str, gtin: str
) -> None:
    _check_seller_side(conn, principal, seller_id)
    normal = sku(conn, gtin).gtin
    if repo.delete_price(conn, seller_id, tier, normal) == 0:
        raise NotFound(f"GTIN {normal} has no price for tier {tier} of {seller_id}")


def price_list(conn: Connection, principal: Principal, seller_id: str, tier: str) -> list[PriceOut]:
    """Readable by the seller's side, HQ and compliance, and buyers of that tier."""
    seller = channel.party(conn, seller_id)
    if not principal.sees_everything and not _may_read_prices(conn, principal, seller, tier):
        raise Forbidden(f"the {tier} price list of {seller_id} is not yours to read")
    return [
        PriceOut(
            seller_id=i.seller_id,
            tier=i.tier,
            gtin=i.gtin,
            case_price_fen=i.case_price_fen,
            updated_at=i.updated_at,
        )
        for i in repo.price_list(conn, seller_id, tier)
    ]


def _may_read_prices(conn: Connection, principal: Principal, seller: PartyRow, tier: str) -> bool:
    if seller.kind == "dealer" and access.can_manage(principal, seller):
        return True
    if principal.role is Role.REGION_MANAGER:
        return seller.kind == "hq"
    if principal.role in (Role.DEALER_STAFF, Role.STORE_CLERK) and principal.scope:
        buyer = channel.party(conn, principal.scope)
        own_seller, own_tier = seller_and_tier(conn, buyer)
        return own_seller.party_id == seller.party_id and own_tier == tier
    return False


def catalogue(conn: Connection, principal: Principal, buyer_id: str) -> Catalogue:
    buyer = channel.readable(conn, principal, buyer_id, _buyer_kind(conn, buyer_id))
    seller, tier = seller_and_tier(conn, buyer)
    rows = []
    for item in repo.price_list(conn, seller.party_id, tier):
        product = products.get(conn, item.gtin)
        rows.append(
            CatalogueItem(
                gtin=product.gtin,
                name_zh=product.name_zh,
                name_en=product.name_en,
                volume_ml=product.volume_ml,
                case_size=product.case_size,
                case_price_fen=item.case_price_fen,
            )
        )
    return Catalogue(buyer_id=buyer_id, seller_id=seller.party_id, tier=tier, items=rows)


def _buyer_kind(conn: Connection, party_id: str) -> str:
    return channel.party(conn, party_id).kind
