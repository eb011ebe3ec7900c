"""Custody of case codes as a projection of the ledger.

Three entry kinds move custody; each carries the Merkle root of its code list
(``codes_root``), and ``trace_code_index`` holds the list itself:

- ``stock.putaway`` — HQ puts fresh cases into a warehouse: ``held`` by ``holder`` in
  ``warehouse``.
- ``transfer.shipped`` — ``in_transit`` from ``from`` to ``to``.
- ``transfer.received`` — ``held`` by ``to`` in ``to_warehouse`` (None: at a store). Codes
  that were shipped but not scanned on arrival stay ``in_transit``: that is the discrepancy.

:func:`apply` is the one rule used both live (inside the transaction that stages the entry)
and by :func:`rebuild`, which replays the ledger alone — checking each entry's code list
against its root — so the live table can be compared with what the ledger says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, select

from api.models import LedgerEntry
from api.shipments.repository import CustodyRow
from api.trace import merkle_list
from api.trace.codes import repository as code_repo
from api.trace.codes.custody import code_key
from api.trace.codes.service import Code, by_ids
from ledger.errors import VerificationError

KINDS = ("stock.putaway", "transfer.shipped", "transfer.received")


def apply(
    state: dict[str, CustodyRow],
    kind: str,
    payload: Mapping[str, Any],
    entry_id: str,
    codes: Iterable[Code],
) -> list[CustodyRow]:
    """Apply one custody entry to ``state`` (serial → row); return the rows it changed."""
    changed = []
    for code in codes:
        if kind == "stock.putaway":
            row = CustodyRow(
                code.serial,
                code.id,
                code.gtin,
                "held",
                payload["holder"],
                payload["warehouse"],
                None,
                entry_id,
            )
        elif kind == "transfer.shipped":
            row = CustodyRow(
                code.serial,
                code.id,
                code.gtin,
                "in_transit",
                payload["from"],
                None,
                payload["to"],
                entry_id,
            )
        elif kind == "transfer.received":
            row = CustodyRow(
                code.serial,
                code.id,
                code.gtin,
                "held",
                payload["to"],
                payload.get("to_warehouse"),
                None,
                entry_id,
            )
        else:
            raise ValueError(f"{kind} does not move custody")
        state[code.serial] = row
        changed.append(row)
    return changed


def rebuild(conn: Connection) -> dict[str, CustodyRow]:
    """Custody of every code from the ledger's entries alone, in seq order.

    Each entry's code list comes from the index and must hash to the entry's ``codes_root``,
    so a tampered index fails here (``VerificationError``) instead of changing the answer.
    """
    entries = LedgerEntry.__table__
    state: dict[str, CustodyRow] = {}
    rows = conn.execute(
        select(entries.c.seq, entries.c.entry_id, entries.c.kind, entries.c.data)
        .where(entries.c.kind.in_(KINDS))
        .order_by(entries.c.seq)
    )
    for seq, entry_id, kind, data in rows:
        payload = json.loads(bytes(data))["payload"]
        codes = listed_codes(conn, entry_id, payload, seq)
        apply(state, kind, payload, entry_id, codes)
    return state


def listed_codes(
    conn: Connection, entry_id: str, payload: Mapping[str, Any], seq: int
) -> list[Code]:
    ids = code_repo.event_code_ids(conn, entry_id)
    found = by_ids(conn, ids)
    codes = [found[i] for i in ids if i in found]
    root = merkle_list.build([merkle_list.item_leaf(code_key(c)) for c in codes]).root
    if len(codes) != payload.get("codes_count") or root.hex() != payload.get("codes_root"):
        raise VerificationError(
            f"seq {seq}: the indexed code list of entry {entry_id} does not match its codes_root"
        )
    return codes


def differences(live: Mapping[str, CustodyRow], rebuilt: Mapping[str, CustodyRow]) -> list[str]:
    """Human-readable differences between the live table and the rebuilt projection."""
    out = []
    for serial in sorted(set(live) | set(rebuilt)):
        a, b = live.get(serial), rebuilt.get(serial)
        if a != b:
            out.append(f"{serial}: live {a} ≠ ledger {b}")
    return out


def codes_root_hex(codes: Sequence[Code]) -> str:
    return merkle_list.build([merkle_list.item_leaf(code_key(c)) for c in codes]).root.hex()
