"""Build an alert's evidence bundle from the database (verification needs none)."""

from __future__ import annotations

import base64
import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from anchoring.errors import AnchoringError
from anchoring.receipt import Receipt, build_receipt
from anchoring.service import anchor_for
from api.compliance.alerts.repository import AlertRow
from api.compliance.alerts.schemas import alert_out
from api.compliance.evidence.bundle import (
    Bundle,
    BundleCheckpoint,
    BundleEntry,
    BundleLog,
    ListedMember,
    MerkleMember,
)
from api.errors import Conflict
from api.log import proofs
from api.log import repository as log_repo
from api.trace import merkle_list
from api.trace.codes import repository as codes_repo
from api.trace.resolver.repository import entries_by_ids
from ledger.canonical import format_ts

ALERT_ROLES = {
    "compliance.alert.raised": "alert.raised",
    "compliance.alert.updated": "alert.updated",
    "compliance.alert.decided": "alert.decided",
    "compliance.alert.appealed": "alert.appealed",
}


class EvidencePending(Conflict):
    """Some entry is not yet on the ledger or not yet under a checkpoint."""

    code = "evidence_pending"


def export_bundle(conn: Connection, alert: AlertRow, *, origin: str, verifier_key: str) -> Bundle:
    """Every entry the alert rests on, proven into the latest checkpoint.

    :raises EvidencePending: when an entry is still being sequenced or checkpointed (the log
        publishes a checkpoint every few seconds: ask again shortly).
    """
    roles: dict[str, str] = {}
    for entry_id in alert.entry_ids:
        roles[entry_id] = ""
    for s in alert.signals:
        for entry_id in s["entries"]:
            roles.setdefault(entry_id, f"signal:{s['signal']}")
    stored = entries_by_ids(conn, list(roles))
    missing = [i for i in roles if i not in stored]
    if missing:
        raise EvidencePending(
            f"entry {missing[0]} of alert {alert.alert_id} is not on the ledger yet; "
            "it is sequenced within seconds, ask again shortly",
            headers={"Retry-After": "2"},
        )
    cp = log_repo.latest_checkpoint(conn)
    last = max(e.seq for e in stored.values())
    if cp is None or cp.tree_size <= last:
        raise EvidencePending(
            f"entry {last} is not yet covered by a checkpoint; one is published every few "
            "seconds, ask again shortly",
            headers={"Retry-After": "2"},
        )
    # The alert's observations are proven against its latest raised/updated entry.
    kinds = ("compliance.alert.raised", "compliance.alert.updated")
    revisions = [i for i in alert.entry_ids if stored[i].kind in kinds]
    latest_alert_entry = revisions[-1] if revisions else None
    out: list[BundleEntry] = []
    receipts: list[Receipt] = []
    for entry_id in sorted(roles, key=lambda i: stored[i].seq):
        e = stored[entry_id]
        payload = json.loads(e.data)["payload"]
        role = roles[entry_id] or ALERT_ROLES.get(e.kind, e.kind)
        if entry_id == latest_alert_entry:
            members = _observation_members(alert)
        else:
            members = _code_members(conn, alert, entry_id, e.kind, payload)
        out.append(
            BundleEntry(
                seq=e.seq,
                role=role,
                data=base64.b64encode(e.data).decode("ascii"),
                leaf_hash=e.leaf_hash.hex(),
                proof=[h.hex() for h in proofs.inclusion_proof(conn, e.seq, cp.tree_size)],
                members=members,
            )
        )
        if anchor_for(conn, e.seq) is not None:
            # A damaged anchor is left out; the entries still prove themselves.
            with contextlib.suppress(AnchoringError):
                receipts.append(build_receipt(conn, e.seq, verifier_key))
    return Bundle(
        exported_at=format_ts(datetime.now(UTC)),
        alert=alert_out(alert).model_dump(mode="json"),
        alert_id=alert.alert_id,
        log=BundleLog(origin=origin, verifier_key=verifier_key),
        checkpoint=BundleCheckpoint(tree_size=cp.tree_size, note=cp.note),
        entries=out,
        anchors=receipts,
    )


def _observation_members(alert: AlertRow) -> list[MerkleMember | ListedMember]:
    items = alert.observations
    if not items:
        return []
    tree = merkle_list.build([merkle_list.item_leaf(i) for i in items])
    members: list[MerkleMember | ListedMember] = []
    for index, item in enumerate(items):
        ids = merkle_list.proof_nodes(index, tree.size)
        nodes = merkle_list.unpack(tree.nodes, tree.size, ids)
        members.append(
            MerkleMember(
                item=item,
                root_field="observations_root",
                count_field="observations_count",
                index=index,
                size=tree.size,
                proof=[h.hex() for h in merkle_list.proof(index, tree.size, nodes)],
            )
        )
    return members


def _code_members(
    conn: Connection, alert: AlertRow, entry_id: str, kind: str, payload: dict[str, Any]
) -> list[MerkleMember | ListedMember]:
    """Where the entry names the alert's case: written out in the payload, or in its code list."""
    key = alert.code_key
    for field in ("case", "extra", "code"):
        value = payload.get(field)
        if value == key or (isinstance(value, list) and key in value):
            return [ListedMember(item=key, field=field)]
    if "codes_root" not in payload:
        return []
    rows = [r for r in codes_repo.events_of(conn, [alert.code_id]) if r["entry_id"] == entry_id]
    if not rows:
        return []
    index, size = int(rows[0]["position"]), int(payload["codes_count"])
    ids = merkle_list.proof_nodes(index, size)
    nodes = codes_repo.event_nodes(
        conn, entry_id, [(n, merkle_list.node_offset(size, n)) for n in ids]
    )
    return [
        MerkleMember(
            item=key,
            root_field="codes_root",
            count_field="codes_count",
            index=index,
            size=size,
            proof=[h.hex() for h in merkle_list.proof(index, size, nodes)],
        )
    ]
