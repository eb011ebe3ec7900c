"""Proofs and roots built from the stored tree in O(log n) node reads."""

from __future__ import annotations

from sqlalchemy import Connection

from api.log import repository as repo
from ledger.tree import (
    consistency_node_ids,
    consistency_proof_from_nodes,
    inclusion_node_ids,
    inclusion_proof_from_nodes,
    root_from_nodes,
    root_node_ids,
)


def tree_root(conn: Connection, size: int) -> bytes:
    return root_from_nodes(size, repo.get_nodes(conn, root_node_ids(size)))


def inclusion_proof(conn: Connection, index: int, size: int) -> list[bytes]:
    ids = inclusion_node_ids(index, size)
    return inclusion_proof_from_nodes(index, size, repo.get_nodes(conn, ids))


def consistency_proof(conn: Connection, size1: int, size2: int) -> list[bytes]:
    ids = consistency_node_ids(size1, size2)
    return consistency_proof_from_nodes(size1, size2, repo.get_nodes(conn, ids))
