"""The channel's rules: who exists, where, and who answers to whom."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection

from api.auth.service import Principal, Role
from api.channel import access
from api.channel import repository as repo
from api.channel.admin_codes import AdminCodeError, check_admin_code, enclosing, is_area_code
from api.channel.repository import PartyRow
from api.channel.schemas import (
    DealerIn,
    DealerOut,
    DealerPatch,
    Location,
    RegionIn,
    RegionOut,
    StoreIn,
    StoreOut,
    WarehouseIn,
    WarehouseOut,
)
from api.errors import Conflict, Forbidden, NotFound, Unprocessable

_PREFIX = {"hq": "hq", "region": "rg", "dealer": "dl", "store": "st", "warehouse": "wh"}


def new_party_id(kind: str) -> str:
    """Random, unguessable (80 bits), with a prefix a person can read."""
    return f"{_PREFIX[kind]}_{secrets.token_hex(10)}"


def party(conn: Connection, party_id: str, kind: str | None = None) -> PartyRow:
    found = repo.get_party(conn, party_id)
    if found is None or (kind is not None and found.kind != kind):
        raise NotFound(f"no {kind or 'party'} {party_id!r}")
    return found


def readable(conn: Connection, principal: Principal, party_id: str, kind: str) -> PartyRow:
    return access.check_read(principal, party(conn, party_id, kind))


def managed(conn: Connection, principal: Principal, party_id: str, kind: str) -> PartyRow:
    return access.check_manage(principal, readable(conn, principal, party_id, kind))


def ensure_hq(conn: Connection, name: str = "总部") -> PartyRow:
    hq = repo.the_hq(conn)
    if hq is None:
        hq_id = new_party_id("hq")
        repo.insert_party(conn, party_id=hq_id, kind="hq", code="HQ", name=name, created_at=_now())
        hq = party(conn, hq_id)
    return hq


# --- regions ---------------------------------------------------------------------------------


def create_region(conn: Connection, body: RegionIn) -> RegionOut:
    codes = sorted({_admin_code(c) for c in body.admin_codes})
    for c in codes:
        if not is_area_code(c):
            raise Unprocessable(f"admin code {c}: regions are made of provinces and cities")
    taken = repo.area_owners(conn, codes)
    if taken:
        c, owner = next(iter(taken.items()))
        raise Conflict(f"admin code {c} already belongs to region {owner}")
    _free_code(conn, body.code)
    region_id = new_party_id("region")
    repo.insert_party(
        conn, party_id=region_id, kind="region", code=body.code, name=body.name, created_at=_now()
    )
    repo.insert_areas(conn, region_id, codes)
    return RegionOut(id=region_id, code=body.code, name=body.name, admin_codes=codes)


def region_out(conn: Connection, rows: Sequence[PartyRow]) -> list[RegionOut]:
    areas = repo.region_areas(conn, [r.party_id for r in rows])
    return [
        RegionOut(id=r.party_id, code=r.code, name=r.name, admin_codes=areas[r.party_id])
        for r in rows
    ]


def region_of_code(conn: Connection, admin_code: str) -> str | None:
    """The region an address lies in (its most specific area that belongs to a region)."""
    candidates = enclosing(admin_code)
    owners = repo.area_owners(conn, candidates)
    return next((owners[c] for c in candidates if c in owners), None)


# --- dealers ---------------------------------------------------------------------------------


def create_dealer(conn: Connection, principal: Principal, body: DealerIn) -> DealerOut:
    home = readable(conn, principal, body.region_id, "region")
    access.check_manage(principal, home)
    authorized = sorted(set(body.authorized_region_ids or []) | {home.party_id})
    if principal.role is Role.REGION_MANAGER and authorized != [home.party_id]:
        raise Forbidden("a region manager authorizes dealers for their own region only")
    for r in authorized:
        party(conn, r, "region")
    _check_location_in(conn, body.location, authorized, "the dealer's authorized regions")
    _free_code(conn, body.code)
    dealer_id = new_party_id("dealer")
    repo.insert_party(
        conn,
        party_id=dealer_id,
        kind="dealer",
        code=body.code,
        name=body.name,
        region_id=home.party_id,
        dealer_id=dealer_id,
        tier=body.tier,
        credit_limit_fen=body.credit_limit_fen,
        share_permille=body.share_permille,
        created_at=_now(),
        **_location_values(body.location),
    )
    repo.set_dealer_regions(conn, dealer_id, authorized)
    return dealers_out(conn, [party(conn, dealer_id)])[0]


def update_dealer(
    conn: Connection, principal: Principal, dealer_id: str, body: DealerPatch
) -> DealerOut:
    dealer = managed(conn, principal, dealer_id, "dealer")
    values = body.model_dump(exclude_unset=True, exclude={"authorized_region_ids"})
    money = {"credit_limit_fen", "share_permille", "tier"} & values.keys()
    if money and not principal.runs_channel:
        raise Forbidden(f"only HQ changes a dealer's {', '.join(sorted(money))}")
    if body.authorized_region_ids is not None:
        if not principal.runs_channel:
            raise Forbidden("only HQ changes the regions a dealer is authorized for")
        for r in body.authorized_region_ids:
            party(conn, r, "region")
        regions = sorted(set(body.authorized_region_ids) | {dealer.region_id or ""})
        repo.set_dealer_regions(conn, dealer_id, regions)
    if values:
        repo.update_party(conn, dealer_id, **values)
    return dealers_out(conn, [party(conn, dealer_id)])[0]


def dealers_out(conn: Connection, rows: Sequence[PartyRow]) -> list[DealerOut]:
    regions = repo.dealer_region_ids(conn, [r.party_id for r in rows])
    return [
        DealerOut(
            id=r.party_id,
            code=r.code,
            name=r.name,
            region_id=r.region_id or "",
            authorized_region_ids=regions[r.party_id],
            tier=r.tier or "",
            credit_limit_fen=r.credit_limit_fen or 0,
            share_permille=r.share_permille,
            location=location_of(r),
            created_at=r.created_at,
        )
        for r in rows
    ]


def share_permille(dealer: PartyRow, default: int) -> int:
    """The share of HQ's stock a dealer's stores may draw on, in per mille."""
    return default if dealer.share_permille is None else dealer.share_permille


# --- stores ----------------------------------------------------------------------------------


def create_store(conn: Connection, principal: Principal, dealer_id: str, body: StoreIn) -> StoreOut:
    dealer = managed(conn, principal, dealer_id, "dealer")
    authorized = repo.dealer_region_ids(conn, [dealer_id])[dealer_id]
    _check_location_in(conn, body.location, authorized, f"dealer {dealer.code}'s regions")
    _free_code(conn, body.code)
    store_id = new_party_id("store")
    repo.insert_party(
        conn,
        party_id=store_id,
        kind="store",
        code=body.code,
        name=body.name,
        region_id=dealer.region_id,
        dealer_id=dealer_id,
        tier=body.tier,
        created_at=_now(),
        **_location_values(body.location),
    )
    return store_out(party(conn, store_id))


def store_out(r: PartyRow) -> StoreOut:
    return StoreOut(
        id=r.party_id,
        code=r.code,
        name=r.name,
        dealer_id=r.dealer_id or "",
        region_id=r.region_id or "",
        tier=r.tier or "standard",
        location=location_of(r),
        created_at=r.created_at,
    )


# --- warehouses ------------------------------------------------------------------------------


def create_warehouse(conn: Connection, principal: Principal, body: WarehouseIn) -> WarehouseOut:
    region_id = region_of_code(conn, _admin_code(body.location.admin_code))
    dealer_id: str | None = None
    if body.kind == "dealer":
        if body.dealer_id is None:
            raise Unprocessable("a dealer warehouse needs dealer_id")
        dealer = managed(conn, principal, body.dealer_id, "dealer")
        dealer_id, region_id = dealer.party_id, dealer.region_id
    else:
        if body.dealer_id is not None:
            raise Unprocessable(f"a {body.kind} warehouse belongs to HQ; leave dealer_id out")
        if not principal.runs_channel:
            raise Forbidden("only HQ creates central and regional warehouses")
        if body.kind == "regional" and region_id is None:
            raise Unprocessable(
                f"admin code {body.location.admin_code} lies in no region; "
                "a regional warehouse must be inside one"
            )
    _free_code(conn, body.code)
    warehouse_id = new_party_id("warehouse")
    repo.insert_party(
        conn,
        party_id=warehouse_id,
        kind="warehouse",
        code=body.code,
        name=body.name,
        region_id=region_id,
        dealer_id=dealer_id,
        warehouse_kind=body.kind,
        created_at=_now(),
        **_location_values(body.location),
    )
    return warehouse_out(conn, party(conn, warehouse_id))


def warehouse_out(conn: Connection, r: PartyRow) -> WarehouseOut:
    owner = r.dealer_id or ensure_hq(conn).party_id
    return WarehouseOut(
        id=r.party_id,
        code=r.code,
        name=r.name,
        kind=r.warehouse_kind or "",
        owner_id=owner,
        dealer_id=r.dealer_id,
        region_id=r.region_id,
        location=location_of(r),
        created_at=r.created_at,
    )


def owner_of(conn: Connection, warehouse: PartyRow) -> PartyRow:
    """The party that owns a warehouse: its dealer, or HQ."""
    return party(conn, warehouse.dealer_id) if warehouse.dealer_id else ensure_hq(conn)


# --- helpers ---------------------------------------------------------------------------------


def location_of(r: PartyRow) -> Location:
    return Location(
        admin_code=r.admin_code or "000000",
        address=r.address or "",
        lat_e6=r.lat_e6 or 0,
        lon_e6=r.lon_e6 or 0,
    )


def _location_values(loc: Location) -> dict[str, object]:
    return {
        "admin_code": _admin_code(loc.admin_code),
        "address": loc.address,
        "lat_e6": loc.lat_e6,
        "lon_e6": loc.lon_e6,
    }


def _check_location_in(
    conn: Connection, loc: Location, region_ids: Sequence[str], what: str
) -> None:
    region = region_of_code(conn, _admin_code(loc.admin_code))
    if region not in region_ids:
        raise Unprocessable(
            f"address admin code {loc.admin_code} lies outside {what}"
            + ("" if region else " (it is in no region at all)")
        )


def _admin_code(code: str) -> str:
    try:
        return check_admin_code(code)
    except AdminCodeError as exc:
        raise Unprocessable(str(exc)) from None


def _free_code(conn: Connection, code: str) -> None:
    if repo.code_taken(conn, code):
        raise Conflict(f"code {code!r} is already used by another party")


def _now() -> datetime:
    return datetime.now(UTC)
