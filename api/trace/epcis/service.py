"""EPCIS 2.0 JSON-LD export of a code's or a lot's events, in GS1 Core Business Vocabulary.

- blending: a TransformationEvent, base-liquor lots (litres) in, the blend out;
- bottling: a TransformationEvent, the blend in, the lot's bottles (a class) out;
- commissioning: ObjectEvent ADD, ``commissioning`` / ``active``;
- packing / unpacking: AggregationEvent ADD / DELETE, parent the case's Digital Link;
- storing, shipping, receiving, selling: ObjectEvent OBSERVE with ``storing`` / ``shipping`` /
  ``receiving`` / ``retail_selling``; voiding and label replacement: ``decommissioning``;
- storage conditions: one ObjectEvent ``sensor_reporting`` per stay in a zone, its
  temperature and humidity over the stay as a ``sensorElementList`` on the zone's location.

Identifiers are GS1 Digital Link URIs; locations, lots without a GTIN and blends are URIs under
the resolver host. Each event carries the ledger entry that records it (``jy:ledgerEntry``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection

from api.errors import AppError, NotFound
from api.trace import common
from api.trace.batches import repository as batches
from api.trace.blending import repository as blending
from api.trace.codes import repository as codes_repo
from api.trace.codes.history import code_history
from api.trace.codes.service import code_uri, get_code, to_code
from api.trace.storage import service as storage

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
MAX_EVENTS = 20_000
_NS = uuid.UUID("6a697579-7561-6e00-0000-0000000e9c15")

# event → (type, action, bizStep, disposition)
_CUSTODY = {
    "commissioned": ("ObjectEvent", "ADD", "commissioning", "active"),
    "stored": ("ObjectEvent", "OBSERVE", "storing", "in_progress"),
    "shipped": ("ObjectEvent", "OBSERVE", "shipping", "in_transit"),
    "received": ("ObjectEvent", "OBSERVE", "receiving", "in_progress"),
    "sold": ("ObjectEvent", "OBSERVE", "retail_selling", "retail_sold"),
    "voided": ("ObjectEvent", "DELETE", "decommissioning", "inactive"),
    "packed": ("AggregationEvent", "ADD", "packing", "in_progress"),
    "unpacked": ("AggregationEvent", "DELETE", "unpacking", "in_progress"),
}


class TooManyEvents(AppError):
    status_code = 413
    code = "too_many_events"


def _time(at: datetime) -> dict[str, str]:
    local = common.utc(at).astimezone(common.SHANGHAI)
    return {
        "eventTime": local.isoformat(timespec="milliseconds"),
        "eventTimeZoneOffset": "+08:00",
    }


def _location(host: str, name: str) -> dict[str, str]:
    return {"id": f"https://{host}/location/{quote(name, safe='')}"}


def _event_id(*parts: str) -> str:
    return f"urn:uuid:{uuid.uuid5(_NS, '/'.join(parts))}"


def export_code(conn: Connection, uri_or_serial: str, host: str) -> dict[str, Any]:
    code = get_code(conn, uri_or_serial)
    history = code_history(conn, code.id)
    uris = {code.id: code.uri(host)}
    events = _lot_events(conn, code.lot, host)
    parents = [ev["parent_id"] for ev in history if ev["parent_id"] is not None]
    rows = codes_repo.by_ids(conn, [ev["code_id"] for ev in history] + parents)
    for code_id, row in rows.items():
        uris[code_id] = code_uri(host, row["gtin"], row["lot"], row["serial"])
    path: list[tuple[str | None, datetime]] = []
    for ev in history:
        listed = [uris[ev["code_id"]]]
        if ev["event"] == "replaced":
            ids = codes_repo.event_code_ids(conn, ev["entry_id"])
            pair = codes_repo.by_ids(conn, ids)
            listed = [to_code(pair[i]).uri(host) for i in ids]
        events += _code_event(ev, listed, uris.get(ev["parent_id"]), host)
        path.append((ev["location"], common.utc(ev["at"])))
    events += _storage_events(conn, [], path, host)
    return document(events, host)


def export_lot(conn: Connection, lot: str, host: str) -> dict[str, Any]:
    batch = batches.get(conn, lot)
    if batch is None:
        raise NotFound(f"no batch with lot {lot}", code="unknown_batch")
    events = _lot_events(conn, lot, host)
    rows = codes_repo.events_for_lot(conn, lot)
    if len(rows) > MAX_EVENTS:
        raise TooManyEvents(f"lot {lot} has {len(rows):,} events; export single codes instead")
    for ev in rows:
        ids = codes_repo.event_code_ids(conn, ev["entry_id"])
        codes = codes_repo.by_ids(conn, [*ids, *([ev["parent_id"]] if ev["parent_id"] else [])])
        uri = {i: to_code(r).uri(host) for i, r in codes.items()}
        events += _code_event(ev, [uri[i] for i in ids], uri.get(ev["parent_id"]), host)
    return document(events, host)


def document(events: list[dict[str, Any]], host: str) -> dict[str, Any]:
    return {
        "@context": [CONTEXT, {"jy": f"https://{host}/ns/epcis/"}],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": common.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epcisBody": {"eventList": events},
    }


def _lot_events(conn: Connection, lot: str, host: str) -> list[dict[str, Any]]:
    """Blending and bottling: the two transformations behind every bottle of the lot."""
    batch = batches.get(conn, lot)
    assert batch is not None
    blend = blending.get_blend(conn, batch["blend_no"])
    assert blend is not None
    inputs = blending.blend_inputs_of(conn, blend["blend_no"])
    blend_class = f"https://{host}/blend/{quote(blend['blend_no'], safe='')}"
    blended_at = datetime.combine(blend["blended_on"], time(), common.SHANGHAI)
    bottled_at = datetime.combine(batch["bottled_on"], time(), common.SHANGHAI)
    lot_class = f"https://{host}/01/{batch['gtin']}/10/{quote(lot, safe='')}"
    return [
        {
            "type": "TransformationEvent",
            "eventID": _event_id("blend", blend["blend_no"]),
            **_time(blended_at),
            "inputQuantityList": [
                {
                    "epcClass": f"https://{host}/base-liquor/{quote(i['lot'], safe='')}",
                    "quantity": i["volume_ml"] / 1000,
                    "uom": "LTR",
                }
                for i in inputs
            ],
            "outputQuantityList": [
                {"epcClass": blend_class, "quantity": blend["volume_ml"] / 1000, "uom": "LTR"}
            ],
            "transformationID": blend_class,
            "bizStep": "creating_class_instance",
            "disposition": "active",
            "readPoint": _location(host, "blending"),
            "jy:blender": blend["blender"],
            "jy:ledgerEntry": blend["entry_id"],
        },
        {
            "type": "TransformationEvent",
            "eventID": _event_id("bottling", lot),
            **_time(bottled_at),
            "inputQuantityList": [
                {"epcClass": blend_class, "quantity": blend["volume_ml"] / 1000, "uom": "LTR"}
            ],
            "outputQuantityList": [{"epcClass": lot_class, "quantity": batch["planned_qty"]}],
            "bizStep": "creating_class_instance",
            "disposition": "active",
            "readPoint": _location(host, batch["line"]),
            "jy:ledgerEntry": batch["entry_id"],
        },
    ]


def _code_event(ev: Any, listed: list[str], parent: str | None, host: str) -> list[dict[str, Any]]:
    base = {"eventID": _event_id(ev["entry_id"], *listed[:1]), **_time(ev["at"])}
    extra: dict[str, Any] = {"jy:ledgerEntry": ev["entry_id"]}
    if ev["location"]:
        extra["readPoint"] = _location(host, ev["location"])
        extra["bizLocation"] = _location(host, ev["location"])
    if ev["event"] == "replaced":
        # The entry lists the old code, then the new one.
        old, new = listed[0], listed[-1]
        return [
            {
                **base,
                "type": "ObjectEvent",
                "action": "DELETE",
                "epcList": [old],
                "bizStep": "decommissioning",
                "disposition": "inactive",
                **extra,
            },
            {
                **base,
                "eventID": _event_id(ev["entry_id"], "new"),
                "type": "ObjectEvent",
                "action": "ADD",
                "epcList": [new],
                "bizStep": "commissioning",
                "disposition": "active",
                **extra,
            },
        ]
    if ev["event"] not in _CUSTODY:
        return []
    kind, action, step, disposition = _CUSTODY[ev["event"]]
    body: dict[str, Any] = {**base, "type": kind, "action": action}
    if kind == "AggregationEvent":
        if parent is None:
            return []
        body["parentID"] = parent
        body["childEPCs"] = listed
    else:
        body["epcList"] = listed
    return [{**body, "bizStep": step, "disposition": disposition, **extra}]


def _storage_events(
    conn: Connection,
    intervals: list[tuple[str, datetime, datetime]],
    path: list[tuple[str | None, datetime]],
    host: str,
) -> list[dict[str, Any]]:
    events = []
    for leg in storage.legs(conn, intervals, path):
        if not leg.readings or leg.temperature_c is None or leg.humidity_rh is None:
            continue
        t, h = leg.temperature_c, leg.humidity_rh
        metadata = {"startTime": leg.since}
        if leg.until:
            metadata["endTime"] = leg.until
        events.append(
            {
                "type": "ObjectEvent",
                "eventID": _event_id("storage", leg.zone, leg.since),
                **_time(datetime.fromisoformat(leg.until or leg.since)),
                "action": "OBSERVE",
                "epcList": [],
                "bizStep": "sensor_reporting",
                "readPoint": _location(host, leg.zone),
                "sensorElementList": [
                    {
                        "sensorMetadata": metadata,
                        "sensorReport": [
                            {
                                "type": "Temperature",
                                "minValue": float(t["min"]),
                                "maxValue": float(t["max"]),
                                "meanValue": float(t["mean"]),
                                "uom": "CEL",
                            },
                            {
                                "type": "RelativeHumidity",
                                "minValue": float(h["min"]),
                                "maxValue": float(h["max"]),
                                "meanValue": float(h["mean"]),
                                "uom": "P1",
                            },
                        ],
                    }
                ],
                "jy:readings": leg.readings,
                "jy:excursions": len(leg.excursions),
            }
        )
    return events
