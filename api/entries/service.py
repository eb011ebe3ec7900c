"""The rules for appending entries and reading them back with proofs."""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from api.config import Settings
from api.entries.schemas import EntryIn, EntryOut, InclusionProofOut, PendingProof
from api.errors import AppError, NotFound, Unprocessable
from api.log import proofs
from api.log import repository as repo
from api.log.sequencer import Submission
from ledger.canonical import format_ts, parse_json
from ledger.errors import MalformedEntryError, VerificationError


class EntryTooLarge(AppError):
    status_code = 413
    code = "entry_too_large"


class ProofUnavailable(AppError):
    status_code = 422
    code = "proof_unavailable"


def parse_submissions(raw: bytes, settings: Settings) -> tuple[list[Submission], bool]:
    """Validate a request body (one entry or a list) into submissions; all or nothing.

    Returns the submissions and whether the body was a single object.
    """
    try:
        body = parse_json(raw)
    except MalformedEntryError as exc:
        raise Unprocessable(str(exc), code="malformed_json") from None
    single = isinstance(body, dict)
    items: list[Any] = [body] if single else body if isinstance(body, list) else []
    if not single and not isinstance(body, list):
        raise Unprocessable("the body must be an entry object or a list of entry objects")
    if not items:
        raise Unprocessable("the list of entries is empty")
    if len(items) > settings.max_entries_per_request:
        raise EntryTooLarge(
            f"{len(items)} entries in one request; the limit is "
            f"{settings.max_entries_per_request}, split the list"
        )
    subs: list[Submission] = []
    first: dict[str, tuple[int, Submission]] = {}  # each id's first entry in this request
    for index, item in enumerate(items):
        where = "" if single else f"entry {index}: "
        try:
            entry = EntryIn.model_validate(item)
        except ValidationError as exc:
            raise Unprocessable(where + _explain(exc)) from None
        try:
            sub = Submission.of(str(entry.id), entry.kind, entry.payload)
        except MalformedEntryError as exc:
            raise Unprocessable(where + str(exc)) from None
        if len(sub.prefix) > settings.max_entry_bytes:
            raise EntryTooLarge(
                f"{where}the entry is {len(sub.prefix)} bytes as canonical JSON; the limit is "
                f"{settings.max_entry_bytes} bytes. Keep bulk data off the log and put its "
                "hash or Merkle root in the entry"
            )
        earlier, same = first.setdefault(sub.entry_id, (index, sub))
        if same.prefix != sub.prefix:
            raise Unprocessable(
                f"{where}id {sub.entry_id} is also entry {earlier}'s in this request, with "
                "different contents; give each entry its own id"
            )
        subs.append(sub)
    return subs, single


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "entry"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field; an entry has only id, kind and payload"
        elif err["type"] == "string_pattern_mismatch":
            msg = "kind must be lower case letters, digits, '.', '_' or '-' (at most 64)"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def read_entry(conn: Connection, seq: int, with_proof: bool) -> EntryOut:
    row = repo.get_entry(conn, seq)
    if row is None:
        size = repo.log_size(conn)
        raise NotFound(f"no entry with seq {seq}; the log has {size} entries (0..{size - 1})")
    entry = json.loads(row.data)
    out = EntryOut(
        seq=row.seq,
        id=row.entry_id,
        kind=row.kind,
        ts=format_ts(row.ts),
        payload=entry["payload"],
        data=base64.b64encode(row.data).decode(),
        leaf_hash=row.leaf_hash.hex(),
        chain_hash=row.chain_hash.hex(),
    )
    if with_proof:
        out.inclusion = inclusion_against_latest(conn, seq)
    return out


def inclusion_against_latest(conn: Connection, seq: int) -> InclusionProofOut | PendingProof:
    """The proof of ``seq`` against the latest checkpoint that covers it."""
    cp = repo.checkpoint_covering(conn, seq)
    if cp is None:
        return PendingProof(
            message=f"entry {seq} is not yet covered by a checkpoint; one is published every "
            "few seconds while the log grows, ask again shortly"
        )
    return InclusionProofOut(
        checkpoint=cp.note,
        tree_size=cp.tree_size,
        root_hash=cp.root_hash.hex(),
        proof=[h.hex() for h in inclusion_proof(conn, seq, cp.tree_size)],
    )


def inclusion_proof(conn: Connection, seq: int, size: int) -> list[bytes]:
    _check_size(conn, size)
    if not 0 <= seq < size:
        raise ProofUnavailable(f"seq {seq} is not in a tree of size {size}; need 0 <= seq < size")
    return proofs.inclusion_proof(conn, seq, size)


def consistency_proof(conn: Connection, first: int, second: int) -> list[bytes]:
    _check_size(conn, second)
    if not 0 < first <= second:
        raise ProofUnavailable(
            f"no consistency proof from size {first} to {second}; need 0 < first <= second"
        )
    try:
        return proofs.consistency_proof(conn, first, second)
    except VerificationError as exc:
        raise ProofUnavailable(str(exc)) from None


def _check_size(conn: Connection, size: int) -> None:
    integrated = repo.integrated_size(conn)
    if size > integrated:
        raise ProofUnavailable(
            f"tree size {size} is beyond the integrated tree ({integrated} entries); "
            "ask for a published checkpoint's size (GET /v1/checkpoint)"
        )
