"""Stock rules: sourcing with reservation, release, dispatch and arrival of cases."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
from api.stock.schemas import StockLevelOut

HQ_KINDS = ("central", "regional")
OPTIMISTIC_ATTEMPTS = 5


class StockInvariantBroken(AppError):
    """A locked row did not accept a change it was checked for: a bug, never user error."""

    status_code = 500
    code = "stock_invariant"


def source_and_reserve(
    conn: Connection,
    wanted: Sequence[tuple[str, int]],
    *,
    ship_to: PartyRow,
    seller_dealer: PartyRow | None,
    policy: str,
    default_share_permille: int,
    record: Callable[[list[list[Allocation]]], None],
) -> list[list[Allocation]]:
    """Allocate each ``(gtin, cases)`` line to warehouses and reserve the cases there.

    Dealer orders (``seller_dealer`` None) draw on HQ's warehouses; store orders on their
    dealer's warehouses, then on its share of HQ's. Optimistic first: plan from committed
    levels, then reserve with conditional UPDATEs (``… WHERE on_hand - reserved >= n``) in
    one global order (SKU, warehouse), so concurrent orders never deadlock and only the rows
    actually drawn on are locked. If another order took the stock in between, the attempt's
    reservations are given back and it is planned again; after a few such races the candidate rows
    are locked up front (``SELECT … FOR UPDATE``) and the plan made under the lock.

    ``record`` is called with each plan before its reservations are attempted (and again if
    the plan changes), so the caller can write its allocation rows outside the locked window.
    """
    hq = parties.warehouses_of(conn, dealer_id=None, kinds=HQ_KINDS)
    own = (
        []
        if seller_dealer is None
        else parties.warehouses_of(conn, dealer_id=seller_dealer.party_id)
    )
    warehouses = own + hq
    ids, gtins = [w.party_id for w in warehouses], [g for g, _ in wanted]
    share = (
        None
        if seller_dealer is None
        else channel.share_permille(seller_dealer, default_share_permille)
    )
    for _ in range(OPTIMISTIC_ATTEMPTS):
        levels = {(lv.warehouse_id, lv.gtin): lv for lv in repo.read(conn, ids, gtins)}
        plans = _plan(wanted, warehouses, levels, ship_to, share, policy)
        record(plans)
        takes = sorted(
            (gtin, a.warehouse_id, a.cases)
            for (gtin, _), plan in zip(wanted, plans, strict=True)
            for a in plan
        )
        done: list[tuple[str, str, int]] = []
        for gtin, wh, n in takes:
            if not repo.reserve(conn, wh, gtin, n):
                break
            done.append((gtin, wh, n))
        else:
            return plans
        for gtin, wh, n in reversed(done):  # give back this attempt's part, then plan again
            release(conn, wh, gtin, n)
    levels = repo.lock(conn, ids, gtins)
    plans = _plan(wanted, warehouses, levels, ship_to, share, policy)
    record(plans)
    for (gtin, _), plan in zip(wanted, plans, strict=True):
        for a in plan:
            if not repo.reserve(conn, a.warehouse_id, gtin, a.cases):
                raise StockInvariantBroken(f"reserving {a.cases} of {gtin} at {a.warehouse_id}")
    return plans


def _plan(
    wanted: Sequence[tuple[str, int]],
    warehouses: Sequence[PartyRow],
    levels: dict[tuple[str, str], repo.Level],
    ship_to: PartyRow,
    share: int | None,
    policy: str,
) -> list[list[Allocation]]:
    plans: list[list[Allocation]] = []
    for n, (gtin, cases) in enumerate(wanted, 1):
        candidates = [
            Candidate(
                warehouse_id=w.party_id,
                code=w.code,
                kind=w.warehouse_kind or "dealer",
                available=_available(levels, w.party_id, gtin),
                distance_m=_distance(w, ship_to),
            )
            for w in warehouses
        ]
        cap = None
        if share is not None:
            hq_available = sum(c.available for c in candidates if c.kind in HQ_KINDS)
            cap = hq_available * share // 1000
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
