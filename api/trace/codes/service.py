"""Codes (一物一码): generation, look-up, export. Custody changes live in ``custody``.

Reusable primitives for other domains (the channel ships and receives case codes):
``get_code(conn, uri_or_serial)``, ``get_codes``, ``contents(conn, case)`` and, in
``api.trace.codes.custody``, ``record_custody`` with the states of ``CodeState``.

A code's public form is a GS1 Digital Link URI, ``https://{resolver host}/01/{GTIN-14}/10/{lot}
/21/{serial}``. Serials are 16 characters of Crockford's base32 (digits and capitals without
I, L, O, U) drawn from 80 random bits: unguessable, inside GS1's character set for AI (21),
and never reused (a unique index over all serials ever issued).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from api.errors import Conflict, NotFound, Unprocessable
from api.trace import common
from api.trace.batches import repository as batches
from api.trace.batches.service import UnknownBatch
from api.trace.codes import repository as repo
from ledger.gs1 import GS1Error, format_digital_link, parse_digital_link

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SERIAL_LENGTH = 16
MAX_GENERATE = 2_000_000
MAX_GENERATE_PER_REQUEST = 100_000
"""Over HTTP: a request that generates more holds the write lock for several seconds (on SQLite
every other writer waits behind it) and outlives a client's timeout; ``jiuyuan codes generate``
makes batches up to ``MAX_GENERATE``, with a progress bar."""


class CodeKind(StrEnum):
    BOTTLE = "bottle"
    CASE = "case"


class CodeState(StrEnum):
    """Where a code is in its life. Other domains move codes with ``custody.record_custody``."""

    GENERATED = "generated"
    """Printed (or about to be), not yet on a bottle that left the line."""
    COMMISSIONED = "commissioned"
    """Activated on the bottling line."""
    PACKED = "packed"
    """A bottle inside a case, or a case holding bottles, still at the producer."""
    STORED = "stored"
    """Put away in a warehouse zone of the producer."""
    SHIPPED = "shipped"
    """Dispatched to a dealer or store, in transit."""
    RECEIVED = "received"
    """Received by a dealer or a store."""
    SOLD = "sold"
    """Sold to a consumer."""
    DECOMMISSIONED = "decommissioned"
    """Its label was replaced: the code is no longer on any bottle."""
    VOIDED = "voided"
    """Withdrawn (a recalled batch, a spoiled print run)."""


class UnknownCode(NotFound):
    code = "unknown_code"


class InvalidCode(Unprocessable):
    code = "invalid_code"


class CodeStateConflict(Conflict):
    code = "code_state"


@dataclass(frozen=True, slots=True)
class Code:
    id: int
    serial: str
    gtin: str
    lot: str
    kind: CodeKind
    state: CodeState
    parent_id: int | None
    location: str | None
    region: str | None
    holder_kind: str | None
    batch_id: str
    packed_in: int | None = None
    """The case a bottle was last packed in, kept when it is unpacked."""

    def uri(self, host: str) -> str:
        return code_uri(host, self.gtin, self.lot, self.serial)

    @property
    def case_id(self) -> int | None:
        """The case the code came in: itself for a case, its parent for a packed bottle, else
        the case it was last packed in (none for a bottle never packed)."""
        if self.kind is CodeKind.CASE:
            return self.id
        return self.parent_id if self.parent_id is not None else self.packed_in


def code_uri(host: str, gtin: str, lot: str, serial: str) -> str:
    return format_digital_link(host, [("01", gtin), ("10", lot), ("21", serial)])


def to_code(row: Any) -> Code:
    return Code(
        id=row["id"],
        serial=row["serial"],
        gtin=row["gtin"],
        lot=row["lot"],
        kind=CodeKind(row["kind"]),
        state=CodeState(row["state"]),
        parent_id=row["parent_id"],
        location=row["location"],
        region=row["region"],
        holder_kind=row["holder_kind"],
        batch_id=row["batch_id"],
        packed_in=row["packed_in"],
    )


def new_serial() -> str:
    value = int.from_bytes(secrets.token_bytes(10), "big")
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in range(SERIAL_LENGTH - 1, -1, -1))


@dataclass(frozen=True, slots=True)
class CodeRef:
    """A code as a client names it: a Digital Link URI (GTIN, lot and serial) or a serial."""

    serial: str
    gtin: str | None = None
    lot: str | None = None


def parse_ref(text: str) -> CodeRef:
    """Read a Digital Link URI or a bare serial; a 422 names what is wrong with a bad URI."""
    text = text.strip()
    if "://" not in text:
        if not text or len(text) > 20 or any(c not in CROCKFORD for c in text.upper()):
            raise InvalidCode(f"{text[:40]!r} is neither a Digital Link URI nor a serial")
        return CodeRef(text.upper())
    try:
        link = parse_digital_link(text)
    except GS1Error as exc:
        raise InvalidCode(f"not a valid GS1 Digital Link: {exc}") from None
    gtin, lot, serial = link.get("01"), link.get("10"), link.get("21")
    if gtin is None or serial is None:
        raise InvalidCode("a code's Digital Link names a GTIN (01) and a serial (21)")
    return CodeRef(serial, gtin, lot)


def get_code(conn: Connection, uri_or_serial: str) -> Code:
    """The code a URI or serial names; ``UnknownCode`` (404) when it is not one of ours."""
    ref = parse_ref(uri_or_serial)
    row = repo.by_serial(conn, ref.serial)
    if row is None or not _matches(row, ref):
        raise UnknownCode(f"{uri_or_serial[:120]} is not a code issued by this brand")
    return to_code(row)


def get_codes(conn: Connection, uris_or_serials: Sequence[str]) -> list[Code]:
    """Several codes, in the order given; unknown ones make one 404 that lists them."""
    refs = [parse_ref(t) for t in uris_or_serials]
    rows = repo.by_serials(conn, [r.serial for r in refs])
    missing = [
        t for t, r in zip(uris_or_serials, refs, strict=True) if not _matches(rows.get(r.serial), r)
    ]
    if missing:
        shown = ", ".join(m[:120] for m in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise UnknownCode(f"not codes of this brand: {shown}{more}")
    seen: set[str] = set()
    for r in refs:
        if r.serial in seen:
            raise InvalidCode(f"code {r.serial} is listed twice")
        seen.add(r.serial)
    return [to_code(rows[r.serial]) for r in refs]


def _matches(row: Any, ref: CodeRef) -> bool:
    if row is None:
        return False
    if ref.gtin is not None and row["gtin"] != ref.gtin:
        return False
    return ref.lot is None or row["lot"] == ref.lot


def contents(conn: Connection, case: Code) -> list[Code]:
    """The bottles packed in a case now."""
    return [to_code(r) for r in repo.children(conn, [case.id])]


def by_ids(conn: Connection, ids: Sequence[int]) -> dict[int, Code]:
    return {i: to_code(r) for i, r in repo.by_ids(conn, ids).items()}


# --- generation ---------------------------------------------------------------------------------


def generate(conn: Connection, lot: str, count: int, kind: CodeKind) -> dict[str, Any]:
    """Generate ``count`` new codes for a batch's printing; return the code batch."""
    batch = batches.get(conn, lot)
    if batch is None:
        raise UnknownBatch(f"no batch with lot {lot}")
    if batch["status"] != "active":
        raise Conflict(f"batch {lot} is recalled; no codes can be generated for it")
    if not 1 <= count <= MAX_GENERATE:
        raise Unprocessable(f"count must be between 1 and {MAX_GENERATE:,} per code batch")
    batch_id = common.random_id("cb")
    at = common.now()
    repo.insert_code_batch(
        conn,
        {
            "batch_id": batch_id,
            "lot": lot,
            "gtin": batch["gtin"],
            "kind": kind.value,
            "count": count,
            "created_at": at,
        },
    )
    base = {
        "gtin": batch["gtin"],
        "lot": lot,
        "kind": kind.value,
        "batch_id": batch_id,
        "state": CodeState.GENERATED.value,
        "replacements": 0,
        "updated_at": at,
    }
    serials: set[str] = set()
    while len(serials) < count:
        serials.add(new_serial())
    repo.insert_codes(conn, [{"serial": s, **base} for s in serials])
    return code_batch(conn, batch_id)


