"""Stock rules: sourcing with reservation, release, dispatch and arrival of cases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from api.auth.service import Principal
from api.channel import access
from api.channel import repository as parties
from api.channel import service as channel
from api.channel.geo import distance_m
from api.channel.repository import PartyRow
from api.errors import AppError
from api.orders.sourcing import Allocation, Candidate, InsufficientStock, allocate
from api.stock import repository as repo
from api.stock.repository import HQ_KINDS
from api.stock.schemas import StockLevelOut


class StockInvariantBroken(AppError):
    """A locked row did not accept a change it was checked for: a bug, never user error."""

    status_code = 500
    code = "stock_invariant"


@dataclass(frozen=True, slots=True)
class Share:
    """A dealer's inventory sharing: it may hold up to ``permille`` of HQ's available stock of
    a SKU, counting what its stores' open orders already hold there (``drawn``, by GTIN)."""

    permille: int
    drawn: Mapping[str, int]

    def cap(self, gtin: str, hq_available: int) -> int:
        """What more may be drawn of ``gtin``: the share of HQ's stock as it would be without
        this dealer's holdings, less those holdings."""
        drawn = self.drawn.get(gtin, 0)
        return max(0, (hq_available + drawn) * self.permille // 1000 - drawn)


def plan(
    wanted: Sequence[tuple[str, int]],
    warehouses: Sequence[PartyRow],
    levels: dict[tuple[str, str], repo.Level],
    *,
    ship_to: PartyRow,
    share: Share | None,
    policy: str,
) -> list[list[Allocation]]:
    """Allocate each ``(gtin, cases)`` line over ``warehouses`` given their ``levels``.

    Dealer orders draw on HQ's warehouses; store orders (``share`` given) on their dealer's
    warehouses, then on HQ's within the dealer's share. Raises :class:`InsufficientStock` for
    the first line that cannot be served. The plan is only as good as the levels: the caller
    reserves it with conditional writes that re-check them.
    """
    plans: list[list[Allocation]] = []
    distances = [_distance(w, ship_to) for w in warehouses]
    for n, (gtin, cases) in enumerate(wanted, 1):
        candidates = [
            Candidate(
                warehouse_id=w.party_id,
                code=w.code,
                kind=w.warehouse_kind or "dealer",
                available=_available(levels, w.party_id, gtin),
                distance_m=distance,
            )
            for w, distance in zip(warehouses, distances, strict=True)
        ]
        cap = None
        if share is not None:
            cap = share.cap(gtin, sum(c.available for c in candidates if c.kind in HQ_KINDS))
        plans.append(allocate(gtin, cases, candidates, policy, hq_cap=cap, line_no=n))
    return plans


def _available(levels: dict[tuple[str, str], repo.Level], warehouse_id: str, gtin: str) -> int:
    level = levels.get((warehouse_id, gtin))
    return 0 if level is None else level.available


def _distance(a: PartyRow, b: PartyRow) -> int | None:
    if a.lat_e6 is None or a.lon_e6 is None or b.lat_e6 is None or b.lon_e6 is None:
        return None
    return distance_m(a.lat_e6, a.lon_e6, b.lat_e6, b.lon_e6)


def release(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> None:
    if not repo.release(conn, warehouse_id, gtin, cases):
        raise StockInvariantBroken(f"releasing {cases} of {gtin} at {warehouse_id}")


def dispatch(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> None:
    if not repo.take_reserved(conn, warehouse_id, gtin, cases):
        raise StockInvariantBroken(f"dispatching {cases} reserved {gtin} from {warehouse_id}")


def withdraw(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> None:
    """Take free cases out (a return leaving a dealer's warehouse)."""
    if not repo.withdraw(conn, warehouse_id, gtin, cases):
        raise InsufficientStock(
            f"{warehouse_id} has fewer than {cases} unreserved cases of GTIN {gtin}: the rest "
            "are reserved for open orders; cancel or reduce them first"
        )


def arrive(conn: Connection, warehouse_id: str, gtin: str, cases: int) -> None:
    if cases:
        repo.add(conn, warehouse_id, gtin, cases)


def levels_for(
    conn: Connection, principal: Principal, warehouse_id: str | None, gtin: str | None
) -> list[StockLevelOut]:
    """Stock the principal may see: one warehouse, or all it may read."""
    if warehouse_id is not None:
        ids = [channel.readable(conn, principal, warehouse_id, "warehouse").party_id]
    else:
        visible = [
            w
            for w in parties.list_parties(conn, "warehouse", limit=10_000)
            if access.can_read(principal, w)
        ]
        ids = [w.party_id for w in visible]
    rows = repo.read(conn, ids, None if gtin is None else [gtin])
    return [
        StockLevelOut(
            warehouse_id=r.warehouse_id,
            gtin=r.gtin,
            on_hand=r.on_hand,
            reserved=r.reserved,
            available=r.available,
        )
        for r in rows
    ]
