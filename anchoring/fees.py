"""EIP-1559 fees for anchors: what to offer first, and how much more to offer when stuck.

Pure. Every fee is wei; nothing offered ever exceeds the configured ceiling.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from anchoring.chain import FeeQuote

GWEI: Final = 10**9

BUMP_DIVISOR: Final = 8
"""A replacement offers at least 1/8 (12.5 %) more, above the 10 % that geth and anvil demand."""

_NODE_MIN_BUMP_DIVISOR: Final = 10


@dataclass(frozen=True)
class Fees:
    """The two EIP-1559 fee fields of one transaction (wei per gas)."""

    max_fee_per_gas: int
    max_priority_fee_per_gas: int


def gwei_to_wei(gwei: Decimal) -> int:
    """Return ``gwei`` in wei, exactly; fractions of a wei are refused.

    :raises ValueError: if the amount is not positive or not a whole number of wei.
    """
    wei = gwei * GWEI
    if wei <= 0 or wei != wei.to_integral_value():
        raise ValueError(f"{gwei} gwei is not a positive whole number of wei")
    return int(wei)


def initial_fees(quote: FeeQuote, ceiling: int) -> Fees:
    """The first offer: the suggested tip, and room for the base fee to double, capped."""
    tip = min(quote.priority_fee, ceiling)
    return Fees(min(ceiling, 2 * quote.base_fee + tip), tip)


def _plus_eighth(value: int) -> int:
    return value + max(1, -(-value // BUMP_DIVISOR))


def _enough(new: int, old: int) -> bool:
    """Whether a node would take ``new`` as a replacement for ``old`` (at least +10 %)."""
    return new * _NODE_MIN_BUMP_DIVISOR >= old * (_NODE_MIN_BUMP_DIVISOR + 1) and new > old


def bumped_fees(previous: Fees, quote: FeeQuote, ceiling: int) -> Fees | None:
    """The offer that replaces a stuck transaction, or None when the ceiling leaves no room.

    Both fields rise by at least 12.5 % and at least to what the market asks now; the max fee
    is capped at ``ceiling`` and the tip at the max fee. A node refuses a replacement that does
    not raise both by 10 %, so when the cap prevents that, there is nothing worth sending.
    """
    tip = max(_plus_eighth(previous.max_priority_fee_per_gas), quote.priority_fee)
    cap = max(_plus_eighth(previous.max_fee_per_gas), 2 * quote.base_fee + tip)
    cap = min(cap, ceiling)
    tip = min(tip, cap)
    if not (
        _enough(cap, previous.max_fee_per_gas) and _enough(tip, previous.max_priority_fee_per_gas)
    ):
        return None
    return Fees(cap, tip)
