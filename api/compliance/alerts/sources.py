"""Read-only SQL over the channel's, traceability's and shipments' tables: the facts the
detector judges. Nothing here writes to another domain's table.

Those domains offer per-code and per-shipment reads; detection over millions of scans needs
set-wise reads, so the few queries it needs live here (docs/compliance.md lists them as hooks
the owning domains could adopt).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    String,
    any_,
    case,
    cast,
    false,
    func,
    literal,
    select,
)

from api.channel import repository as channel_repo
from api.channel.models import Party, RegionArea
from api.compliance.detection.model import (
    Movement,
    MovementKind,
    PartyInfo,
    ScanPoint,
    Territory,
)
from api.db import chunks
from api.shipments.models import Shipment, ShipmentScan
from api.trace.codes.custody import TRANSFER_KINDS, code_item
from api.trace.codes.models import Code, CodeEvent, CodeIndex
from api.trace.resolver.models import Scan

_MOVES = {"transfer.shipped": MovementKind.SHIPPED, "transfer.received": MovementKind.RECEIVED}

parties = Party.__table__
region_areas = RegionArea.__table__
codes = Code.__table__
events = CodeEvent.__table__
index = CodeIndex.__table__
scans = Scan.__table__
shipments = Shipment.__table__
shipment_scans = ShipmentScan.__table__


def epoch(conn: Connection, column: Any) -> ColumnElement[int]:
    """Whole seconds since the epoch of a stored UTC time, computed by the database and
    truncated (as SQLite's ``strftime('%s')`` and Python's ``int(ts.timestamp())`` do: a cast
    of PostgreSQL's fractional epoch would round)."""
    if conn.dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.floor(func.extract("epoch", column)), BigInteger)


