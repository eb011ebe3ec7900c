"""Sourcing: which warehouses serve an order line, in what order, and why.

Pure functions over candidate warehouses (their stock already locked by the caller), so the
policy can be read and tested apart from the database. Policies:

- ``hq-first`` (default): HQ's central warehouse(s) first, then HQ's regional warehouses
  nearest to the ship-to address first (great-circle distance).
- ``nearest``: every HQ warehouse by distance alone.

Store orders are served by their dealer: the dealer's own warehouses first (nearest first),
then, through inventory sharing, HQ's warehouses in the policy's order, limited to the dealer's
share (default 30%) of HQ's available stock of that SKU. The share is the dealer's, not the
order's: what its stores' open orders already hold at HQ counts against it (the caller works
out the cap, ``api.stock.service.Share``), so splitting an order does not get round it. A line
is split across warehouses when one cannot serve it; if all together cannot, the line is
refused with what is available.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from api.errors import Conflict


class InsufficientStock(Conflict):
    code = "insufficient_stock"


@dataclass(frozen=True, slots=True)
class Candidate:
    warehouse_id: str
    code: str
    kind: str  # central | regional | dealer
    available: int
    distance_m: int | None


@dataclass(frozen=True, slots=True)
class Allocation:
    warehouse_id: str
    cases: int
    rule: str
    distance_m: int | None
    reason: str


def rank(candidates: Sequence[Candidate], policy: str) -> list[tuple[str, Candidate]]:
    """Candidates in the order they are drawn on, each with the rule that put it there."""

    def far(c: Candidate) -> tuple[int, str]:
        return (c.distance_m if c.distance_m is not None else 2**62, c.code)

    own = sorted((c for c in candidates if c.kind == "dealer"), key=far)
    hq = [c for c in candidates if c.kind != "dealer"]
    out: list[tuple[str, Candidate]] = [("dealer_own_nearest", c) for c in own]
    if policy == "nearest":
        out += [("hq_nearest", c) for c in sorted(hq, key=far)]
    else:
        out += [("hq_central_first", c) for c in sorted(hq, key=far) if c.kind == "central"]
        out += [("hq_regional_nearest", c) for c in sorted(hq, key=far) if c.kind != "central"]
    return out


def allocate(
    gtin: str,
    cases: int,
    candidates: Sequence[Candidate],
    policy: str,
    *,
    hq_cap: int | None = None,
    line_no: int = 1,
) -> list[Allocation]:
    """Split ``cases`` over the ranked candidates; ``hq_cap`` limits what HQ warehouses give
    (inventory sharing for store orders). Raises :class:`InsufficientStock` with the figures."""
    ranked = rank(candidates, policy)
    need = cases
    hq_left = hq_cap
    out: list[Allocation] = []
    shortfalls: list[str] = []
    for rule, c in ranked:
        if need == 0:
            break
        limit = c.available
        if c.kind != "dealer" and hq_left is not None:
            limit = min(limit, hq_left)
        take = min(need, limit)
        capped = limit < c.available
        if take <= 0:
            shortfalls.append(f"{c.code} ({'share used up' if capped else 'none available'})")
            continue
        out.append(
            Allocation(
                c.warehouse_id,
                take,
                rule,
                c.distance_m,
                _reason(rule, c, take, need, shortfalls, capped),
            )
        )
        need -= take
        if c.kind != "dealer" and hq_left is not None:
            hq_left -= take
        shortfalls = []
    if need > 0:
        available = cases - need
        cap = "" if hq_cap is None else f" (HQ stock limited to this dealer's share: {hq_cap})"
        raise InsufficientStock(
            f"line {line_no}: {cases} cases of GTIN {gtin} wanted, only {available} available "
            f"across {len(ranked)} warehouse(s){cap}; nothing was reserved"
        )
    return out


def _reason(rule: str, c: Candidate, take: int, need: int, skipped: list[str], capped: bool) -> str:
    where = {
        "dealer_own_nearest": "the dealer's own warehouse, nearest first",
        "hq_central_first": "HQ central stock first (policy hq-first)",
        "hq_regional_nearest": "nearest HQ regional warehouse (policy hq-first)",
        "hq_nearest": "nearest HQ warehouse (policy nearest)",
    }[rule]
    dist = "" if c.distance_m is None else f", {c.distance_m / 1000:.0f} km from the ship-to"
    part = (
        f"took all {take} still needed"
        if take == need
        else f"took {take} of {need} still needed "
        + ("(the dealer's share of HQ stock)" if capped else "(all it had)")
        + ", the rest from the next"
    )
    after = f"; passed over {', '.join(skipped)}" if skipped else ""
    return f"{c.code}: {where}{dist}; {c.available} available; {part}{after}"
