"""Put-away (fresh cases from the bottling line into HQ's stock) and who may see a case's
custody. Both work on the custody projection the shipments keep (``api.shipments.custody``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import Connection

from api.auth.service import Principal
from api.channel import access as party_access
from api.channel import service as channel
from api.errors import Forbidden, NotFound, Unprocessable
from api.shipments import access
from api.shipments import custody as projection
from api.shipments import repository as repo
from api.shipments.schemas import CustodyOut, PutawayOut
from api.shipments.service import ScanRefused, parts, region_name
from api.stock import service as stock
from api.trace.codes.custody import TRANSITIONS, record_custody
from api.trace.codes.service import CodeKind, get_codes


def putaway(
    conn: Connection, principal: Principal, warehouse_id: str, texts: Sequence[str]
) -> PutawayOut:
    """Fresh cases from the bottling line into one of HQ's warehouses (on hand rises)."""
    warehouse = channel.party(conn, warehouse_id, "warehouse")
    if warehouse.dealer_id is not None:
        raise Unprocessable("put-away is for HQ's warehouses; dealers receive shipments")
    if not access.can_operate(principal, warehouse):
        raise Forbidden(f"you may not put stock away in {warehouse.code}")
    codes = get_codes(conn, texts)
    if repo.lock_codes(conn, [c.id for c in codes]):
        # Read again under the lock: another put-away of the same cases may have committed
        # between the first read and the lock; the checks below must see it.
        codes = get_codes(conn, texts)
    held = repo.custody_of(conn, [c.serial for c in codes])
    storable = TRANSITIONS["stored"][0]
    for c in codes:
        if c.kind is not CodeKind.CASE:
            raise ScanRefused(f"{c.serial} is a bottle code; stock is kept in whole cases")
        if c.serial in held:
            where = held[c.serial].warehouse_id or held[c.serial].holder_id
            raise ScanRefused(f"{c.serial} is already in stock ({where})")
        if c.state not in storable:
            raise ScanRefused(
                f"{c.serial} is {c.state.value}; only commissioned cases are put away"
            )
    hq = channel.ensure_hq(conn)
    payload = {"warehouse": warehouse_id, "holder": hq.party_id}
    entry_ids = record_custody(
        conn,
        "stored",
        codes,
        kind="stock.putaway",
        payload=payload,
        location=warehouse_id,
        region=region_name(conn, warehouse),
        party=hq.party_id,
        holder_kind="producer",
    )
    for entry_id, part in zip(entry_ids, parts(codes), strict=True):
        repo.upsert_custody(conn, projection.apply({}, "stock.putaway", payload, entry_id, part))
    counts = Counter(c.gtin for c in codes)
    # One global order (SKU) over the stock rows, as every writer of them keeps: two put-aways
    # of the same SKUs listed the other way round would otherwise deadlock.
    for gtin, n in sorted(counts.items()):
        stock.arrive(conn, warehouse_id, gtin, n)
    return PutawayOut(warehouse_id=warehouse_id, cases=dict(counts), entry_ids=entry_ids)


def custody_for(conn: Connection, principal: Principal, serial: str) -> CustodyOut:
    row = repo.custody_of(conn, [serial.upper()]).get(serial.upper())
    if row is None:
        raise NotFound(f"no custody record for {serial}: it was never put away")
    holder = channel.party(conn, row.holder_id)
    concerned = [channel.party(conn, row.to_id)] if row.to_id else []
    if holder.kind != "hq":
        concerned.append(holder)
    if row.warehouse_id:
        concerned.append(channel.party(conn, row.warehouse_id))
    if not principal.sees_everything and not any(
        party_access.in_scope(principal, p) for p in concerned
    ):
        raise Forbidden(f"case {serial} is not held by or on its way to a party of yours")
    return CustodyOut(
        serial=row.serial,
        gtin=row.gtin,
        state=row.state,
        holder_id=row.holder_id,
        warehouse_id=row.warehouse_id,
        to_id=row.to_id,
        entry_id=row.entry_id,
    )
