"""The public scan lookup: everything about one bottle, with the proofs to check it.

``lookup`` answers for a product, a lot or a single code. For a code it gathers the
product, the batch, the blend and its base liquors, the storage conditions along the
bottle's path, its chain of custody (regions and dates only), its scans, an authenticity
verdict, and every ledger entry behind those facts with its inclusion proof against one
checkpoint; entries that stand for a list of codes add the code's membership proof.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from api.compliance.alerts import runs as compliance
from api.compliance.detection.thresholds import Thresholds, from_settings
from api.config import get_settings
from api.db import engine_key
from api.errors import AppError, NotFound
from api.trace import common, merkle_list
from api.trace.batches import repository as batches
from api.trace.blending import repository as blending
from api.trace.codes import repository as codes_repo
from api.trace.codes.custody import code_item
from api.trace.codes.history import code_history
from api.trace.codes.service import Code, CodeState, code_uri, to_code
from api.trace.products import repository as products
from api.trace.products.service import to_out as product_out
from api.trace.resolver import geo, proofs
from api.trace.resolver import repository as repo
from api.trace.resolver.cache import TTLCache
from api.trace.resolver.clones import clone_reasons
from api.trace.resolver.schemas import (
    BaseLiquorInfo,
    BatchInfo,
    BlendInfo,
    CodeInfo,
    CustodyStep,
    Lookup,
    Membership,
    ProductInfo,
    Scans,
    StorageLeg,
    Verdict,
)
from api.trace.storage import service as storage

WITHDRAWN = (CodeState.VOIDED, CodeState.DECOMMISSIONED)


class UnknownItem(NotFound):
    code = "unknown_code"


class MissingListNode(AppError):
    """A code list's stored subtree is shorter than its count says: the store is damaged."""

    status_code = 500
    code = "missing_list_node"


@dataclass(frozen=True, slots=True)
class ScanInput:
    """What the device tells us, if anything: an id (hashed before storing) and GPS; and the
    client's address as the request came (``ratelimit.client_address``), never stored."""

    device_id: str | None
    lat: float | None
    lon: float | None
    client: str | None = None


@dataclass(frozen=True, slots=True)
class LookupResult:
    status_code: int
    body: Lookup


