"""Proofs and roots built from the stored tree in O(log n) node reads."""

from __future__ import annotations

from sqlalchemy import Connection

from api.log import repository as repo
from ledger.errors import VerificationError
from ledger.tree import (
    NodeId,
    consistency_node_ids,
    consistency_proof_from_nodes,
    inclusion_node_ids,
    inclusion_proof_from_nodes,
    root_from_nodes,
    root_node_ids,
)


class MissingTreeNode(VerificationError):
    """The node table lacks a node the integrated tree must have: storage is damaged."""


def _nodes(conn: Connection, ids: list[NodeId]) -> dict[NodeId, bytes]:
    found = repo.get_nodes(conn, ids)
    missing = [i for i in ids if i not in found]
    if missing:
        level, index = missing[0]
        raise MissingTreeNode(f"stored tree node (level {level}, index {index}) is missing")
    return found


def tree_root(conn: Connection, size: int) -> bytes:
    return root_from_nodes(size, _nodes(conn, root_node_ids(size)))


def inclusion_proof(conn: Connection, index: int, size: int) -> list[bytes]:
    ids = inclusion_node_ids(index, size)
    return inclusion_proof_from_nodes(index, size, _nodes(conn, ids))


def consistency_proof(conn: Connection, size1: int, size2: int) -> list[bytes]:
    ids = consistency_node_ids(size1, size2)
    return consistency_proof_from_nodes(size1, size2, _nodes(conn, ids))