def among(conn: Connection, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``column IN values``; on PostgreSQL as ``= ANY(array)``, one parameter however many
    values (a long IN list costs more to plan than to run)."""
    if conn.dialect.name == "sqlite":
        return column.in_(list(values))  # type: ignore[no-any-return]
    if not values:  # an empty array has no element type to match the column's
        return false()
    kind = String if values and isinstance(values[0], str) else BigInteger
    return column == any_(literal(list(values), ARRAY(kind)))  # type: ignore[no-any-return]


def load_parties(conn: Connection, ids: Sequence[str] | None = None) -> dict[str, PartyInfo]:
    """Every party, or those of ``ids`` and their dealers."""
    query = select(
        parties.c.party_id,
        parties.c.kind,
        parties.c.dealer_id,
        parties.c.region_id,
        parties.c.admin_code,
        parties.c.name,
    )
    if ids is None:
        return {r[0]: PartyInfo(*r) for r in conn.execute(query)}
    found = {
        r[0]: PartyInfo(*r) for r in conn.execute(query.where(among(conn, parties.c.party_id, ids)))
    }
    dealers = {p.dealer_id for p in found.values() if p.dealer_id and p.dealer_id not in found}
    if dealers:
        where = among(conn, parties.c.party_id, sorted(dealers))
        found.update({r[0]: PartyInfo(*r) for r in conn.execute(query.where(where))})
    return found


def load_territory(conn: Connection, known: dict[str, PartyInfo]) -> Territory:
    """Every region's areas, and the authorized regions of the dealers in ``known``."""
    areas = dict(conn.execute(select(region_areas.c.admin_code, region_areas.c.region_id)).all())
    dealers = [p.party_id for p in known.values() if p.kind == "dealer"]
    authorized = channel_repo.dealer_region_ids(conn, dealers)
    return Territory(areas, {d: frozenset(r) for d, r in authorized.items()})


@dataclass(frozen=True, slots=True)
class CaseRef:
    code_id: int
    gtin: str


def movements(conn: Connection, case_ids: Sequence[int] | None = None) -> list[Movement]:
    """Every ledger-recorded movement of case codes (of ``case_ids`` only, when given).

    The detector's case key is the code id as text.
    """
    at = epoch(conn, events.c.at)
    # 1. Transfers: the case codes each transfer entry lists, and the entry's from and to
    # (the event row keeps them as the entry's payload says).
    query = (
        select(
            events.c.entry_id,
            events.c.kind,
            at,
            index.c.code_id,
            codes.c.gtin,
            events.c.party,
            events.c.sender,
        )
        .join(index, index.c.entry_id == events.c.entry_id)
        .join(codes, codes.c.id == index.c.code_id)
        .where(events.c.kind.in_(TRANSFER_KINDS), codes.c.kind == "case")
    )
    if case_ids is not None:
        query = query.where(among(conn, index.c.code_id, case_ids))
    out: list[Movement] = []
    for entry_id, kind, when, code_id, gtin, to, sender in conn.execute(query):
        if to is not None:
            move = _MOVES[kind]
            out.append(Movement(str(code_id), gtin, int(when), move, to, entry_id, sender))
    # 2. Openings: an unpacking entry names its case (the event's parent) and where.
    case = codes.alias("case_code")
    query = (
        select(events.c.entry_id, at, events.c.parent_id, events.c.location, case.c.gtin)
        .join(case, case.c.id == events.c.parent_id)
        .where(events.c.event == "unpacked")
    )
    if case_ids is not None:
        query = query.where(among(conn, events.c.parent_id, case_ids))
    for entry_id, when, parent, location, gtin in conn.execute(query):
        if location:
            out.append(
                Movement(str(parent), gtin, int(when), MovementKind.OPENED, location, entry_id)
            )
    # 3. Off-the-books arrivals: cases scanned in on receipt that no shipment to them carried.
    query = select(
        shipment_scans.c.code_id,
        shipment_scans.c.gtin,
        epoch(conn, shipment_scans.c.scanned_at),
        shipments.c.to_party_id,
        shipments.c.received_entries,
    ).join(shipments, shipments.c.shipment_id == shipment_scans.c.shipment_id)
    query = query.where(shipment_scans.c.phase == "extra")
    if case_ids is not None:
        query = query.where(among(conn, shipment_scans.c.code_id, case_ids))
    for code_id, gtin, when, party, received in conn.execute(query):
        entries = json.loads(received)
        if entries:
            out.append(
                Movement(str(code_id), gtin, int(when), MovementKind.SCANNED_IN, party, entries[0])
            )
    return out


@dataclass(frozen=True, slots=True)
class ScanRow:
    code_id: int
    case_id: int | None
    scan_id: int
    at: int
    device: bytes | None
    lat_centi: int | None
    lon_centi: int | None
    province: str | None
    city: str | None


def scan_rows(
    conn: Connection, code_ids: Sequence[int] | None = None, *, batch: int = 20_000
) -> Iterator[ScanRow]:
    """Consumer scans ordered by code then time, each with the case its code came in when it
    was scanned (recorded with the scan: :func:`case_of_code` then)."""
    query = select(
        scans.c.code_id,
        scans.c.case_id,
        scans.c.id,
        epoch(conn, scans.c.at),
        scans.c.device_hash,
        scans.c.lat_centi,
        scans.c.lon_centi,
        scans.c.province,
        scans.c.city,
    ).order_by(scans.c.code_id, scans.c.at, scans.c.id)
    if code_ids is not None:
        # A few codes: a plain query. A server-side cursor would be planned for a fast start,
        # walking the whole (code_id, at) index in order and filtering it.
        query = query.where(among(conn, scans.c.code_id, code_ids))
        yield from _scan_rows(conn.execute(query).all())
        return
    result = conn.execute(query, execution_options={"stream_results": True, "yield_per": batch})
    for rows in result.partitions():
        yield from _scan_rows(rows)


def points_by_code(
    rows: Iterable[ScanRow], place_of: Callable[[ScanRow], str | None]
) -> Iterator[tuple[int, int | None, list[ScanPoint]]]:
    """Code-ordered scan rows grouped by code: (code id, its case, its scans as the detector
    reads them, placed by ``place_of``)."""
    for code_id, group in itertools.groupby(rows, key=lambda r: r.code_id):
        points: list[ScanPoint] = []
        case_id: int | None = None
        for r in group:
            case_id = r.case_id
            lat = r.lat_centi * 10_000 if r.lat_centi is not None else None
            lon = r.lon_centi * 10_000 if r.lon_centi is not None else None
            points.append(ScanPoint(r.scan_id, r.at, r.device, place_of(r), lat, lon))
        yield code_id, case_id, points


def case_of_code() -> ColumnElement[Any]:
    """The case a code came in: the code itself for a case, its parent for a packed bottle,
    else the case it was last packed in (``packed_in``)."""
    return case(
        (codes.c.kind == "case", codes.c.id),
        else_=func.coalesce(codes.c.parent_id, codes.c.packed_in),
    )


def _scan_rows(rows: Sequence[Any]) -> Iterator[ScanRow]:
    for r in rows:
        device = bytes(r[4]) if r[4] is not None else None
        case_id = int(r[1]) if r[1] is not None else None
        yield ScanRow(r[0], case_id, r[2], int(r[3]), device, r[5], r[6], r[7], r[8])


def case_of(conn: Connection, code_id: int) -> int | None:
    """The case a code came in (see :func:`scan_rows`), for incremental detection."""
    found = conn.execute(select(case_of_code()).where(codes.c.id == code_id)).scalar()
    return int(found) if found is not None else None


def code_keys(conn: Connection, code_ids: Sequence[int]) -> dict[int, str]:
    """Each code's Merkle list item (``code_key``), by id: one indexed read per 20,000."""
    out: dict[int, str] = {}
    for chunk in chunks(code_ids, 20_000):
        query = select(codes.c.id, codes.c.gtin, codes.c.lot, codes.c.serial)
        for code_id, gtin, lot, serial in conn.execute(query.where(among(conn, codes.c.id, chunk))):
            out[int(code_id)] = code_item(gtin, lot, serial)
    return out


def codes_of_case(conn: Connection, case_id: int) -> list[int]:
    """The case and every bottle ever packed in it."""
    rows = conn.execute(
        select(index.c.code_id)
        .join(events, events.c.entry_id == index.c.entry_id)
        .where(events.c.event == "packed", events.c.parent_id == case_id)
    )
    current = conn.execute(select(codes.c.id).where(codes.c.parent_id == case_id))
    return sorted({case_id, *(int(r[0]) for r in rows), *(int(r[0]) for r in current)})