def code_batch(conn: Connection, batch_id: str) -> dict[str, Any]:
    row = repo.get_code_batch(conn, batch_id)
    if row is None:
        raise NotFound(f"no code batch {batch_id}", code="unknown_code_batch")
    return dict(row)


def list_code_batches(conn: Connection, lot: str | None) -> list[dict[str, Any]]:
    return [dict(r) for r in repo.list_code_batches(conn, lot)]


def export_lines(
    conn: Connection, batch_id: str, host: str, fmt: str
) -> tuple[int, Generator[str, None, None]]:
    """The printer file of a code batch: its size and a stream of lines.

    ``txt``: one Digital Link URI per line. ``csv``: a header, then uri,serial,gtin,lot,kind.
    """
    batch = code_batch(conn, batch_id)
    if fmt not in ("txt", "csv"):
        raise Unprocessable(f"format must be txt or csv, not {fmt!r}")
    prefix = code_uri(host, batch["gtin"], batch["lot"], "0")[:-1]
    tail = f",{batch['gtin']},{batch['lot']},{batch['kind']}\n"

    def lines() -> Generator[str, None, None]:
        if fmt == "csv":
            yield "uri,serial,gtin,lot,kind\n"
            for _, serial in repo.stream_serials(conn, batch_id):
                yield f"{prefix}{serial},{serial}{tail}"
        else:
            for _, serial in repo.stream_serials(conn, batch_id):
                yield f"{prefix}{serial}\n"

    return int(batch["count"]), lines()


# --- under-cap secret codes ----------------------------------------------------------------------


def cap_digest(cap_code: str) -> bytes:
    normal = cap_code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(b"jiuyuan-cap\x00" + normal.encode()).digest()


def new_cap_code() -> str:
    raw = new_serial()
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def issue_caps(conn: Connection, batch_id: str, host: str) -> Iterator[str]:
    """Create the under-cap secret of every bottle in a code batch, once; return CSV lines.

    Only the secrets' hashes are kept, so this can run once per code batch: the printer's file
    is the only copy of the secrets.
    """
    batch = code_batch(conn, batch_id)
    if batch["kind"] != CodeKind.BOTTLE.value:
        raise Unprocessable("under-cap codes are for bottle codes, not case codes")
    if not repo.mark_caps_issued(conn, batch_id, common.now()):
        raise Conflict(
            f"the under-cap codes of {batch_id} were issued already; only their hashes are kept, "
            "so they cannot be printed again",
            code="caps_issued",
        )
    prefix = code_uri(host, batch["gtin"], batch["lot"], "0")[:-1]
    pairs: list[tuple[int, bytes]] = []
    lines = ["uri,serial,cap_code\n"]
    for code_id, serial in list(repo.stream_serials(conn, batch_id)):
        cap = new_cap_code()
        pairs.append((code_id, cap_digest(cap)))
        lines.append(f"{prefix}{serial},{serial},{cap}\n")
    repo.set_caps(conn, pairs)
    return iter(lines)
