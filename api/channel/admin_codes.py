"""GB/T 2260 administrative division codes: the province-level table and code arithmetic.

A code is six digits: province (2), prefecture-level city (2), county (2); ``510000`` is
Sichuan, ``510100`` Chengdu, ``510104`` Jinjiang district. Only the province level is checked
against a table here (it is fixed); finer codes are checked for shape and for a known
province, since the county list changes every year.
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Province(NamedTuple):
    name: str
    capital: str
    lat_e6: int  # the capital's coordinates, micro-degrees (WGS-84)
    lon_e6: int


PROVINCES: dict[str, Province] = {
    "110000": Province("北京市", "北京", 39_904_200, 116_407_400),
    "120000": Province("天津市", "天津", 39_343_400, 117_361_600),
    "130000": Province("河北省", "石家庄", 38_042_800, 114_514_900),
    "140000": Province("山西省", "太原", 37_870_600, 112_548_900),
    "150000": Province("内蒙古自治区", "呼和浩特", 40_842_400, 111_749_200),
    "210000": Province("辽宁省", "沈阳", 41_805_700, 123_431_500),
    "220000": Province("吉林省", "长春", 43_817_100, 125_323_500),
    "230000": Province("黑龙江省", "哈尔滨", 45_803_800, 126_535_000),
    "310000": Province("上海市", "上海", 31_230_400, 121_473_700),
    "320000": Province("江苏省", "南京", 32_060_300, 118_796_900),
    "330000": Province("浙江省", "杭州", 30_274_100, 120_155_100),
    "340000": Province("安徽省", "合肥", 31_820_600, 117_227_200),
    "350000": Province("福建省", "福州", 26_074_500, 119_296_500),
    "360000": Province("江西省", "南昌", 28_682_000, 115_857_900),
    "370000": Province("山东省", "济南", 36_651_200, 117_120_100),
    "410000": Province("河南省", "郑州", 34_746_600, 113_625_400),
    "420000": Province("湖北省", "武汉", 30_592_800, 114_305_500),
    "430000": Province("湖南省", "长沙", 28_228_200, 112_938_800),
    "440000": Province("广东省", "广州", 23_129_100, 113_264_400),
    "450000": Province("广西壮族自治区", "南宁", 22_817_000, 108_366_500),
    "460000": Province("海南省", "海口", 20_044_000, 110_199_900),
    "500000": Province("重庆市", "重庆", 29_563_000, 106_551_600),
    "510000": Province("四川省", "成都", 30_572_800, 104_066_800),
    "520000": Province("贵州省", "贵阳", 26_647_000, 106_630_200),
    "530000": Province("云南省", "昆明", 25_038_900, 102_718_300),
    "540000": Province("西藏自治区", "拉萨", 29_652_000, 91_172_100),
    "610000": Province("陕西省", "西安", 34_341_600, 108_939_800),
    "620000": Province("甘肃省", "兰州", 36_061_100, 103_834_300),
    "630000": Province("青海省", "西宁", 36_617_100, 101_778_200),
    "640000": Province("宁夏回族自治区", "银川", 38_487_200, 106_230_900),
    "650000": Province("新疆维吾尔自治区", "乌鲁木齐", 43_825_600, 87_616_800),
    "710000": Province("台湾省", "台北", 25_033_000, 121_565_400),
    "810000": Province("香港特别行政区", "香港", 22_319_300, 114_169_400),
    "820000": Province("澳门特别行政区", "澳门", 22_198_700, 113_543_900),
}

_SHAPE = re.compile(r"^[1-8]\d{5}$")


class AdminCodeError(ValueError):
    """Raised with a message a person can act on."""


def check_admin_code(code: str) -> str:
    """Return ``code`` if it is a well-formed GB/T 2260 code of a known province."""
    if not _SHAPE.match(code):
        raise AdminCodeError(f"admin code {code!r} is not a six-digit GB/T 2260 code")
    if province_of(code) not in PROVINCES:
        raise AdminCodeError(f"admin code {code!r}: no province {code[:2]}0000 in GB/T 2260")
    if code[2:4] == "00" and code[4:] != "00":
        raise AdminCodeError(f"admin code {code!r}: a county code needs a city part")
    return code


def province_of(code: str) -> str:
    return code[:2] + "0000"


def city_of(code: str) -> str:
    return code[:4] + "00"


def enclosing(code: str) -> list[str]:
    """``code`` and the divisions containing it, most specific first (no duplicates)."""
    out: list[str] = []
    for c in (code, city_of(code), province_of(code)):
        if c not in out:
            out.append(c)
    return out


def is_area_code(code: str) -> bool:
    """Regions are made of provinces and prefecture-level cities, not counties."""
    return code[4:] == "00"
