"""Shaping stored rows into API answers (shared by operations, history and members)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.stored_value.accounts import PaymentMethod
from api.stored_value.journal import Line
from api.stored_value.repository import JournalRow
from api.stored_value.rules import Rules
from api.stored_value.schemas import Balance, Gift, HistoryLine, OperationOut, PostingOut
from api.trace.common import SHANGHAI


def balance(rules: Rules, real_name: bool, principal_fen: int, bonus_fen: int) -> Balance:
    return Balance(
        principal_fen=principal_fen,
        bonus_fen=bonus_fen,
        total_fen=principal_fen + bonus_fen,
        cap_fen=rules.cap_fen(real_name),
        cash_refundable_fen=principal_fen,
    )


def operation_out(
    row: JournalRow, lines: Sequence[Line], rules: Rules, real_name: bool
) -> OperationOut:
    return OperationOut(**_fields(row, lines, rules, real_name))


def history_line(
    row: JournalRow, lines: Sequence[Line], rules: Rules, real_name: bool, seq: int | None
) -> HistoryLine:
    return HistoryLine(
        **_fields(row, lines, rules, real_name),
        ledger_seq=seq,
        refunded_fen=row.refunded_principal_fen + row.refunded_bonus_fen,
        voided_by=row.voided_by,
    )


def _fields(
    row: JournalRow, lines: Sequence[Line], rules: Rules, real_name: bool
) -> dict[str, Any]:
    gift = None
    if row.gift_sku is not None:
        gift = Gift(
            sku=row.gift_sku,
            name=row.gift_name or "",
            qty=row.gift_qty or 0,
            cost_fen=row.gift_cost_fen or 0,
        )
    return {
        "journal_id": row.journal_id,
        "operation": row.operation,
        "store_id": row.store_id,
        "issuer_id": row.issuer_id,
        "member_id": row.member_id,
        "pos_txn": row.pos_txn,
        "created_at": row.created_at.astimezone(SHANGHAI),
        "business_day": row.business_day,
        "principal_fen": row.principal_fen,
        "bonus_fen": row.bonus_fen,
        "balance": balance(rules, real_name, row.principal_after_fen, row.bonus_after_fen),
        "payment_method": None if row.payment_method is None else PaymentMethod(row.payment_method),
        "promotion_id": row.promotion_id,
        "gift": gift,
        "refers_to": row.ref_journal_id,
        "postings": [PostingOut(account=x.account, amount_fen=x.amount_fen) for x in lines],
    }
