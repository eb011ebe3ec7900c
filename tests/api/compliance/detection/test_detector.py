"""The detector's rules one at a time, on hand-made facts."""

from __future__ import annotations

import pytest

from api.compliance.detection.detector import Detector
from api.compliance.detection.model import (
    Movement,
    MovementKind,
    PartyInfo,
    ScanPoint,
    Territory,
)
from api.compliance.detection.signals import SignalName, clone_signals
from api.compliance.detection.thresholds import ThresholdError, Thresholds

DAY = 86_400
SC, GD, SZ = "rg-sc", "rg-gd", "rg-sz"
PARTIES = {
    p.party_id: p
    for p in [
        PartyInfo("hq", "hq"),
        PartyInfo("wh", "warehouse", admin_code="520100"),
        PartyInfo("dl-a", "dealer", "dl-a", SC, "510104"),
        PartyInfo("dl-b", "dealer", "dl-b", GD, "440106"),
        PartyInfo("dl-c", "dealer", "dl-c", SC, "510107"),
        PartyInfo("st-a", "store", "dl-a", SC, "510105"),
        PartyInfo("st-b", "store", "dl-b", GD, "440104"),
        PartyInfo("st-z", "store", "dl-z", SZ, "440304"),
    ]
}
TERRITORY = Territory(
    {"510000": SC, "440000": GD, "440300": SZ},
    {"dl-a": frozenset({SC}), "dl-b": frozenset({GD}), "dl-c": frozenset({SC, SZ})},
)
CHENGDU = "510104"
GUANGZHOU = "440104"
SHENZHEN = "440304"
DEVICES = [bytes([n]) * 32 for n in range(20)]


def move(kind: MovementKind, party: str, at: int, sender: str | None = None) -> Movement:
    return Movement("case-1", "06901234567892", at, kind, party, f"e-{kind}-{party}-{at}", sender)


def allotted_to(dealer: str, at: int = 0) -> list[Movement]:
    return [
        move(MovementKind.SHIPPED, dealer, at, "wh"),
        move(MovementKind.RECEIVED, dealer, at + DAY, "wh"),
    ]


def scan(
    n: int, at: int, place: str | None, device: int, lat: float = 0, lon: float = 0
) -> ScanPoint:
    return ScanPoint(n, at, DEVICES[device], place, round(lat * 1e6), round(lon * 1e6))


def detector(*moves: Movement, th: Thresholds | None = None) -> Detector:
    d = Detector(PARTIES, TERRITORY, th or Thresholds())
    d.add_movements(moves)
    return d


def test_territory_uses_the_most_specific_area() -> None:
    assert TERRITORY.region_of(SHENZHEN) == SZ
    assert TERRITORY.region_of(GUANGZHOU) == GD
    assert TERRITORY.region_of("110101") is None
    assert TERRITORY.authorizes("dl-c", SHENZHEN)
    assert not TERRITORY.authorizes("dl-b", SHENZHEN)
    assert not TERRITORY.authorizes("nobody", CHENGDU)


def test_a_case_sold_inside_the_region_raises_nothing() -> None:
    d = detector(
        *allotted_to("dl-a"),
        move(MovementKind.SHIPPED, "st-a", 3 * DAY, "dl-a"),
        move(MovementKind.RECEIVED, "st-a", 4 * DAY, "dl-a"),
        move(MovementKind.OPENED, "st-a", 5 * DAY),
    )
    d.add_code_scans("b1", "case-1", [scan(1, 6 * DAY, CHENGDU, 1)])
    assert d.findings() == []
    assert d.timelines["case-1"][0].allocation.dealer_id == "dl-a"


@pytest.mark.parametrize(
    ("kind", "signal"),
    [
        (MovementKind.SCANNED_IN, SignalName.INBOUND_SCAN_OUTSIDE),
        (MovementKind.OPENED, SignalName.OPENED_OUTSIDE),
        (MovementKind.RECEIVED, SignalName.TRANSFER_OUTSIDE),
    ],
)
def test_one_ledger_fact_outside_the_region_is_a_strong_alert(
    kind: MovementKind, signal: SignalName
) -> None:
    d = detector(*allotted_to("dl-a"), move(kind, "st-b", 5 * DAY, "dl-a"))
    [finding] = d.findings()
    assert (finding.kind, finding.strength, finding.dealer_id, finding.code) == (
        "diversion",
        "strong",
        "dl-a",
        "case-1",
    )
    assert [s.name for s in finding.signals] == [signal]
    assert finding.place == GUANGZHOU
    assert finding.score == Thresholds().strong_points


def test_shipped_and_received_by_the_same_foreign_party_is_one_signal_with_both_entries() -> None:
    d = detector(
        *allotted_to("dl-a"),
        move(MovementKind.SHIPPED, "dl-b", 5 * DAY, "dl-a"),
        move(MovementKind.RECEIVED, "dl-b", 6 * DAY, "dl-a"),
    )
    [finding] = d.findings()
    [signal] = finding.signals
    assert signal.name is SignalName.TRANSFER_OUTSIDE and len(signal.entry_ids) == 2
    assert finding.score == 100


def test_a_dealer_authorized_for_two_regions_sells_in_both() -> None:
    d = detector(*allotted_to("dl-c"), move(MovementKind.OPENED, "st-z", 5 * DAY))
    assert d.findings() == []


