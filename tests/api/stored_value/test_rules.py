"""The pure parts: splits, journal entries, identity checks, keys and tokens."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.errors import AppError
from api.stored_value import accounts, identity, journal
from api.stored_value.accounts import PaymentMethod
from api.stored_value.member_tokens import (
    member_token,
    qr_code,
    read_member_token,
    read_qr_code,
)
from api.stored_value.privacy import MemberDataUnreadable, MemberKeys, commitment
from api.stored_value.rules import Rules, refund_split, spend_split

fen = st.integers(0, 10**9)
CARD = journal.Card("st_issuer", "mb_member", "st_store")


@given(principal=fen, bonus=fen, data=st.data())
def test_a_spend_draws_pro_rata_never_more_than_either_part(
    principal: int, bonus: int, data: st.DataObject
) -> None:
    amount = data.draw(st.integers(0, principal + bonus))
    p, b = spend_split(amount, principal, bonus)
    assert p + b == amount and 0 <= p <= principal and 0 <= b <= bonus
    if principal + bonus:
        # bonus part = ceil(amount × bonus ÷ total): exact to the rounding fen
        assert b * (principal + bonus) >= amount * bonus > (b - 1) * (principal + bonus)


@given(principal=fen, bonus=fen, parts=st.lists(st.integers(1, 10**6), max_size=8))
def test_partial_refunds_add_up_to_the_spend_and_never_exceed_it(
    principal: int, bonus: int, parts: list[int]
) -> None:
    done_p = done_b = 0
    for amount in parts:
        if done_p + done_b + amount > principal + bonus:
            with pytest.raises(AppError) as info:
                refund_split(principal, bonus, done_p, done_b, amount)
            assert info.value.code == "refund_exceeds_spend"
            continue
        p, b = refund_split(principal, bonus, done_p, done_b, amount)
        assert p >= 0 and b >= 0
        done_p, done_b = done_p + p, done_b + b
        assert done_p <= principal and done_b <= bonus
    rest = principal + bonus - done_p - done_b
    if rest:
        p, b = refund_split(principal, bonus, done_p, done_b, rest)
        assert (done_p + p, done_b + b) == (principal, bonus)


@given(paid=st.integers(1, 10**8), bonus=fen, gift=fen, spend=st.integers(0, 10**8))
def test_every_entry_balances(paid: int, bonus: int, gift: int, spend: int) -> None:
    top = journal.top_up(CARD, PaymentMethod.WECHAT, paid, bonus, gift)
    p, b = spend_split(min(spend, paid + bonus), paid, bonus)
    for entry in (
        top,
        journal.spend(CARD, p, b),
        journal.refund(CARD, p, b),
        journal.cash_refund(CARD, PaymentMethod.CASH, paid, bonus),
        journal.void(top.lines),
    ):
        assert sum(x.amount_fen for x in entry.lines) == 0
        for x in entry.lines:
            accounts.parse(x.account)
    with pytest.raises(journal.UnbalancedEntry):
        journal.JournalEntry(journal.Operation.SPEND, (journal.Line("store:s:revenue", 1),))


def test_cap_counts_bonus_unless_configured_otherwise() -> None:
    args = dict(real_name=False, principal_fen=90_000, bonus_fen=9_000, method=PaymentMethod.CASH)
    with pytest.raises(AppError) as info:
        Rules().check_top_up(paid_fen=1_000, granted_bonus_fen=100, **args)  # type: ignore[arg-type]
    assert info.value.code == "cap_exceeded" and "1,000.00 CNY" in info.value.message
    Rules(cap_counts_bonus=False).check_top_up(paid_fen=10_000, granted_bonus_fen=100, **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "phone"),
    [
        ("13800138000", "13800138000"),
        ("+86 138-0013-8000", "13800138000"),
        ("0086 19912345678", "19912345678"),
    ],
)
def test_phone_numbers_are_normalised(typed: str, phone: str) -> None:
    assert identity.normalise_phone(typed) == phone


@pytest.mark.parametrize("typed", ["12800138000", "1380013800", "02112345678", "138001380001"])
def test_bad_phone_numbers_are_refused(typed: str) -> None:
    with pytest.raises(AppError):
        identity.normalise_phone(typed)


def test_resident_id_check_digit_and_birth_date() -> None:
    assert identity.normalise_id_number("11010519491231002x") == "11010519491231002X"
    for bad in ("110105194912310021", "11010519491331002X", "1101051949123100"):
        with pytest.raises(AppError):
            identity.normalise_id_number(bad)


def test_sealed_data_is_bound_to_its_member_field_and_key() -> None:
    keys = MemberKeys(os.urandom(32))
    sealed = keys.seal("13800138000", "mb_1", "phone")
    assert b"13800138000" not in sealed and keys.open(sealed, "mb_1", "phone") == "13800138000"
    for member, field, other in (("mb_2", "phone", keys), ("mb_1", "name", keys)):
        with pytest.raises(MemberDataUnreadable):
            other.open(sealed, member, field)
    with pytest.raises(MemberDataUnreadable):
        MemberKeys(os.urandom(32)).open(sealed, "mb_1", "phone")
    assert "secret" in repr(keys) and keys.phone_lookup("st_a", "1") != keys.phone_lookup(
        "st_b", "1"
    )
    assert commitment(b"\x00" * 32, "phone", "1") != commitment(b"\x01" * 32, "phone", "1")


def test_member_tokens_and_qr_codes() -> None:
    keys = MemberKeys(os.urandom(32))
    token = member_token(keys, "mb_1", 3)
    claims = read_member_token(keys, token)
    assert (claims.member_id, claims.generation) == ("mb_1", 3)
    for forged in (token.replace(".3.", ".4."), token.replace("mb_1", "mb_2"), "mt.x", ""):
        with pytest.raises(AppError):
            read_member_token(keys, forged)
    now = datetime.now(UTC)
    qr, expires = qr_code(keys, "mb_1", now, 60)
    assert read_qr_code(keys, qr, now + timedelta(seconds=59)) == "mb_1"
    with pytest.raises(AppError) as info:
        read_qr_code(keys, qr, expires)
    assert info.value.code == "qr_expired"
