"""The offline gazetteer: coordinates to GB/T 2260 places, names to places."""

from __future__ import annotations

import pytest

from api.compliance.geo.gazetteer import Division, Gazetteer, gazetteer, parse_divisions


def e6(value: float) -> int:
    return round(value * 1e6)


@pytest.mark.parametrize(
    ("lat", "lon", "county", "city", "province"),
    [
        (30.60, 104.11, "510104", "510100", "510000"),  # 成都 锦江, near its seat
        (39.93, 116.42, "110101", "110100", "110000"),  # 北京 东城
        (22.52, 114.05, "440304", "440300", "440000"),  # 深圳 福田
        (27.79, 106.40, "520382", "520300", "520000"),  # 仁怀, a county-level city
        (23.02, 113.75, "441900", "441900", "440000"),  # 东莞: a city without counties
    ],
)
def test_positions_land_in_their_county_city_and_province(
    lat: float, lon: float, county: str, city: str, province: str
) -> None:
    place = gazetteer().place_of(e6(lat), e6(lon))
    assert place is not None
    assert (place.county, place.city, place.province) == (county, city, province)


def test_positions_far_from_every_seat_have_no_place() -> None:
    assert gazetteer().place_of(e6(20.0), e6(130.0)) is None  # the open Pacific
    assert gazetteer().place_of(e6(48.85), e6(2.35)) is None  # Paris


def test_the_data_set_covers_every_province_and_most_counties() -> None:
    geo = gazetteer()
    provinces = {d.code for d in geo.divisions.values() if d.level == "province"}
    assert len(provinces) == 34
    assert sum(d.level == "county" for d in geo.divisions.values()) > 2600


def test_names_recorded_by_scans_resolve_to_places() -> None:
    geo = gazetteer()
    chengdu = geo.find_by_name("四川", "成都")
    assert chengdu is not None and chengdu.city == "510100"
    renhuai = geo.find_by_name("贵州", "仁怀")
    assert renhuai is not None and renhuai.county == "520382"
    assert geo.find_by_name("四川", "不存在") is None
    assert geo.find_by_name(None, None) is None


def test_rows_without_coordinates_or_with_odd_codes_are_left_out() -> None:
    text = (
        "adcode,name,longitude,latitude\n"
        "510104000000,锦江区,104.08,30.65\n"
        "710100000000,台北市,,\n"
        "99000000000X,苏鲁交界,1,1\n"
    )
    rows = parse_divisions(text)
    assert rows == [Division("510104", "锦江区", 30_650_000, 104_080_000)]
    assert Gazetteer(rows).place_of(30_650_000, 104_080_000) is not None
