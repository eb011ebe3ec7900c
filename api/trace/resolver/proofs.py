"""Ledger entries with inclusion proofs, all against one checkpoint, in few queries."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from api.log import repository as log_repo
from api.log.proofs import MissingTreeNode
from api.trace.resolver import anchors
from api.trace.resolver import repository as repo
from api.trace.resolver.schemas import CheckpointOut, Membership, ProvenEntry
from ledger.canonical import format_ts
from ledger.tree import NodeId, inclusion_node_ids, inclusion_proof_from_nodes


@dataclass(frozen=True, slots=True)
class Wanted:
    """An entry to show: its id, its role, and optionally a list-membership proof."""

    entry_id: str
    role: str
    payload: dict[str, object] | None = None
    member: Membership | None = None


def prove(
    conn: Connection, wanted: Sequence[Wanted], verifier_key: str
) -> tuple[list[ProvenEntry], CheckpointOut | None]:
    stored = repo.entries_by_ids(conn, [w.entry_id for w in wanted])
    cp = log_repo.latest_checkpoint(conn)
    size = cp.tree_size if cp is not None else 0
    needed: dict[int, list[NodeId]] = {
        e.seq: inclusion_node_ids(e.seq, size) for e in stored.values() if e.seq < size
    }
    nodes = log_repo.get_nodes(conn, {n for ids in needed.values() for n in ids})
    # One anchor for the answer: the earliest confirmed one covering its newest entry covers
    # every entry shown (an anchored checkpoint's tree holds all entries below its size).
    anchor = anchors.anchor_for(conn, max(needed)) if needed else None
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
        proof: list[str] | None = None
        if e.seq in needed:
            missing = [n for n in needed[e.seq] if n not in nodes]
            if missing:
                raise MissingTreeNode(f"stored tree node {missing[0]} is missing")
            proof = [h.hex() for h in inclusion_proof_from_nodes(e.seq, size, nodes)]
        out.append(
            ProvenEntry(
                role=w.role,
                seq=e.seq,
                id=e.entry_id,
                kind=e.kind,
                ts=format_ts(e.ts),
                payload=json.loads(e.data)["payload"],
                data=base64.b64encode(e.data).decode(),
                leaf_hash=e.leaf_hash.hex(),
                chain_hash=e.chain_hash.hex(),
                tree_size=size if proof is not None else None,
                proof=proof,
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
