"""Reading the books: a member's history, a store's day (Z-report), what each issuer owes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Connection

from api.channel import repository as parties
from api.errors import NotFound, Unprocessable
from api.log import repository as log_repo
from api.stored_value import accounts, views
from api.stored_value import repository as repo
from api.stored_value.member_repository import MemberRow
from api.stored_value.operations import MemberErased
from api.stored_value.rules import Rules
from api.stored_value.schemas import (
    AccountTotal,
    HistoryOut,
    OperationOut,
    OperationTotal,
    Outstanding,
    OutstandingOut,
    ZReport,
)
from api.trace.common import SHANGHAI


def history(
    conn: Connection, rules: Rules, member: MemberRow, *, limit: int, before: str | None
) -> HistoryOut:
    """A member's operations, newest first, each with its ledger seq once sequenced."""
    if member.erased:
        raise MemberErased(f"member {member.member_id} was erased at their request")
    cursor = None
    if before is not None:
        anchor = repo.get_journal(conn, before)
        if anchor is None or anchor.member_id != member.member_id:
            raise Unprocessable(f"before={before} is not one of this member's operations")
        cursor = (anchor.created_at, anchor.journal_id)
    rows = repo.member_journal(conn, member.member_id, limit=limit + 1, before=cursor)
    more = len(rows) > limit
    rows = rows[:limit]
    ids = [r.journal_id for r in rows]
    lines = repo.lines_of(conn, ids)
    seqs = log_repo.find_by_ids(conn, ids)
    out = [
        views.history_line(
            r,
            lines[r.journal_id],
            rules,
            member.real_name,
            seqs[r.journal_id].seq if r.journal_id in seqs else None,
        )
        for r in rows
    ]
    return HistoryOut(
        member_id=member.member_id,
        lines=out,
        next_before=rows[-1].journal_id if more and rows else None,
    )


def journal_row(conn: Connection, journal_id: str) -> repo.JournalRow:
    row = repo.get_journal(conn, journal_id)
    if row is None:
        raise NotFound(f"no stored-value operation {journal_id}")
    return row


def operation(conn: Connection, rules: Rules, journal_id: str, real_name: bool) -> OperationOut:
    row = journal_row(conn, journal_id)
    return views.operation_out(row, repo.lines_of(conn, [journal_id])[journal_id], rules, real_name)


def z_report(conn: Connection, store_id: str, day: date) -> ZReport:
    """Everything booked at one store's counter on one business day (Asia/Shanghai)."""
    operations = [
        OperationTotal(operation=op, count=n, principal_fen=p, bonus_fen=b)
        for op, n, p, b in repo.day_operations(conn, store_id, day)
    ]
    totals = [
        AccountTotal(account=a, debit_fen=dr, credit_fen=cr, net_fen=dr - cr)
        for a, dr, cr in repo.day_postings(conn, store_id, day)
    ]
    clearing: dict[str, int] = {}
    for t in totals:
        code = accounts.parse(t.account)
        if code.kind == "store" and code.name.startswith("clearing:"):
            method = code.name.split(":", 1)[1]
            clearing[method] = clearing.get(method, 0) + t.net_fen
    debit = sum(t.debit_fen for t in totals)
    credit = sum(t.credit_fen for t in totals)
    return ZReport(
        store_id=store_id,
        business_day=day,
        operations=operations,
        accounts=totals,
        debit_fen=debit,
        credit_fen=credit,
        balanced=debit == credit,
        clearing_net_fen=clearing,
        journal_ids=repo.day_journal_ids(conn, store_id, day),
    )


def today() -> date:
    return datetime.now(UTC).astimezone(SHANGHAI).date()


def outstanding(conn: Connection, rules: Rules, issuer_ids: Sequence[str] | None) -> OutstandingOut:
    """What each issuer owes its members now: the base of the custody rules."""
    rows = repo.outstanding(conn, issuer_ids)
    kinds = {p.party_id: p.kind for p in parties.get_parties(conn, [r[0] for r in rows]).values()}
    issuers = []
    for issuer_id, with_balance, principal, bonus in rows:
        total = int(principal) + int(bonus)
        issuers.append(
            Outstanding(
                issuer_id=issuer_id,
                issuer_kind=kinds.get(issuer_id, "unknown"),
                members_with_balance=int(with_balance),
                principal_fen=int(principal),
                bonus_fen=int(bonus),
                total_fen=total,
                custody_permille=rules.custody_permille,
                custody_fen=-(-total * rules.custody_permille // 1000),
            )
        )
    return OutstandingOut(as_of=datetime.now(UTC).astimezone(SHANGHAI), issuers=issuers)
