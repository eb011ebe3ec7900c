"""The demo's region names: provinces as people say them."""

from __future__ import annotations

import pytest

from api.channel.admin_codes import PROVINCES
from api.channel.demo import short_name


@pytest.mark.parametrize(
    ("full", "short"),
    [
        ("黑龙江省", "黑龙江"),
        ("内蒙古自治区", "内蒙古"),
        ("广西壮族自治区", "广西"),
        ("新疆维吾尔自治区", "新疆"),
        ("宁夏回族自治区", "宁夏"),
        ("西藏自治区", "西藏"),
        ("北京市", "北京"),
        ("香港特别行政区", "香港"),
        ("四川省", "四川"),
    ],
)
def test_a_province_is_named_without_its_suffix(full: str, short: str) -> None:
    assert short_name(full) == short


def test_every_province_keeps_a_name_of_its_own() -> None:
    names = [short_name(p.name) for p in PROVINCES.values()]
    assert len(set(names)) == len(names) and all(len(n) >= 2 for n in names)
