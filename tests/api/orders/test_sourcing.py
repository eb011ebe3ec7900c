"""The sourcing policy as a pure function: order of warehouses, splitting, sharing caps."""

from __future__ import annotations

import pytest

from api.orders.sourcing import Candidate, InsufficientStock, allocate, rank

CENTRAL = Candidate("c", "WH-CENTRAL", "central", 5, 900_000)
NEAR = Candidate("n", "WH-NEAR", "regional", 8, 10_000)
FAR = Candidate("f", "WH-FAR", "regional", 50, 1_500_000)
OWN = Candidate("o", "WH-OWN", "dealer", 3, 2_000)


def test_hq_first_takes_central_then_nearest_regional() -> None:
    assert [c.code for _, c in rank([FAR, NEAR, CENTRAL], "hq-first")] == [
        "WH-CENTRAL",
        "WH-NEAR",
        "WH-FAR",
    ]
    plan = allocate("g", 10, [FAR, NEAR, CENTRAL], "hq-first")
    assert [(a.warehouse_id, a.cases, a.rule) for a in plan] == [
        ("c", 5, "hq_central_first"),
        ("n", 5, "hq_regional_nearest"),
    ]
    assert "HQ central stock first" in plan[0].reason and "took 5 of 10" in plan[0].reason
    assert "10 km from the ship-to" in plan[1].reason and "took all 5" in plan[1].reason


def test_nearest_policy_ignores_the_central_preference() -> None:
    plan = allocate("g", 10, [FAR, NEAR, CENTRAL], "nearest")
    assert [(a.warehouse_id, a.cases) for a in plan] == [("n", 8), ("c", 2)]


def test_store_orders_use_the_dealer_first_then_a_capped_share_of_hq() -> None:
    plan = allocate("g", 5, [CENTRAL, NEAR, OWN], "hq-first", hq_cap=2)
    assert [(a.warehouse_id, a.cases, a.rule) for a in plan] == [
        ("o", 3, "dealer_own_nearest"),
        ("c", 2, "hq_central_first"),
    ]
    assert allocate("g", 4, [CENTRAL, OWN], "hq-first", hq_cap=1)[1].cases == 1
    with pytest.raises(InsufficientStock) as err:
        allocate("g", 6, [CENTRAL, NEAR, OWN], "hq-first", hq_cap=2)
    assert "only 5 available" in err.value.message and "share: 2" in err.value.message


def test_a_line_nobody_can_serve_is_refused_with_the_figures() -> None:
    with pytest.raises(InsufficientStock) as err:
        allocate("06901234567892", 70, [FAR, NEAR, CENTRAL], "hq-first", line_no=3)
    message = err.value.message
    assert message.startswith("line 3: 70 cases of GTIN 06901234567892 wanted, only 63")
    assert err.value.status_code == 409


def test_empty_warehouses_are_passed_over_and_said_so() -> None:
    empty = Candidate("e", "WH-EMPTY", "central", 0, 1)
    plan = allocate("g", 1, [empty, NEAR], "hq-first")
    assert plan[0].warehouse_id == "n" and "passed over WH-EMPTY" in plan[0].reason