def lookup(
    conn: Connection,
    gtin: str,
    lot: str | None,
    serial: str | None,
    *,
    host: str,
    verifier_key: str,
    scan: ScanInput | None = None,
    thresholds: Thresholds | None = None,
) -> LookupResult:
    """``thresholds``: the clone rules' (compliance's), from the app's settings; the process
    settings when not given."""
    if lot is None:
        product = products.get(conn, gtin)
        if product is None:
            raise UnknownItem(f"GTIN {gtin} is not a product of this brand")
        wanted = [proofs.Wanted(product["entry_id"], "product")]
        info = _product_info(product)
        entries, cp = proofs.prove(conn, wanted, verifier_key)
        verdict = Verdict(status="unknown", reasons=[_not_a_bottle(f"product {gtin}")])
        return LookupResult(
            200,
            Lookup(
                verdict=verdict,
                code=None,
                product=info,
                batch=None,
                blend=None,
                storage=[],
                custody=[],
                scans=None,
                checkpoint=cp,
                entries=entries,
            ),
        )
    # Usually one query: the code and its batch together; the lot alone when the serial is
    # not a code of it.
    found = repo.code_with_batch(conn, serial) if serial is not None else None
    row: Any = None
    batch: Any
    if found is not None and found.code["gtin"] == gtin and found.code["lot"] == lot:
        row, batch = found.code, found.batch
    else:
        batch = batches.get(conn, lot)
    if batch is None or batch["gtin"] != gtin:
        raise UnknownItem(f"lot {lot} is not a lot of GTIN {gtin} from this brand")
    context = _lot_context(conn, batch)
    info, blend = context.product, context.blend
    wanted = list(context.wanted)
    base_legs = [leg.model_copy(deep=True) for leg in context.base_legs]
    batch_info = BatchInfo(
        lot=batch["lot"],
        line=batch["line"],
        bottled_on=batch["bottled_on"].isoformat(),
        planned_qty=batch["planned_qty"],
        status=batch["status"],
        recall_reason=batch["recall_reason"],
    )
    if batch["recall_entry_id"]:
        wanted.append(proofs.Wanted(batch["recall_entry_id"], "recall"))
    if row is None:
        legs = base_legs
        wanted += storage.wanted_for(legs)
        entries, cp = proofs.prove(conn, wanted, verifier_key)
        storage.link_entries(legs, entries)
        if serial is None:
            recalled = batch["status"] == "recalled"
            reasons = [_not_a_bottle(f"lot {lot}")] + ([_recalled(batch)] if recalled else [])
            verdict = Verdict(status="unknown", reasons=reasons)
            status = 410 if recalled else 200
        else:
            verdict = Verdict(
                status="unknown",
                reasons=[
                    f"This code is not ours: lot {lot} is genuine, but no bottle of it carries "
                    "this serial. The label may be counterfeit."
                ],
            )
            status = 404
        return LookupResult(
            status,
            Lookup(
                verdict=verdict,
                code=None,
                product=info,
                batch=batch_info,
                blend=blend,
                storage=legs,
                custody=[],
                scans=None,
                checkpoint=cp,
                entries=entries,
            ),
        )
    code = to_code(row)
    return _code_lookup(
        conn,
        code,
        row,
        info,
        batch,
        batch_info,
        blend,
        base_legs,
        wanted,
        host=host,
        verifier_key=verifier_key,
        scan=scan,
        latest=found.checkpoint if found is not None else None,
        fetched=found.history if found is not None else None,
        thresholds=thresholds if thresholds is not None else from_settings(get_settings()),
    )


