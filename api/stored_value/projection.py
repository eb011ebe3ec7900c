"""Rebuilding every stored-value balance from the ledger alone, and comparing with the tables.

An auditor's check (``jiuyuan stored-value check``): the ledger's canonical bytes are decoded,
each journal entry must balance, and the sums per account must equal both the members'
account rows and the stored postings. It reads one snapshot; entries committed with their
rows but not yet sequenced (still in the outbox) are counted from there and reported.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from api.models import LedgerEntry, OutboxEntry
from api.stored_value import accounts
from api.stored_value import repository as repo

_entries = LedgerEntry.__table__
_outbox = OutboxEntry.__table__


@dataclass
class Projection:
    balances: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    entries: int = 0
    unbalanced: list[int] = field(default_factory=list)

    def add(self, seq: int, payload: dict[str, Any]) -> None:
        postings = payload.get("postings")
        if postings is None:
            return
        self.entries += 1
        if sum(p["fen"] for p in postings) != 0:
            self.unbalanced.append(seq)
        for p in postings:
            self.balances[p["account"]] += p["fen"]

    def members(self) -> dict[str, tuple[int, int]]:
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for code, amount in self.balances.items():
            parsed = accounts.parse(code)
            if parsed.kind == "liability" and parsed.member is not None:
                out[parsed.member][0 if parsed.part == "principal" else 1] -= amount
        return {m: (p, b) for m, (p, b) in out.items()}


def from_ledger(rows: Iterable[tuple[int, bytes]]) -> Projection:
    """The projection of ledger entries given as (seq, stored canonical bytes)."""
    projection = Projection()
    for seq, data in rows:
        projection.add(seq, json.loads(bytes(data))["payload"])
    return projection


@dataclass(frozen=True, slots=True)
class CheckResult:
    entries: int
    staged: int
    problems: list[str]


def check(conn: Connection) -> CheckResult:
    """Compare the ledger's projection with the account rows and the stored postings.

    Call it in a snapshot transaction (SQLite's read transaction, PostgreSQL's REPEATABLE
    READ), so rows and entries are seen as of one moment.
    """
    rows = conn.execute(
        select(_entries.c.seq, _entries.c.data)
        .where(_entries.c.kind.startswith("stored_value."))
        .order_by(_entries.c.seq)
        .execution_options(yield_per=10_000)
    )
    projection = from_ledger((seq, data) for seq, data in rows)
    sequenced = projection.entries
    staged = conn.execute(
        select(_outbox.c.payload).where(_outbox.c.kind.startswith("stored_value."))
    ).scalars()
    for payload in staged:
        projection.add(-1, json.loads(payload))
    problems = [f"seq {seq}: postings do not sum to zero" for seq in projection.unbalanced]
    stored = repo.account_balances(conn)
    for code in sorted(set(stored) | set(projection.balances)):
        ledger_fen, table_fen = projection.balances.get(code, 0), stored.get(code, 0)
        if ledger_fen != table_fen:
            problems.append(f"{code}: ledger {ledger_fen} fen, stored postings {table_fen} fen")
    members = projection.members()
    for member_id, principal, bonus in repo.all_member_balances(conn):
        found = members.get(member_id, (0, 0))
        if found != (principal, bonus):
            problems.append(f"member {member_id}: ledger {found}, account ({principal}, {bonus})")
    return CheckResult(sequenced, projection.entries - sequenced, problems)
