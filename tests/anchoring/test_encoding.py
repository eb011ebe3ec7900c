"""The anchor calldata and the fee rules: pure, no chain."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anchoring.chain import FeeQuote
from anchoring.encoding import SIZE, AnchorPayload, intrinsic_gas, origin_id
from anchoring.fees import GWEI, Fees, bumped_fees, gwei_to_wei, initial_fees
from ledger.checkpoint import MAX_TREE_SIZE, Checkpoint
from ledger.errors import VerificationError

ROOT = bytes(range(32))


def test_layout_is_the_documented_one() -> None:
    payload = AnchorPayload.for_checkpoint(Checkpoint("jiuyuan.local/log", 1_000_000, ROOT))
    data = payload.encode()
    assert len(data) == SIZE == 52
    assert data[:4] == b"JYA\x01"
    assert data[4:12] == hashlib.sha256(b"jiuyuan.local/log").digest()[:8]
    assert data[12:20] == (1_000_000).to_bytes(8, "big")
    assert data[20:] == ROOT
    assert payload.matches(Checkpoint("jiuyuan.local/log", 1_000_000, ROOT))
    assert not payload.matches(Checkpoint("jiuyuan.local/log", 999_999, ROOT))
    assert not payload.matches(Checkpoint("other.example/log", 1_000_000, ROOT))


@given(
    origin=st.text(min_size=1).filter(lambda s: "\n" not in s),
    size=st.integers(0, MAX_TREE_SIZE),
    root=st.binary(min_size=32, max_size=32),
)
def test_round_trip(origin: str, size: int, root: bytes) -> None:
    payload = AnchorPayload(origin_id(origin.encode("utf-8", "replace").decode()), size, root)
    assert AnchorPayload.decode(payload.encode()) == payload


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "must be 52 bytes"),
        (b"JYA\x01" + bytes(47), "must be 52 bytes"),
        (b"XYZ\x01" + bytes(48), "no JYA magic"),
        (b"JYA\x02" + bytes(48), "unsupported anchor format version 2"),
        (b"JYA\x01" + bytes(8) + b"\xff" * 8 + bytes(32), "tree size out of range"),
    ],
)
def test_decode_refuses_malformed_calldata(data: bytes, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        AnchorPayload.decode(data)


def test_gas_stays_under_23000_for_any_root_up_to_a_trillion_entries() -> None:
    # The worst case: every byte of origin id and root nonzero, a 5-byte tree size.
    worst = b"JYA\x01" + b"\xff" * 8 + (2**40 - 1).to_bytes(8, "big") + b"\xff" * 32
    assert intrinsic_gas(worst) == 21_000 + 10 * (4 * 49 + 3) == 22_990
    # EIP-7623's floor is what binds for calldata-only transactions.
    assert intrinsic_gas(b"") == 21_000
    assert intrinsic_gas(b"\x01") == 21_040
    assert intrinsic_gas(b"\x00") == 21_010


def test_first_offer_leaves_room_for_the_base_fee_and_respects_the_ceiling() -> None:
    quote = FeeQuote(base_fee=10 * GWEI, priority_fee=GWEI)
    assert initial_fees(quote, 100 * GWEI) == Fees(21 * GWEI, GWEI)
    assert initial_fees(quote, 15 * GWEI) == Fees(15 * GWEI, GWEI)
    assert initial_fees(FeeQuote(GWEI, 5 * GWEI), 3 * GWEI) == Fees(3 * GWEI, 3 * GWEI)


@given(
    base=st.integers(0, 500 * GWEI),
    tip=st.integers(0, 50 * GWEI),
    prev_tip=st.integers(0, 50 * GWEI),
    extra=st.integers(0, 500 * GWEI),
    ceiling=st.integers(1, 1000 * GWEI),
)
def test_a_bump_raises_both_fees_enough_or_gives_up(
    base: int, tip: int, prev_tip: int, extra: int, ceiling: int
) -> None:
    previous = Fees(min(ceiling, prev_tip + extra), min(prev_tip, ceiling, prev_tip + extra))
    bumped = bumped_fees(previous, FeeQuote(base, tip), ceiling)
    if bumped is None:
        return
    assert bumped.max_fee_per_gas <= ceiling
    assert bumped.max_priority_fee_per_gas <= bumped.max_fee_per_gas
    # Nodes take a replacement only at +10 % on both fields.
    assert bumped.max_fee_per_gas * 10 >= previous.max_fee_per_gas * 11
    assert bumped.max_priority_fee_per_gas * 10 >= previous.max_priority_fee_per_gas * 11
    assert bumped.max_fee_per_gas > previous.max_fee_per_gas


def test_bump_follows_the_market_and_stops_at_the_ceiling() -> None:
    previous = Fees(3 * GWEI, GWEI)
    assert bumped_fees(previous, FeeQuote(GWEI, GWEI), 100 * GWEI) == Fees(
        3_375_000_000, 1_125_000_000
    )
    # The market moved far up: the offer follows it.
    assert bumped_fees(previous, FeeQuote(20 * GWEI, 2 * GWEI), 100 * GWEI) == Fees(
        42 * GWEI, 2 * GWEI
    )
    assert bumped_fees(previous, FeeQuote(GWEI, GWEI), 3 * GWEI) is None
    assert bumped_fees(Fees(0, 0), FeeQuote(0, 0), GWEI) == Fees(1, 1)


def test_gwei_settings_convert_exactly() -> None:
    from decimal import Decimal

    assert gwei_to_wei(Decimal("200")) == 200 * GWEI
    assert gwei_to_wei(Decimal("0.000000001")) == 1
    for bad in ("0", "-1", "0.0000000001"):
        with pytest.raises(ValueError, match="whole number of wei"):
            gwei_to_wei(Decimal(bad))
