"""Custody of codes: commissioning, packing (aggregation), unpacking, re-packing, label
replacement, and the generic ``record_custody`` other domains use to ship and receive.

Every change is one or more ledger entries, each standing for a list of at most
``merkle_list.MAX_ITEMS`` codes: the entry carries the list's Merkle root and count, and
``trace_code_index`` the list itself, so any one code's membership can be proven. A list item
is the code's Digital Link path without scheme and host, e.g.
``/01/06901234567892/10/L20261125A/21/7K3M9Q2XW8D4HP6R`` (see docs/traceability.md).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from api.errors import Conflict, Forbidden, Unprocessable
from api.trace import common, merkle_list
from api.trace.batches import repository as batches
from api.trace.codes import repository as repo
from api.trace.codes.service import (
    Code,
    CodeKind,
    CodeState,
    CodeStateConflict,
    cap_digest,
    contents,
    get_code,
)
from api.trace.products import repository as products

S = CodeState
MAX_REPLACEMENTS_PER_CASE = 3

# event → (states a code may be in, state it moves to; None keeps the state)
TRANSITIONS: dict[str, tuple[frozenset[CodeState], CodeState | None]] = {
    "commissioned": (frozenset({S.GENERATED}), S.COMMISSIONED),
    "stored": (frozenset({S.COMMISSIONED, S.PACKED, S.STORED}), S.STORED),
    "shipped": (frozenset({S.COMMISSIONED, S.PACKED, S.STORED, S.RECEIVED}), S.SHIPPED),
    "received": (frozenset({S.SHIPPED}), S.RECEIVED),
    "sold": (frozenset({S.RECEIVED}), S.SOLD),
    "voided": (frozenset({S.GENERATED, S.COMMISSIONED, S.PACKED, S.STORED}), S.VOIDED),
}
ACTIVE = frozenset({S.COMMISSIONED, S.PACKED, S.STORED, S.SHIPPED, S.RECEIVED, S.SOLD})
TRANSFER_KINDS = ("transfer.shipped", "transfer.received")
"""The entries that move cases between parties (the shipments'): their cases' moves are kept
in ``trace_case_moves`` as they are written, with openings (:func:`case_moves`)."""


def code_key(code: Code) -> str:
    """The Merkle list item of a code: its Digital Link path without scheme and host."""
    return code_item(code.gtin, code.lot, code.serial)


def code_item(gtin: str, lot: str, serial: str) -> str:
    """``code_key`` from the code's GS1 key alone."""
    return f"/01/{gtin}/10/{lot}/21/{serial}"


def record_custody(
    conn: Connection,
    event: str,
    codes: Sequence[Code],
    *,
    kind: str | None = None,
    payload: Mapping[str, Any] | None = None,
    at: datetime | None = None,
    location: str | None = None,
    region: str | None = None,
    party: str | None = None,
    sender: str | None = None,
    holder_kind: str | None = None,
) -> list[str]:
    """Move ``codes`` (and the bottles inside any case among them) through ``event``.

    Checks every code's state against ``TRANSITIONS`` first (a 409 names the first that does
    not fit, and nothing is written), then stages one ledger entry of ``kind`` (default
    ``trace.codes.<event>``) per list of codes with ``payload`` plus ``codes_root`` and
    ``codes_count``, indexes the codes and updates their state and whereabouts.
    ``region`` is what the public lookup shows; ``location`` and ``party`` stay internal
    (a transfer's ``party`` is its receiver, ``sender`` the party it came from).
    Returns the staged entry ids.
    """
    if event not in TRANSITIONS:
        raise Unprocessable(f"unknown custody event {event!r}; one of {', '.join(TRANSITIONS)}")
    allowed, to_state = TRANSITIONS[event]
    if not codes:
        raise Unprocessable("no codes given")
    inner = [c for c in contents_of(conn, codes)]
    for code in (*codes, *inner):
        if code.state not in allowed:
            raise CodeStateConflict(
                f"code {code.serial} is {code.state.value}; {event} needs one of "
                f"{', '.join(sorted(s.value for s in allowed))}"
            )
    values: dict[str, Any] = {"updated_at": common.now()}
    if to_state is not None:
        values["state"] = to_state.value
    for name, value in (("location", location), ("region", region), ("holder_kind", holder_kind)):
        if value is not None:
            values[name] = value
    ids = stage_code_list(
        conn,
        kind or f"trace.codes.{event}",
        event,
        codes,
        dict(payload or {}),
        at=at,
        location=location,
        region=region,
        party=party,
        sender=sender,
    )
    repo.update_codes(conn, [c.id for c in (*codes, *inner)], values)
    return ids


def contents_of(conn: Connection, codes: Sequence[Code]) -> list[Code]:
    from api.trace.codes.service import to_code

    cases = [c.id for c in codes if c.kind is CodeKind.CASE]
    return [to_code(r) for r in repo.children(conn, cases)] if cases else []


def stage_code_list(
    conn: Connection,
    kind: str,
    event: str,
    codes: Sequence[Code],
    payload: dict[str, Any],
    *,
    at: datetime | None = None,
    location: str | None = None,
    region: str | None = None,
    party: str | None = None,
    sender: str | None = None,
    parent: Code | None = None,
) -> list[str]:
    """Stage the ledger entries for a list of codes and index them; return the entry ids."""
    at = common.utc(at) if at is not None else common.now()  # UTC in storage, always
    chunks = [
        codes[i : i + merkle_list.MAX_ITEMS] for i in range(0, len(codes), merkle_list.MAX_ITEMS)
    ]
    entry_ids = []
    for part, chunk in enumerate(chunks, 1):
        tree = merkle_list.build([merkle_list.item_leaf(code_key(c)) for c in chunk])
        body = {**payload, "codes_root": tree.root.hex(), "codes_count": tree.size}
        body.setdefault("at", common.ts_text(at))
        if region is not None:
            body.setdefault("region", region)
        if len(chunks) > 1:
            body["part"], body["parts"] = part, len(chunks)
        entry_id = common.stage(conn, kind, body)
        lots = {c.lot for c in chunk}
        repo.insert_event(
            conn,
            {
                "entry_id": entry_id,
                "kind": kind,
                "event": event,
                "at": at,
                "lot": lots.pop() if len(lots) == 1 else None,
                "location": location,
                "region": region,
                "party": party,
                "sender": sender,
                "parent_id": parent.id if parent else None,
                "count": tree.size,
                "root": tree.root,
                "nodes": tree.nodes,
            },
            [c.id for c in chunk],
        )
        moves = case_moves(kind, event, chunk, entry_id, at, party, sender, location, parent)
        if moves:
            repo.insert_case_moves(conn, moves)
        entry_ids.append(entry_id)
    return entry_ids


def case_moves(
    kind: str,
    event: str,
    codes: Sequence[Code],
    entry_id: str,
    at: datetime,
    party: str | None,
    sender: str | None,
    location: str | None,
    parent: Code | None,
) -> list[dict[str, Any]]:
    """The rows of ``trace_case_moves`` an entry adds: each case a transfer lists, shipped
    to or received by ``party``; a case opened where it was (its ``location``)."""

    def row(case: Code, where: str, source: str | None) -> dict[str, Any]:
        return {
            "case_id": case.id,
            "entry_id": entry_id,
            "event": event,
            "gtin": case.gtin,
            "at": at,
            "party": where,
            "sender": source,
        }

    if kind in TRANSFER_KINDS and party is not None:
        return [row(c, party, sender) for c in codes if c.kind is CodeKind.CASE]
    if event == "unpacked" and parent is not None and location:
        return [row(parent, location, None)]
    return []


def commission(
    conn: Connection,
    lot: str,
    codes: Sequence[Code],
    *,
    location: str,
    region: str | None = None,
    at: datetime | None = None,
) -> list[str]:
    """Activate codes for a batch on the bottling line."""
    batch = batches.get(conn, lot)
    if batch is None:
        from api.trace.batches.service import UnknownBatch

        raise UnknownBatch(f"no batch with lot {lot}")
    if batch["status"] != "active":
        raise Conflict(f"batch {lot} is recalled; its codes cannot be commissioned")
    strays = [c.serial for c in codes if c.lot != lot]
    if strays:
        raise Unprocessable(f"code {strays[0]} belongs to another lot, not {lot}")
    bottled_on = batch["bottled_on"]
    if at is not None and at.astimezone(common.SHANGHAI).date() < bottled_on:
        raise Unprocessable(
            f"at {at.isoformat()} is before lot {lot} was bottled ({bottled_on}, Asia/Shanghai): "
            "codes are commissioned on the bottling line as the bottles are filled",
            code="before_bottling",
        )
    payload = {"lot": lot, "gtin": batch["gtin"], "line": batch["line"]}
    return record_custody(
        conn,
        "commissioned",
        codes,
        payload=payload,
        at=at,
        location=location,
        region=region,
        holder_kind="producer",
    )


def pack(
    conn: Connection,
    case: Code,
    bottles: Sequence[Code],
    *,
    location: str | None = None,
    at: datetime | None = None,
) -> list[str]:
    """Aggregate bottles into an empty case (commissioning the case code if it is new)."""
    if case.kind is not CodeKind.CASE:
        raise Unprocessable(f"{case.serial} is a bottle code; pack into a case code")
    product = products.get(conn, case.gtin)
    assert product is not None
    if not bottles:
        raise Unprocessable("a case needs at least one bottle")
    if len(bottles) > product["case_size"]:
        raise Unprocessable(f"{len(bottles)} bottles do not fit a case of {product['case_size']}")
    for bottle in bottles:
        if bottle.kind is not CodeKind.BOTTLE:
            raise Unprocessable(f"{bottle.serial} is a case code; only bottles go into a case")
        if bottle.gtin != case.gtin:
            raise Unprocessable(
                f"bottle {bottle.serial} is GTIN {bottle.gtin}, the case is GTIN {case.gtin}"
            )
        if bottle.parent_id is not None:
            raise CodeStateConflict(f"bottle {bottle.serial} is already in a case; unpack it first")
        if bottle.state not in (S.COMMISSIONED, S.STORED, S.RECEIVED):
            raise CodeStateConflict(
                f"bottle {bottle.serial} is {bottle.state.value}; it cannot be packed"
            )
    entries: list[str] = []
    if case.state is S.GENERATED:
        entries += commission(
            conn, case.lot, [case], location=location or "packing", region=bottles[0].region, at=at
        )
        case = get_code(conn, case.serial)
    elif case.state not in (S.COMMISSIONED, S.STORED, S.RECEIVED, S.PACKED):
        raise CodeStateConflict(f"case {case.serial} is {case.state.value}; it cannot be packed")
    inside = contents(conn, case)
    if inside:
        raise CodeStateConflict(f"case {case.serial} already holds {len(inside)} bottles")
    entries += stage_code_list(
        conn,
        "trace.codes.packed",
        "packed",
        bottles,
        {"case": code_key(case)},
        at=at,
        location=location or case.location,
        region=case.region,
        parent=case,
    )
    now = common.now()
    for state in {b.state for b in bottles}:
        ids = [b.id for b in bottles if b.state is state]
        new_state = S.PACKED if state is S.COMMISSIONED else state
        repo.update_codes(
            conn,
            ids,
            {
                "parent_id": case.id,
                "packed_in": case.id,
                "state": new_state.value,
                "updated_at": now,
            },
        )
    case_state = S.PACKED if case.state is S.COMMISSIONED else case.state
    repo.update_codes(conn, [case.id], {"state": case_state.value, "updated_at": now})
    return entries


def unpack(
    conn: Connection,
    case: Code,
    bottles: Sequence[Code] | None = None,
    *,
    location: str | None = None,
    at: datetime | None = None,
) -> list[str]:
    """Take bottles (default: all) out of a case; they keep the case's custody."""
    inside = {c.id: c for c in contents(conn, case)}
    chosen = list(bottles) if bottles is not None else list(inside.values())
    if not chosen:
        raise CodeStateConflict(f"case {case.serial} is empty")
    strays = [b.serial for b in chosen if b.id not in inside]
    if strays:
        raise CodeStateConflict(f"bottle {strays[0]} is not in case {case.serial}")
    entries = stage_code_list(
        conn,
        "trace.codes.unpacked",
        "unpacked",
        chosen,
        {"case": code_key(case)},
        at=at,
        location=location or case.location,
        region=case.region,
        parent=case,
    )
    now = common.now()
    state = S.COMMISSIONED if case.state is S.PACKED else case.state
    repo.update_codes(
        conn, [b.id for b in chosen], {"parent_id": None, "state": state.value, "updated_at": now}
    )
    if case.state is S.PACKED and len(chosen) == len(inside):
        repo.update_codes(conn, [case.id], {"state": S.COMMISSIONED.value, "updated_at": now})
    return entries


def replace(conn: Connection, old: Code, new: Code, reason: str) -> list[str]:
    """Replace a damaged label: ``old`` is decommissioned and ``new`` takes its place."""
    if old.state not in ACTIVE:
        raise CodeStateConflict(
            f"code {old.serial} is {old.state.value}; only an active code is replaced"
        )
    if new.state is not S.GENERATED:
        raise CodeStateConflict(f"replacement {new.serial} is {new.state.value}; it must be unused")
    if (new.gtin, new.lot, new.kind) != (old.gtin, old.lot, old.kind):
        raise Unprocessable(
            "the replacement label must be of the same product, lot and kind as the old one"
        )
    case_id = old.parent_id if old.kind is CodeKind.BOTTLE else old.id
    counted = repo.by_ids(conn, [case_id]).get(case_id) if case_id is not None else None
    if counted is not None and counted["replacements"] >= MAX_REPLACEMENTS_PER_CASE:
        raise Conflict(
            f"case {counted['serial']} has had {counted['replacements']} labels replaced, the "
            f"most allowed ({MAX_REPLACEMENTS_PER_CASE}); send it back for inspection",
            code="replacement_limit",
        )
    rows = repo.by_ids(conn, [old.id])
    entries = stage_code_list(
        conn,
        "trace.codes.replaced",
        "replaced",
        [old, new],
        {"old": code_key(old), "new": code_key(new), "reason": reason},
        location=old.location,
        region=old.region,
    )
    now = common.now()
    old_row = rows[old.id]
    repo.update_codes(
        conn,
        [new.id],
        {
            "state": old.state.value,
            "parent_id": old.parent_id,
            "location": old.location,
            "region": old.region,
            "holder_kind": old.holder_kind,
            "cap_hash": old_row["cap_hash"],
            "replacements": old_row["replacements"] + (1 if old.kind is CodeKind.CASE else 0),
            "updated_at": now,
        },
    )
    repo.update_codes(
        conn,
        [old.id],
        {
            "state": S.DECOMMISSIONED.value,
            "parent_id": None,
            "replaced_by": new.id,
            "cap_hash": None,
            "updated_at": now,
        },
    )
    if old.kind is CodeKind.CASE:
        for child in contents(conn, old):
            repo.update_codes(conn, [child.id], {"parent_id": new.id})
    elif counted is not None:
        repo.update_codes(conn, [counted["id"]], {"replacements": counted["replacements"] + 1})
    return entries


def redeem_cap(conn: Connection, code: Code, cap_code: str) -> list[str]:
    """Redeem a bottle's under-cap code, once, and only after a store has received it."""
    row = repo.by_ids(conn, [code.id])[code.id]
    stored = row["cap_hash"]
    if stored is None or not hmac.compare_digest(bytes(stored), cap_digest(cap_code)):
        raise Forbidden("the under-cap code does not match this bottle", code="cap_mismatch")
    if row["cap_redeemed_at"] is not None:
        raise Conflict(
            "this bottle's under-cap code was redeemed on "
            + common.local_text(row["cap_redeemed_at"]),
            code="cap_redeemed",
        )
    if not (code.state in (S.RECEIVED, S.SOLD) and code.holder_kind == "store"):
        raise CodeStateConflict(
            "the under-cap code can be redeemed only after a store has received the bottle "
            f"(the bottle is {code.state.value})"
        )
    now = common.now()
    if not repo.redeem_cap(conn, code.id, now):
        raise Conflict("this bottle's under-cap code was just redeemed", code="cap_redeemed")
    return stage_code_list(
        conn,
        "trace.cap.redeemed",
        "redeemed",
        [code],
        {"code": code_key(code)},
        at=now,
        region=code.region,
    )