def _code_lookup(
    conn: Connection,
    code: Code,
    row: Any,
    info: ProductInfo,
    batch: Any,
    batch_info: BatchInfo,
    blend: BlendInfo,
    base_legs: list[StorageLeg],
    wanted: list[proofs.Wanted],
    *,
    host: str,
    verifier_key: str,
    scan: ScanInput | None,
    latest: repo.LatestCheckpoint | None,
    thresholds: Thresholds,
    fetched: list[Any] | None = None,
) -> LookupResult:
    # 1. The code's history: its list entries, codes it replaced, its cases' custody. Its
    # usual rows carry the listed codes' keys and the sequenced entries themselves.
    history = code_history(conn, code.id, fetched)
    keys = {ev["code_id"]: _member(ev) for ev in history if "member_serial" in ev}
    known = {e.entry_id: e for ev in history if "ledger_seq" in ev and (e := repo.stored_entry(ev))}
    keys[code.id] = (code.gtin, code.lot, code.serial)
    if code.parent_id is not None and row.get("case_serial") is not None:
        keys[code.parent_id] = (row["case_gtin"], row["case_lot"], row["case_serial"])
    # Codes the history names that its rows did not bring (a replaced label's), in one query.
    others = {ev["code_id"] for ev in history} | ({code.parent_id} if code.parent_id else set())
    if others - keys.keys():
        for other in codes_repo.by_ids(conn, list(others - keys.keys())).values():
            keys[other["id"]] = (other["gtin"], other["lot"], other["serial"])
    # The tree nodes of the history entries' proofs (against the checkpoint read with the
    # code) and the list nodes of the codes' membership proofs, in one query.
    size, root = (latest.tree_size, latest.root_hash) if latest is not None else (0, b"")
    tree_ids = proofs.nodes_needed({e.seq for e in known.values() if e.seq < size}, size, root)
    slices = [
        (ev["entry_id"], merkle_list.node_offset(ev["count"], n))
        for ev in history
        if ev["small_nodes"] is None
        for n in merkle_list.proof_nodes(ev["position"], ev["count"])
    ]
    tree_nodes, sliced = repo.tree_nodes_and_slices(conn, tree_ids, slices)
    list_nodes = iter(sliced)
    custody: list[CustodyStep] = []
    for ev in history:
        custody.append(
            CustodyStep(
                event=ev["event"],
                at=common.local_text(ev["at"]),
                region=ev["region"],
                entry=len(wanted),
            )
        )
        member = _membership(ev, keys[ev["code_id"]], list_nodes)
        wanted.append(proofs.Wanted(ev["entry_id"], ev["event"], member=member))
    # 2. Storage along the path: base liquors in their cellars, then the bottle's zones.
    path = [(ev["location"], common.utc(ev["at"])) for ev in history]
    legs = base_legs + storage.legs(conn, [], path)
    wanted += storage.wanted_for(legs)
    # 3. Scans: record this one, then judge.
    recorded = scan is not None and bool(scan.device_id)
    if scan is not None and recorded:
        scans = _record_scan(conn, code, scan)
        count, first, devices, recent = scans.count, scans.first, scans.devices, scans.recent
        # Diversion and clone alerts; the screen reads the code's scans itself unless these
        # are all of them.
        every = recent if count == len(recent) else None
        compliance.scan_recorded(conn, code.id, thresholds, every)
    else:
        count, first, devices = repo.scan_stats(conn, code.id)
        recent = None
    reasons = _suspicions(conn, code, batch, count, thresholds, recent)
    entries, cp = proofs.prove(conn, wanted, verifier_key, known, latest=latest, nodes=tree_nodes)
    storage.link_entries(legs, entries)
    withdrawn = batch["status"] == "recalled" or code.state in WITHDRAWN
    verdict = Verdict(status="suspicious" if reasons else "genuine", reasons=reasons)
    case_key = keys.get(code.parent_id) if code.parent_id is not None else None
    case_uri = code_uri(host, *case_key) if case_key is not None else None
    body = Lookup(
        verdict=verdict,
        code=CodeInfo(
            uri=code.uri(host),
            kind=code.kind.value,
            state=code.state.value,
            serial=code.serial,
            case=case_uri,
        ),
        product=info,
        batch=batch_info,
        blend=blend,
        storage=legs,
        custody=custody,
        scans=Scans(
            count=count,
            first_scan_at=common.local_text(first) if first else None,
            distinct_devices=devices,
            recorded=recorded,
        ),
        checkpoint=cp,
        entries=entries,
    )
    return LookupResult(410 if withdrawn else 200, body)


def _member(ev: Any) -> tuple[str, str, str]:
    """The listed code's (GTIN, lot, serial), from a history row that carries them."""
    return ev["member_gtin"], ev["member_lot"], ev["member_serial"]


def _membership(
    ev: Any, member: tuple[str, str, str], list_nodes: Iterator[bytes | None]
) -> Membership:
    """The code's proof of membership in the event's list: a small list's nodes come with the
    row; a large one's are the next of ``list_nodes``, read in order of the history."""
    gtin, lot, serial = member
    size, index = ev["count"], ev["position"]
    ids = merkle_list.proof_nodes(index, size)
    if ev["small_nodes"] is not None:
        nodes = merkle_list.unpack(bytes(ev["small_nodes"]), size, ids)
    else:
        nodes = {}
        for n in ids:
            value = next(list_nodes)
            if value is None:
                raise MissingListNode(f"list node {n} of entry {ev['entry_id']} is missing")
            nodes[n] = value
    return Membership(
        item=code_item(gtin, lot, serial),
        index=index,
        size=size,
        root=bytes(ev["root"]).hex(),
        proof=[h.hex() for h in merkle_list.proof(index, size, nodes)],
    )


def _product_info(row: Any) -> ProductInfo:
    p = product_out(row)
    return ProductInfo(
        gtin=p.gtin,
        name_zh=p.name_zh,
        name_en=p.name_en,
        volume_ml=p.volume_ml,
        abv=p.abv,
        aroma=p.aroma.value,
        aroma_zh=p.aroma_zh,
        case_size=p.case_size,
    )


