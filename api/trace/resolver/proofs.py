"""Ledger entries with inclusion proofs, all against one checkpoint, in few queries.

What a lookup shows changes only when a checkpoint is published, so the parts that are fixed
once written are cached in process memory: sequenced entries (by id), inclusion proofs (by the
checkpoint's root hash and the entry's seq: a root names one tree, so the proof cannot go
stale) and the confirmed anchors (a snapshot of a few seconds). The latest checkpoint itself
is read on every call, so every answer leads to the newest one.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from api.db import engine_key
from api.log import repository as log_repo
from api.log.proofs import MissingTreeNode
from api.trace.resolver import anchors
from api.trace.resolver import repository as repo
from api.trace.resolver.cache import TTLCache
from api.trace.resolver.schemas import CheckpointOut, Membership, ProvenEntry
from ledger.canonical import format_ts
from ledger.tree import NodeId, inclusion_node_ids, inclusion_proof_from_nodes

FOREVER = float("inf")
_ENTRIES = TTLCache[tuple[str, str], repo.StoredEntry](ttl_s=FOREVER, max_items=200_000)
_PROOFS = TTLCache[tuple[bytes, int], tuple[str, ...]](ttl_s=FOREVER, max_items=200_000)


@dataclass(frozen=True, slots=True)
class _Shown:
    """A sequenced entry's fields as an answer shows them: fixed once it is sequenced, and
    shared by every answer that shows it (a lot's entries by all its bottles, a case's
    packing by its six)."""

    ts: str
    payload: dict[str, object]
    data: str
    leaf_hash: str
    chain_hash: str


_SHOWN = TTLCache[tuple[str, str], _Shown](ttl_s=FOREVER, max_items=20_000)


@dataclass(frozen=True, slots=True)
class Wanted:
    """An entry to show: its id, its role, and optionally a list-membership proof."""

    entry_id: str
    role: str
    payload: dict[str, object] | None = None
    member: Membership | None = None


def prove(
    conn: Connection,
    wanted: Sequence[Wanted],
    verifier_key: str,
    known: Mapping[str, repo.StoredEntry] | None = None,
    *,
    latest: repo.LatestCheckpoint | Literal["read"] | None = "read",
    nodes: Mapping[NodeId, bytes] | None = None,
) -> tuple[list[ProvenEntry], CheckpointOut | None]:
    """``wanted`` entries with their proofs against the latest checkpoint, and that checkpoint.

    What the caller already read with its own rows saves queries here: ``known`` entries,
    the ``latest`` checkpoint (read in this transaction), tree ``nodes`` (``nodes_needed``).
    """
    stored = _entries(conn, [w.entry_id for w in wanted], known or {})
    cp = log_repo.latest_checkpoint(conn) if latest == "read" else latest
    size = cp.tree_size if cp is not None else 0
    root = cp.root_hash if cp is not None else b""
    shown = {e.seq for e in stored.values() if e.seq < size}
    proofs = _proofs(conn, shown, size, root, nodes or {})
    # One anchor for the answer: the earliest confirmed one covering its newest entry covers
    # every entry shown (an anchored checkpoint's tree holds all entries below its size).
    anchor = anchors.anchor_for(conn, max(shown), root) if shown else None
    url = engine_key(conn)
    out: list[ProvenEntry] = []
    for w in wanted:
        e = stored.get(w.entry_id)
        if e is None:
            out.append(
                ProvenEntry(
                    role=w.role,
                    seq=None,
                    id=w.entry_id,
                    kind="",
                    ts=None,
                    payload=dict(w.payload or {}),
                    data=None,
                    leaf_hash=None,
                    chain_hash=None,
                    tree_size=None,
                    proof=None,
                    status="pending",
                    member=w.member,
                )
            )
            continue
        proof = proofs.get(e.seq)
        fields = _shown(url, e)
        out.append(
            ProvenEntry(
                role=w.role,
                seq=e.seq,
                id=e.entry_id,
                kind=e.kind,
                ts=fields.ts,
                payload=fields.payload,
                data=fields.data,
                leaf_hash=fields.leaf_hash,
                chain_hash=fields.chain_hash,
                tree_size=size if proof is not None else None,
                proof=list(proof) if proof is not None else None,
                status="proven" if proof is not None else "pending",
                member=w.member,
                anchor=anchor,
            )
        )
    checkpoint = (
        CheckpointOut(
            tree_size=cp.tree_size,
            root_hash=cp.root_hash.hex(),
            note=cp.note,
            verifier_key=verifier_key,
        )
        if cp is not None
        else None
    )
    return out, checkpoint


def _shown(url: str, e: repo.StoredEntry) -> _Shown:
    key = (url, e.entry_id)
    shown = _SHOWN.get(key)
    if shown is None:
        shown = _Shown(
            format_ts(e.ts),
            json.loads(e.data)["payload"],
            base64.b64encode(e.data).decode(),
            e.leaf_hash.hex(),
            e.chain_hash.hex(),
        )
        _SHOWN.put(key, shown)
    return shown


def _entries(
    conn: Connection, ids: Sequence[str], known: Mapping[str, repo.StoredEntry]
) -> dict[str, repo.StoredEntry]:
    """The sequenced entries among ``ids``: from ``known``, the cache, then one query."""
    url = engine_key(conn)
    found: dict[str, repo.StoredEntry] = {}
    missing: list[str] = []
    for entry_id in ids:
        e = known.get(entry_id) or _ENTRIES.get((url, entry_id))
        if e is None:
            missing.append(entry_id)
        else:
            found[entry_id] = e
    if missing:
        fetched = repo.entries_by_ids(conn, missing)
        for entry_id, e in fetched.items():
            _ENTRIES.put((url, entry_id), e)
        found.update(fetched)
    return found


def nodes_needed(seqs: set[int], size: int, root: bytes) -> set[NodeId]:
    """The tree nodes the proofs of ``seqs`` against the checkpoint (``size``, ``root``) need
    that are not cached: to be read along with the caller's other rows."""
    return {
        n for seq in seqs if _PROOFS.get((root, seq)) is None for n in inclusion_node_ids(seq, size)
    }


def _proofs(
    conn: Connection, seqs: set[int], size: int, root: bytes, read: Mapping[NodeId, bytes]
) -> dict[int, tuple[str, ...]]:
    """Hex inclusion proofs of ``seqs`` in the tree of ``size`` (root ``root``); the nodes of
    every proof not cached and not already ``read`` are read in one query."""
    out: dict[int, tuple[str, ...]] = {}
    needed: dict[int, list[NodeId]] = {}
    for seq in seqs:
        cached = _PROOFS.get((root, seq))
        if cached is not None:
            out[seq] = cached
        else:
            needed[seq] = inclusion_node_ids(seq, size)
    if not needed:
        return out
    unread = {n for ids in needed.values() for n in ids if n not in read}
    nodes = {**read, **log_repo.get_nodes(conn, unread)} if unread else read
    for seq, ids in needed.items():
        missing = [n for n in ids if n not in nodes]
        if missing:
            raise MissingTreeNode(f"stored tree node {missing[0]} is missing")
        proof = tuple(h.hex() for h in inclusion_proof_from_nodes(seq, size, nodes))
        _PROOFS.put((root, seq), proof)
        out[seq] = proof
    return out
