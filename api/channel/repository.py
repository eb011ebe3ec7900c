"""All SQL for parties, region areas and dealers' authorized regions."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select

from api.channel.models import DealerRegion, Party, RegionArea

parties = Party.__table__
areas = RegionArea.__table__
dealer_regions = DealerRegion.__table__


@dataclass(frozen=True, slots=True)
class PartyRow:
    party_id: str
    kind: str
    code: str
    name: str
    region_id: str | None
    dealer_id: str | None
    tier: str | None
    credit_limit_fen: int | None
    share_permille: int | None
    warehouse_kind: str | None
    admin_code: str | None
    address: str | None
    lat_e6: int | None
    lon_e6: int | None
    created_at: datetime

    @property
    def located(self) -> bool:
        return self.lat_e6 is not None and self.lon_e6 is not None


def _row(row: Any) -> PartyRow:
    return PartyRow(**row._mapping)


def insert_party(conn: Connection, **values: Any) -> None:
    conn.execute(parties.insert().values(**values))


def insert_parties(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(parties.insert(), list(rows))


def update_party(conn: Connection, party_id: str, **values: Any) -> None:
    conn.execute(parties.update().where(parties.c.party_id == party_id).values(**values))


def get_party(conn: Connection, party_id: str, *, for_update: bool = False) -> PartyRow | None:
    query = select(parties).where(parties.c.party_id == party_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _row(row)


def get_parties(conn: Connection, ids: Iterable[str]) -> dict[str, PartyRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(select(parties).where(parties.c.party_id.in_(wanted)))
    return {r.party_id: _row(r) for r in rows}


def code_taken(conn: Connection, code: str) -> bool:
    return (
        conn.execute(select(parties.c.party_id).where(parties.c.code == code)).first() is not None
    )


def the_hq(conn: Connection) -> PartyRow | None:
    row = conn.execute(select(parties).where(parties.c.kind == "hq")).first()
    return None if row is None else _row(row)


def list_parties(
    conn: Connection,
    kind: str,
    *,
    region_id: str | None = None,
    dealer_id: str | None = None,
    party_id: str | None = None,
    warehouse_kinds: Sequence[str] | None = None,
    after: str | None = None,
    limit: int = 100,
) -> list[PartyRow]:
    """Parties of ``kind`` ordered by code; the keyword filters are tenancy filters."""
    query = select(parties).where(parties.c.kind == kind)
    if region_id is not None:
        query = query.where(parties.c.region_id == region_id)
    if dealer_id is not None:
        query = query.where(parties.c.dealer_id == dealer_id)
    if party_id is not None:
        query = query.where(parties.c.party_id == party_id)
    if warehouse_kinds is not None:
        query = query.where(parties.c.warehouse_kind.in_(list(warehouse_kinds)))
    if after is not None:
        query = query.where(parties.c.code > after)
    return [_row(r) for r in conn.execute(query.order_by(parties.c.code).limit(limit))]


def warehouses_of(
    conn: Connection, *, dealer_id: str | None, kinds: Sequence[str] | None = None
) -> list[PartyRow]:
    """Warehouses owned by a dealer, or by HQ when ``dealer_id`` is None."""
    query = select(parties).where(parties.c.kind == "warehouse")
    if dealer_id is None:
        query = query.where(parties.c.dealer_id.is_(None))
    else:
        query = query.where(parties.c.dealer_id == dealer_id)
    if kinds is not None:
        query = query.where(parties.c.warehouse_kind.in_(list(kinds)))
    return [_row(r) for r in conn.execute(query.order_by(parties.c.code))]


def count_parties(conn: Connection, kind: str) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(parties).where(parties.c.kind == kind)
        ).scalar_one()
    )


def insert_areas(conn: Connection, region_id: str, codes: Sequence[str]) -> None:
    if codes:
        conn.execute(areas.insert(), [{"region_id": region_id, "admin_code": c} for c in codes])


def area_owners(conn: Connection, codes: Sequence[str]) -> dict[str, str]:
    """``admin_code -> region_id`` for those of ``codes`` that belong to a region."""
    if not codes:
        return {}
    rows = conn.execute(
        select(areas.c.admin_code, areas.c.region_id).where(areas.c.admin_code.in_(list(codes)))
    )
    return {code: region for code, region in rows}


def region_areas(conn: Connection, region_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {r: [] for r in region_ids}
    if region_ids:
        rows = conn.execute(
            select(areas.c.region_id, areas.c.admin_code)
            .where(areas.c.region_id.in_(list(region_ids)))
            .order_by(areas.c.admin_code)
        )
        for region, code in rows:
            out[region].append(code)
    return out


def set_dealer_regions(conn: Connection, dealer_id: str, region_ids: Sequence[str]) -> None:
    conn.execute(dealer_regions.delete().where(dealer_regions.c.dealer_id == dealer_id))
    if region_ids:
        conn.execute(
            dealer_regions.insert(),
            [{"dealer_id": dealer_id, "region_id": r} for r in sorted(set(region_ids))],
        )


def dealer_region_ids(conn: Connection, dealer_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {d: [] for d in dealer_ids}
    if dealer_ids:
        rows = conn.execute(
            select(dealer_regions.c.dealer_id, dealer_regions.c.region_id)
            .where(dealer_regions.c.dealer_id.in_(list(dealer_ids)))
            .order_by(dealer_regions.c.region_id)
        )
        for dealer, region in rows:
            out[dealer].append(region)
    return out