@dataclass(frozen=True, slots=True)
class LotContext:
    """What every code of a lot shares; immutable once the lot exists, so it is cached."""

    product: ProductInfo
    blend: BlendInfo
    wanted: tuple[proofs.Wanted, ...]
    base_legs: tuple[StorageLeg, ...]


_CONTEXTS = TTLCache[tuple[str, str, str], LotContext](ttl_s=60.0, max_items=10_000)


def _lot_context(conn: Connection, batch: Any) -> LotContext:
    """The lot's product, blend, base liquors and their cellar conditions (cached for a minute:
    a late reading sealed into a cellar's past hour shows up within that time)."""
    key = (engine_key(conn), batch["gtin"], batch["lot"])
    cached = _CONTEXTS.get(key)
    if cached is not None:
        return cached
    product = products.get(conn, batch["gtin"])
    assert product is not None
    blend = blending.get_blend(conn, batch["blend_no"])
    assert blend is not None
    inputs = blending.blend_inputs_of(conn, batch["blend_no"])
    wanted = (
        proofs.Wanted(product["entry_id"], "product"),
        proofs.Wanted(batch["entry_id"], "batch"),
        proofs.Wanted(blend["entry_id"], "blend"),
        *(proofs.Wanted(i["entry_id"], "base_liquor") for i in inputs),
    )
    info = BlendInfo(
        blend_no=blend["blend_no"],
        blender=blend["blender"],
        blended_on=blend["blended_on"].isoformat(),
        abv_permille=blend["abv_permille"],
        volume_ml=blend["volume_ml"],
        notes=blend["notes"],
        base_liquors=[
            BaseLiquorInfo(
                lot=i["lot"],
                vintage=i["vintage"],
                distillery=i["distillery"],
                grade=i["grade"],
                tank=i["tank"],
                abv_permille=i["abv_permille"],
                volume_ml=i["volume_ml"],
                share_bp=i["share_bp"],
            )
            for i in inputs
        ],
    )
    legs = storage.legs(conn, _base_intervals(info, inputs), [])
    context = LotContext(_product_info(product), info, wanted, tuple(legs))
    _CONTEXTS.put(key, context)
    return context


def _base_intervals(blend: BlendInfo, base_rows: list[Any]) -> list[tuple[str, datetime, datetime]]:
    end = datetime.fromisoformat(blend.blended_on).replace(tzinfo=common.SHANGHAI)
    return [
        (
            r["zone_id"],
            datetime.combine(r["stored_since"], datetime.min.time(), common.SHANGHAI),
            end,
        )
        for r in base_rows
        if r["zone_id"] and r["stored_since"]
    ]


_SECRETS = TTLCache[tuple[str, str], bytes](ttl_s=float("inf"), max_items=64)


def _cached_secret(
    conn: Connection, name: str, before_making: Callable[[], None] | None = None
) -> bytes:
    """The secret ``name``: cached once read back from the table (never the value this
    transaction has just made, which a rollback could still take away). ``before_making``
    runs when this transaction is the one that makes it."""
    key = (engine_key(conn), name)
    found = _SECRETS.get(key)
    if found is None:
        found = repo.stored_secret(conn, name)
        if found is None:
            if before_making is not None:
                before_making()
            return repo.secret(conn, name)
        _SECRETS.put(key, found)
    return found


def _device_salt(conn: Connection) -> bytes:
    """The salt of device hashes."""
    return _cached_secret(conn, "device-salt")