def test_a_return_ends_the_allocation_and_the_next_dealer_answers_for_the_case() -> None:
    d = detector(
        *allotted_to("dl-a"),
        move(MovementKind.SHIPPED, "wh", 5 * DAY, "dl-a"),
        move(MovementKind.RECEIVED, "wh", 6 * DAY, "dl-a"),
        *allotted_to("dl-b", 10 * DAY),
        move(MovementKind.OPENED, "st-b", 15 * DAY),
    )
    assert d.findings() == []
    assert d.allocation_at("case-1", 7 * DAY) is None
    assert d.allocation_at("case-1", 12 * DAY).dealer_id == "dl-b"  # type: ignore[union-attr]
    d.add_code_scans("b1", "case-1", [scan(1, 3 * DAY, GUANGZHOU, 1)])
    d.add_code_scans("b2", "case-1", [scan(2, 3 * DAY, GUANGZHOU, 2)])
    d.add_code_scans("b3", "case-1", [scan(3, 3 * DAY, GUANGZHOU, 3)])
    [finding] = d.findings()  # while dl-a held it, three consumers scanned it in Guangzhou
    assert finding.dealer_id == "dl-a" and finding.strength == "weak"


def test_weak_points_grow_with_the_square_of_consumers_in_one_foreign_city() -> None:
    th = Thresholds()
    assert [th.weak_points(k) for k in (1, 2, 3)] == [12, 48, 108]
    d = detector(*allotted_to("dl-a"))
    d.add_code_scans("b1", "case-1", [scan(1, 3 * DAY, GUANGZHOU, 1)])
    d.add_code_scans("b2", "case-1", [scan(2, 4 * DAY, GUANGZHOU, 2)])
    assert d.findings() == []  # two travellers
    d.add_code_scans("b3", "case-1", [scan(3, 5 * DAY, GUANGZHOU, 3)])
    [finding] = d.findings()
    [signal] = finding.signals
    assert (signal.name, signal.count, signal.points, signal.place) == (
        SignalName.CONSUMER_SCANS_OUTSIDE,
        3,
        108,
        "440100",
    )
    assert [o.code for o in signal.observations] == ["b1", "b2", "b3"]


def test_one_traveller_scanning_several_bottles_is_one_consumer() -> None:
    d = detector(*allotted_to("dl-a"))
    for n in range(6):
        d.add_code_scans(f"b{n}", "case-1", [scan(n, 3 * DAY + n, GUANGZHOU, 1)])
    assert d.findings() == []


def test_single_bottles_in_different_cities_stay_below_the_alert() -> None:
    d = detector(*allotted_to("dl-a"))
    for n, place in enumerate(["440104", "110101", "310101", "330106"]):
        d.add_code_scans(f"b{n}", "case-1", [scan(n, 3 * DAY, place, n)])
    assert d.findings() == []
    assert d.signal_counts()["consumer_scans_outside"] == 4


def test_scans_before_allocation_or_without_place_do_not_count() -> None:
    d = detector(*allotted_to("dl-a", 10 * DAY))
    for n in range(4):
        d.add_code_scans(f"b{n}", "case-1", [scan(n, DAY, GUANGZHOU, n)])
        d.add_code_scans(f"c{n}", "case-1", [scan(10 + n, 20 * DAY, None, 10 + n)])
    assert d.findings() == []


def test_too_many_devices_is_a_clone_and_does_not_count_against_the_dealer() -> None:
    d = detector(*allotted_to("dl-a"))
    scans = [scan(n, 3 * DAY + n * DAY, GUANGZHOU, n) for n in range(6)]
    d.add_code_scans("b1", "case-1", scans)
    [finding] = d.findings()
    assert (finding.kind, finding.strength, finding.code) == ("clone", "clone", "b1")
    [signal] = finding.signals
    assert signal.name is SignalName.TOO_MANY_DEVICES and signal.count == 6
    assert signal.at == scans[5].at
    d2 = detector(*allotted_to("dl-a"))
    d2.add_code_scans("b1", "case-1", scans[:5])
    assert d2.findings() == []


def test_impossible_travel() -> None:
    th = Thresholds()
    chengdu = scan(1, 0, CHENGDU, 1, 30.66, 104.08)
    beijing_soon = scan(2, 3600, "110101", 2, 39.92, 116.40)  # 1,500 km in an hour
    beijing_later = scan(2, 3 * 3600, "110101", 2, 39.92, 116.40)  # by plane: possible
    [signal] = clone_signals("b1", [chengdu, beijing_soon], th)
    assert signal.name is SignalName.IMPOSSIBLE_TRAVEL and signal.count > 1400
    assert clone_signals("b1", [chengdu, beijing_later], th) == []
    nearby = scan(3, 60, "510107", 3, 30.64, 104.04)  # same city, a minute later
    assert clone_signals("b1", [chengdu, nearby], th) == []


def test_thresholds_are_positive_integers() -> None:
    with pytest.raises(ThresholdError, match="max_devices"):
        Thresholds(max_devices=0)
    with pytest.raises(ThresholdError, match="bottle_points"):
        Thresholds(bottle_points=1.5)  # type: ignore[arg-type]
    lenient = Thresholds(alert_score=200)
    d = detector(*allotted_to("dl-a"), move(MovementKind.OPENED, "st-b", 5 * DAY), th=lenient)
    assert d.findings() == []
