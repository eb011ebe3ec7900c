"""All SQL of anchoring. Functions take a Connection so the caller owns the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from anchoring.models import Anchor, AnchoringLease, AnchorTransaction
from api.log.repository import as_utc

anchors = cast(Table, Anchor.__table__)
transactions = cast(Table, AnchorTransaction.__table__)
leases = cast(Table, AnchoringLease.__table__)

ACTIVE = ("pending", "submitted")


@dataclass(frozen=True)
class AnchorRecord:
    """An anchor row: one checkpoint on one chain, and how far it has got."""

    id: int
    chain_id: int
    tree_size: int
    root_hash: bytes
    calldata: bytes
    sender: str
    nonce: int
    state: str
    confirmations: int
    tx_hash: bytes | None
    block_number: int | None
    block_hash: bytes | None
    gas_used: int | None
    effective_gas_price: int | None
    reorgs: int
    created_at: datetime
    submitted_at: datetime | None
    confirmed_at: datetime | None


@dataclass(frozen=True)
class TxRecord:
    """A signed transaction sent (or about to be sent) for an anchor."""

    tx_hash: bytes
    anchor_id: int
    nonce: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    gas_limit: int
    raw: bytes
    created_at: datetime
    broadcast_at: datetime | None
    rejected: str | None


def _opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _opt_bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def _anchor(row: Any) -> AnchorRecord:
    return AnchorRecord(
        id=row.id,
        chain_id=row.chain_id,
        tree_size=row.tree_size,
        root_hash=bytes(row.root_hash),
        calldata=bytes(row.calldata),
        sender=row.sender,
        nonce=row.nonce,
        state=row.state,
        confirmations=row.confirmations,
        tx_hash=_opt_bytes(row.tx_hash),
        block_number=row.block_number,
        block_hash=_opt_bytes(row.block_hash),
        gas_used=row.gas_used,
        effective_gas_price=row.effective_gas_price,
        reorgs=row.reorgs,
        created_at=as_utc(row.created_at),
        submitted_at=_opt_utc(row.submitted_at),
        confirmed_at=_opt_utc(row.confirmed_at),
    )


def _tx(row: Any) -> TxRecord:
    return TxRecord(
        tx_hash=bytes(row.tx_hash),
        anchor_id=row.anchor_id,
        nonce=row.nonce,
        max_fee_per_gas=row.max_fee_per_gas,
        max_priority_fee_per_gas=row.max_priority_fee_per_gas,
        gas_limit=row.gas_limit,
        raw=bytes(row.raw),
        created_at=as_utc(row.created_at),
        broadcast_at=_opt_utc(row.broadcast_at),
        rejected=row.rejected,
    )


def active_anchor(conn: Connection, chain_id: int) -> AnchorRecord | None:
    """The anchor in flight on ``chain_id`` (pending or submitted), oldest first."""
    row = conn.execute(
        select(anchors)
        .where(anchors.c.chain_id == chain_id, anchors.c.state.in_(ACTIVE))
        .order_by(anchors.c.tree_size)
        .limit(1)
    ).first()
    return None if row is None else _anchor(row)


def last_anchor(conn: Connection, chain_id: int) -> AnchorRecord | None:
    """The anchor of the largest tree on ``chain_id``, whatever its state."""
    row = conn.execute(
        select(anchors)
        .where(anchors.c.chain_id == chain_id)
        .order_by(anchors.c.tree_size.desc())
        .limit(1)
    ).first()
    return None if row is None else _anchor(row)


def max_nonce(conn: Connection, chain_id: int, sender: str) -> int | None:
    """The highest nonce ever given to an anchor from ``sender`` on ``chain_id``."""
    value = conn.execute(
        select(func.max(anchors.c.nonce)).where(
            anchors.c.chain_id == chain_id, anchors.c.sender == sender
        )
    ).scalar()
    return None if value is None else int(value)


def get_anchor(conn: Connection, anchor_id: int) -> AnchorRecord:
    return _anchor(conn.execute(select(anchors).where(anchors.c.id == anchor_id)).one())


def anchor_covering(conn: Connection, seq: int) -> AnchorRecord | None:
    """The confirmed anchor of the smallest tree that contains ``seq``: its earliest anchor."""
    row = conn.execute(
        select(anchors)
        .where(anchors.c.state == "confirmed", anchors.c.tree_size > seq)
        .order_by(anchors.c.tree_size, anchors.c.confirmed_at)
        .limit(1)
    ).first()
    return None if row is None else _anchor(row)


def list_anchors(
    conn: Connection, *, state: str | None, before: int | None, limit: int
) -> list[AnchorRecord]:
    """Anchors newest (largest tree) first, optionally of one state and below a tree size."""
    stmt = select(anchors).order_by(anchors.c.tree_size.desc(), anchors.c.id.desc()).limit(limit)
    if state is not None:
        stmt = stmt.where(anchors.c.state == state)
    if before is not None:
        stmt = stmt.where(anchors.c.tree_size < before)
    return [_anchor(r) for r in conn.execute(stmt)]


def create_anchor(conn: Connection, values: dict[str, Any]) -> AnchorRecord | None:
    """Insert a pending anchor; None if that checkpoint already has one on that chain."""
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(anchors).values(**values)).inserted_primary_key
    except IntegrityError:
        return None
    assert new_id is not None
    return get_anchor(conn, int(new_id[0]))


def update_anchor(conn: Connection, anchor_id: int, **values: Any) -> None:
    conn.execute(update(anchors).where(anchors.c.id == anchor_id).values(**values))


def transactions_of(conn: Connection, anchor_id: int) -> list[TxRecord]:
    """The transactions sent for an anchor, oldest first."""
    rows = conn.execute(
        select(transactions)
        .where(transactions.c.anchor_id == anchor_id)
        .order_by(transactions.c.created_at, transactions.c.max_fee_per_gas)
    )
    return [_tx(r) for r in rows]


def get_transaction(conn: Connection, tx_hash: bytes) -> TxRecord | None:
    row = conn.execute(select(transactions).where(transactions.c.tx_hash == tx_hash)).first()
    return None if row is None else _tx(row)


def insert_transaction(conn: Connection, tx: TxRecord) -> None:
    conn.execute(
        insert(transactions).values(
            tx_hash=tx.tx_hash,
            anchor_id=tx.anchor_id,
            nonce=tx.nonce,
            max_fee_per_gas=tx.max_fee_per_gas,
            max_priority_fee_per_gas=tx.max_priority_fee_per_gas,
            gas_limit=tx.gas_limit,
            raw=tx.raw,
            created_at=tx.created_at,
            broadcast_at=tx.broadcast_at,
            rejected=tx.rejected,
        )
    )


def update_transaction(conn: Connection, tx_hash: bytes, **values: Any) -> None:
    conn.execute(update(transactions).where(transactions.c.tx_hash == tx_hash).values(**values))


def take_lease(conn: Connection, name: str, holder: str, now: datetime, until: datetime) -> bool:
    """Take or renew the lease ``name`` for ``holder`` unless another holds it unexpired."""
    renewed = conn.execute(
        update(leases)
        .where(
            leases.c.name == name,
            (leases.c.holder == holder) | (leases.c.expires_at <= now),
        )
        .values(holder=holder, expires_at=until)
    ).rowcount
    if renewed:
        return True
    try:
        with conn.begin_nested():
            conn.execute(insert(leases).values(name=name, holder=holder, expires_at=until))
    except IntegrityError:
        return False
    return True


def release_lease(conn: Connection, name: str, holder: str, now: datetime) -> None:
    conn.execute(
        update(leases)
        .where(leases.c.name == name, leases.c.holder == holder)
        .values(expires_at=now)
    )


def lease_holder(conn: Connection, name: str) -> tuple[str, datetime] | None:
    row = conn.execute(
        select(leases.c.holder, leases.c.expires_at).where(leases.c.name == name)
    ).first()
    return None if row is None else (row[0], as_utc(row[1]))