def _record_scan(conn: Connection, code: Code, scan: ScanInput) -> repo.RecordedScan:
    """Record the scan; return the code's scans counting it (totals and the most recent)."""
    salt = _device_salt(conn)
    device = hmac.new(salt, (scan.device_id or "").encode(), hashlib.sha256).digest()
    at = common.now()
    city = (
        geo.nearest_city(scan.lat, scan.lon)
        if scan.lat is not None and scan.lon is not None
        else None
    )
    return repo.record_scan(
        conn,
        {
            "code_id": code.id,
            "at": at,
            "device_hash": device,
            "province": city.province if city else None,
            "city": city.name if city else None,
            "lat_centi": round(city.lat * 100) if city else None,
            "lon_centi": round(city.lon * 100) if city else None,
            "case_id": code.case_id,
            "client_hash": _client_hash(conn, scan.client, at),
        },
    )


def client_hash(key: bytes, client: str | None) -> bytes | None:
    """A keyed hash of the client's network (:func:`client_network`), or None.

    One client's scans of a code on one day count as one device in one place
    (``repo.record_scan``): device ids and positions are the client's own word, and one
    machine could otherwise make a genuine bottle look cloned. ``key`` is the day's
    (:func:`_client_key`): nothing links a client's scans across days."""
    network = client_network(client)
    if network is None:
        return None
    return hmac.new(key, network.encode(), hashlib.sha256).digest()[:16]


def client_network(client: str | None) -> str | None:
    """The address for IPv4, its /64 for IPv6 (a phone's privacy addresses change within
    its /64); None where the address tells no clients apart: not an address, or this
    machine's own (a proxy in front that is not configured as trusted, so that every consumer
    comes from it; or local tools)."""
    if client is None:
        return None
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return None
    if address.is_loopback:
        return None
    prefix = 64 if address.version == 6 else 32
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def _client_hash(conn: Connection, client: str | None, at: datetime) -> bytes | None:
    if client_network(client) is None:
        return None  # no key is read for a client that gets no hash
    return client_hash(_client_key(conn, at.astimezone(UTC).date().isoformat()), client)


CLIENT_KEY = "client-key:"
"""Secrets named ``client-key:YYYY-MM-DD``: one day's key of client hashes."""


def _client_key(conn: Connection, day: str) -> bytes:
    """The key of the client hashes of ``day`` (UTC): made by the day's first scan, which
    deletes every earlier day's. Once a day is over, its hashes cannot be matched to
    addresses by anyone, even with the database and its secrets (an IPv4 address space is
    small enough to try whole against a key that is kept)."""
    name = f"{CLIENT_KEY}{day}"
    return _cached_secret(conn, name, lambda: repo.delete_secrets_before(conn, CLIENT_KEY, name))


def _not_a_bottle(what: str) -> str:
    """Why a link without a serial vouches for no bottle (the lot or product is ours)."""
    return (
        f"This link names {what}, not one bottle: every genuine bottle's code carries a serial "
        "of its own, so this page cannot vouch for a bottle. Scan the code on the bottle itself."
    )


def _recalled(batch: Any) -> str:
    return (
        f"Batch {batch['lot']} was recalled: {str(batch['recall_reason']).rstrip('.。 ')}. "
        "Do not drink it: take it back to the shop that sold it."
    )


def _suspicions(
    conn: Connection,
    code: Code,
    batch: Any,
    scans: int,
    thresholds: Thresholds,
    recent: list[Any] | None = None,
) -> list[str]:
    """``recent``: the code's most recent scans, oldest first, if the caller has them."""
    reasons: list[str] = []
    if batch["status"] == "recalled":
        reasons.append(_recalled(batch))
    if code.state is CodeState.GENERATED:
        reasons.append(
            "This code was printed but never activated on a bottling line; genuine bottles "
            "are activated when they are filled."
        )
    elif code.state is CodeState.DECOMMISSIONED:
        reasons.append(
            "This label was replaced and taken out of use; a bottle still showing it may have "
            "been refilled."
        )
    elif code.state is CodeState.VOIDED:
        reasons.append("This code was withdrawn and is on no genuine bottle.")
    if scans > 1:  # compliance's clone rules, with its thresholds (``clones``)
        if recent is None:
            recent = repo.scans_of(conn, code.id)
        reasons += clone_reasons(code.id, recent, thresholds)
    return reasons
