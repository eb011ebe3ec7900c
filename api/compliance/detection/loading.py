"""A generated channel as rows of the real tables the detection runs read.

The benchmark COPYs these rows into PostgreSQL; the test that holds the set-based run to the
pure detector inserts them into SQLite and PostgreSQL. Code ids: a case's is its number
times 16, its bottle k's follows it. Receipts' extra codes need real orders and shipments,
so generated "scanned in" diversions become openings at the foreign store (both are strong
signals, and the detector's rules treat them alike). As the write path does, a transfer's
event row carries its to and from parties (``party``, ``sender``), a bottle its case
(``packed_in``, kept when the case is opened), and each transfer and opening of a case adds
its ``trace_case_moves`` row.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from api.compliance.detection.model import MovementKind
from api.compliance.detection.synthetic import CaseStory, Channel
from ledger.canonical import canonical_json, format_ts

ZERO = b"\0" * 32
COLUMNS: dict[str, tuple[str, ...]] = {
    "parties": (
        "party_id",
        "kind",
        "code",
        "name",
        "region_id",
        "dealer_id",
        "admin_code",
        "created_at",
    ),
    "region_areas": ("admin_code", "region_id"),
    "dealer_regions": ("dealer_id", "region_id"),
    "trace_codes": (
        "id",
        "serial",
        "gtin",
        "lot",
        "kind",
        "batch_id",
        "state",
        "parent_id",
        "packed_in",
        "replacements",
        "updated_at",
    ),
    "trace_code_events": (
        "entry_id",
        "kind",
        "event",
        "at",
        "location",
        "party",
        "sender",
        "parent_id",
        "count",
        "root",
        "nodes",
    ),
    "trace_code_index": ("code_id", "entry_id", "position"),
    "trace_case_moves": ("case_id", "entry_id", "event", "gtin", "at", "party", "sender"),
    "ledger_entries": (
        "seq",
        "entry_id",
        "kind",
        "ts",
        "body_digest",
        "data",
        "leaf_hash",
        "chain_hash",
    ),
    "trace_scans": ("id", "code_id", "at", "device_hash", "lat_centi", "lon_centi", "case_id"),
}
"""Each table's loaded columns, in the order of the row tuples."""
Rows = dict[str, list[tuple[Any, ...]]]


def channel_rows(channel: Channel, now: datetime) -> Rows:
    """Parties (regions before the dealers and stores that point at them) and territory."""
    parties = []
    for kind in ("hq", "region", "dealer", "store", "warehouse"):
        for p in channel.parties.values():
            if p.kind == kind:
                dealer = p.dealer_id if kind in ("dealer", "store") else None
                name = p.name or p.party_id
                parties.append(
                    (p.party_id, p.kind, p.party_id, name, p.region_id, dealer, p.admin_code, now)
                )
    areas = list(channel.territory.areas.items())
    authorized = [
        (dealer, region)
        for dealer, regions in channel.territory.dealer_regions.items()
        for region in sorted(regions)
    ]
    return {"parties": parties, "region_areas": areas, "dealer_regions": authorized}


def case_code_id(story: CaseStory) -> int:
    return int(story.case[1:]) * 16


def story_rows(told: Iterable[CaseStory], now: datetime, *, every: int = 200_000) -> Iterator[Rows]:
    """The cases' codes, events, index, transfer entries and scans, in batches of about
    ``every`` scans."""
    batch = _empty()
    seq = pending = 0
    for story in told:
        case_id = case_code_id(story)
        bottles = {f"{story.case}-{k}": case_id + 1 + k for k in range(6)}
        opened = any(m.kind is MovementKind.OPENED for m in story.movements)
        batch["trace_codes"].append(
            (case_id, story.case, story.gtin, "L1", "case", "b", "received", None, None, 0, now)
        )
        for serial, bottle_id in bottles.items():
            parent = None if opened else case_id
            batch["trace_codes"].append(
                (
                    bottle_id,
                    serial,
                    story.gtin,
                    "L1",
                    "bottle",
                    "b",
                    "received",
                    parent,
                    case_id,
                    0,
                    now,
                )
            )
        packed = f"p{case_id}"
        batch["trace_code_events"].append(
            (packed, "trace.codes.packed", "packed", now, None, None, None, case_id, 6, ZERO, b"")
        )
        batch["trace_code_index"].extend(
            (bottle_id, packed, k) for k, bottle_id in enumerate(bottles.values())
        )
        for m in story.movements:
            at = datetime.fromtimestamp(m.at, UTC)
            if m.kind in (MovementKind.SHIPPED, MovementKind.RECEIVED):
                kind = f"transfer.{m.kind.value}"
                batch["trace_code_events"].append(
                    (
                        m.entry_id,
                        kind,
                        m.kind.value,
                        at,
                        None,
                        m.party,
                        m.sender,
                        None,
                        1,
                        ZERO,
                        b"",
                    )
                )
                batch["trace_code_index"].append((case_id, m.entry_id, 0))
                batch["trace_case_moves"].append(
                    (case_id, m.entry_id, m.kind.value, story.gtin, at, m.party, m.sender)
                )
                body = {
                    "id": m.entry_id,
                    "kind": kind,
                    "payload": {"from": m.sender, "to": m.party},
                    "seq": seq,
                    "ts": format_ts(at),
                }
                batch["ledger_entries"].append(
                    (seq, m.entry_id, kind, at, ZERO, canonical_json(body), ZERO, ZERO)
                )
                seq += 1
            else:  # opened, and scanned in loaded as opened (see the module's docstring)
                batch["trace_code_events"].append(
                    (
                        m.entry_id,
                        "trace.codes.unpacked",
                        "unpacked",
                        at,
                        m.party,
                        None,
                        None,
                        case_id,
                        6,
                        ZERO,
                        b"",
                    )
                )
                batch["trace_case_moves"].append(
                    (case_id, m.entry_id, "unpacked", story.gtin, at, m.party, None)
                )
        for b in story.bottles:
            for s in b.scans:
                pending += 1
                batch["trace_scans"].append(
                    (
                        s.scan_id,
                        bottles[b.code],
                        datetime.fromtimestamp(s.at, UTC),
                        s.device,
                        round((s.lat_e6 or 0) / 10_000),
                        round((s.lon_e6 or 0) / 10_000),
                        case_id,
                    )
                )
        if pending >= every:
            yield batch
            batch, pending = _empty(), 0
    yield batch


def _empty() -> Rows:
    return {
        t: []
        for t in (
            "trace_codes",
            "trace_code_events",
            "trace_code_index",
            "trace_case_moves",
            "ledger_entries",
            "trace_scans",
        )
    }
