"""Coarse places for scans: a device's GPS position becomes the nearest large city.

Only the city and province are kept, never the position itself: scans need no more than that
for the public count and for the impossible-travel check. The table holds the provincial
capitals and other large cities of mainland China (centres to about 0.1°).
"""

from __future__ import annotations

from dataclasses import dataclass

from api.channel.geo import distance_m


@dataclass(frozen=True, slots=True)
class City:
    name: str
    province: str
    lat: float
    lon: float


CITIES: tuple[City, ...] = tuple(
    City(n, p, la, lo)
    for n, p, la, lo in (
        ("北京", "北京", 39.90, 116.40),
        ("天津", "天津", 39.13, 117.20),
        ("上海", "上海", 31.23, 121.47),
        ("重庆", "重庆", 29.56, 106.55),
        ("石家庄", "河北", 38.04, 114.51),
        ("太原", "山西", 37.87, 112.55),
        ("呼和浩特", "内蒙古", 40.84, 111.75),
        ("沈阳", "辽宁", 41.80, 123.43),
        ("大连", "辽宁", 38.91, 121.61),
        ("长春", "吉林", 43.82, 125.32),
        ("哈尔滨", "黑龙江", 45.80, 126.53),
        ("南京", "江苏", 32.06, 118.80),
        ("苏州", "江苏", 31.30, 120.58),
        ("杭州", "浙江", 30.27, 120.16),
        ("宁波", "浙江", 29.87, 121.54),
        ("合肥", "安徽", 31.82, 117.23),
        ("福州", "福建", 26.07, 119.30),
        ("厦门", "福建", 24.48, 118.09),
        ("南昌", "江西", 28.68, 115.86),
        ("济南", "山东", 36.65, 117.12),
        ("青岛", "山东", 36.07, 120.38),
        ("郑州", "河南", 34.75, 113.62),
        ("武汉", "湖北", 30.59, 114.31),
        ("长沙", "湖南", 28.23, 112.94),
        ("广州", "广东", 23.13, 113.26),
        ("深圳", "广东", 22.54, 114.06),
        ("南宁", "广西", 22.82, 108.37),
        ("海口", "海南", 20.04, 110.20),
        ("成都", "四川", 30.57, 104.07),
        ("宜宾", "四川", 28.77, 104.63),
        ("泸州", "四川", 28.87, 105.44),
        ("贵阳", "贵州", 26.65, 106.63),
        ("遵义", "贵州", 27.73, 106.93),
        ("仁怀", "贵州", 27.79, 106.40),
        ("昆明", "云南", 25.04, 102.71),
        ("拉萨", "西藏", 29.65, 91.14),
        ("西安", "陕西", 34.34, 108.94),
        ("兰州", "甘肃", 36.06, 103.83),
        ("西宁", "青海", 36.62, 101.78),
        ("银川", "宁夏", 38.49, 106.23),
        ("乌鲁木齐", "新疆", 43.83, 87.62),
    )
)

MAX_DISTANCE_KM = 250.0
"""Beyond this from every listed city, a position is kept as no place at all."""


def nearest_city(lat: float, lon: float) -> City | None:
    here = (round(lat * 1e6), round(lon * 1e6))

    def km(c: City) -> float:
        return distance_m(*here, round(c.lat * 1e6), round(c.lon * 1e6)) / 1000

    best = min(CITIES, key=km)
    return best if km(best) <= MAX_DISTANCE_KM else None
