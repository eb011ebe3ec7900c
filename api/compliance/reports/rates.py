"""Diversion rate = diverted ÷ shipped, and where diverted goods went. Pure functions.

*Shipped* counts the cases allotted to a dealer by transfers from HQ (a case returned and
allotted again counts again). *Suspected* counts those with a diversion alert that is not
dismissed, *confirmed* those whose alert a compliance officer confirmed. Each is attributed
to the allocation it was diverted from: its dealer, the dealer's home region, the SKU, and the
month (Asia/Shanghai) the case was allotted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

GROUPS = ("dealer", "region", "sku", "month")
Group = Literal["dealer", "region", "sku", "month"]
_COLUMN = {"dealer": "dealer_id", "region": "region_id", "sku": "gtin", "month": "month"}


@dataclass(frozen=True, slots=True)
class RateRow:
    key: str
    shipped: int
    suspected: int
    confirmed: int

    @property
    def suspected_permille(self) -> int:
        return _permille(self.suspected, self.shipped)

    @property
    def confirmed_permille(self) -> int:
        return _permille(self.confirmed, self.shipped)


def _permille(part: int, whole: int) -> int:
    return (part * 1000 + whole // 2) // whole if whole else 0


def diversion_rates(
    allocations: Iterable[Mapping[str, Any]], alerts: Iterable[Mapping[str, Any]], by: Group
) -> list[RateRow]:
    """Rates grouped ``by`` dealer, region, SKU or month, highest suspected rate first.

    ``allocations`` rows have case_id, dealer_id, region_id, gtin, month; ``alerts`` rows
    (diversion alerts) have code_id (the case), dealer_id and state.
    """
    column = _COLUMN[by]
    verdict: dict[tuple[int, str], str] = {}
    for a in alerts:
        if a["state"] != "dismissed":
            verdict[(int(a["code_id"]), a["dealer_id"])] = a["state"]
    counts: dict[str, list[int]] = {}
    for row in allocations:
        key = str(row[column] or "-")
        tally = counts.setdefault(key, [0, 0, 0])
        tally[0] += 1
        state = verdict.pop((int(row["case_id"]), row["dealer_id"]), None)
        if state is not None:
            tally[1] += 1
            tally[2] += state == "confirmed"
    rows = [RateRow(k, *v) for k, v in counts.items()]
    return sorted(rows, key=lambda r: (-r.suspected_permille, -r.shipped, r.key))


@dataclass(frozen=True, slots=True)
class Flow:
    source: str
    """The diverting dealer's home region."""
    destination: str
    """The region where the goods turned up ("-": a place in no sales region)."""
    suspected: int
    confirmed: int

    @property
    def regions(self) -> tuple[str, str]:
        return self.source, self.destination


def flow_matrix(alerts: Iterable[Mapping[str, Any]]) -> list[Flow]:
    """Diversion alerts (not dismissed) counted by (from region, to region), largest first."""
    cells: dict[tuple[str, str], list[int]] = {}
    for a in alerts:
        if a["state"] == "dismissed":
            continue
        cell = cells.setdefault((a["region_id"] or "-", a["to_region_id"] or "-"), [0, 0])
        cell[0] += 1
        cell[1] += a["state"] == "confirmed"
    flows = [Flow(s, d, n, c) for (s, d), (n, c) in cells.items()]
    return sorted(flows, key=lambda f: (-f.suspected, f.source, f.destination))


NAMED: tuple[Group, ...] = ("dealer", "region")
"""Groups keyed by a party's id, which the CSV names beside it."""


def rates_csv(rows: Sequence[RateRow], by: Group, names: Mapping[str, str] | None = None) -> str:
    """The rates as CSV; a dealer's or region's id with its name (``names``) beside it."""
    named = by in NAMED
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    figures = ["shipped", "suspected", "confirmed", "suspected_permille", "confirmed_permille"]
    writer.writerow([by, *([f"{by}_name"] if named else []), *figures])
    for r in rows:
        name = [_name(names, r.key)] if named else []
        permille = (r.suspected_permille, r.confirmed_permille)
        writer.writerow([r.key, *name, r.shipped, r.suspected, r.confirmed, *permille])
    return out.getvalue()


def flows_csv(flows: Sequence[Flow], names: Mapping[str, str] | None = None) -> str:
    """The flows as CSV, each region's id with its name beside it."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["from_region", "from_region_name", "to_region", "to_region_name", "suspected", "confirmed"]
    )
    for f in flows:
        source, destination = _name(names, f.source), _name(names, f.destination)
        writer.writerow([f.source, source, f.destination, destination, f.suspected, f.confirmed])
    return out.getvalue()


def _name(names: Mapping[str, str] | None, key: str) -> str:
    return (names or {}).get(key, "")
