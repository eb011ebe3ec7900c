"""Regions, dealers, stores and warehouses: the rules of where each may be."""

from __future__ import annotations

import pytest

from api.channel.admin_codes import AdminCodeError, check_admin_code, enclosing
from api.channel.geo import distance_m
from tests.api.channel.world import World


def location(admin_code: str = "510104", lat: int = 30_657_000, lon: int = 104_081_000) -> dict:
    return {"admin_code": admin_code, "address": "红星路1号", "lat_e6": lat, "lon_e6": lon}


def test_admin_codes_are_checked() -> None:
    assert check_admin_code("510104") == "510104"
    assert enclosing("510104") == ["510104", "510100", "510000"]
    assert enclosing("510000") == ["510000"]
    for bad in ["51010", "5101045", "990000", "abc123", "510001", "010000"]:
        with pytest.raises(AdminCodeError):
            check_admin_code(bad)


def test_great_circle_distance() -> None:
    # Chengdu to Guiyang is about 520 km as the crow flies; Beijing–Shanghai about 1,068 km.
    assert 500_000 < distance_m(30_572_800, 104_066_800, 26_647_000, 106_630_200) < 540_000
    assert 1_060_000 < distance_m(39_904_200, 116_407_400, 31_230_400, 121_473_700) < 1_075_000
    assert distance_m(1, 2, 1, 2) == 0


def test_regions_own_their_areas_exclusively(world: World) -> None:
    r = world.post("hq", "/v1/regions", {"code": "R-X", "name": "x", "admin_codes": ["510000"]})
    assert r.status_code == 409 and "510000" in r.json()["error"]["message"]
    r = world.post("hq", "/v1/regions", {"code": "R-Y", "name": "y", "admin_codes": ["510104"]})
    assert r.status_code == 422 and "provinces and cities" in r.json()["error"]["message"]
    r = world.post("hq", "/v1/regions", {"code": "R-Z", "name": "z", "admin_codes": ["999999"]})
    assert r.status_code == 422
    r = world.post("hq", "/v1/regions", {"code": "R-CQ", "name": "重庆", "admin_codes": ["500000"]})
    assert r.status_code == 201 and r.json()["admin_codes"] == ["500000"]
    assert (
        world.post(
            "rm_sc", "/v1/regions", {"code": "R-Q", "name": "q", "admin_codes": ["530000"]}
        ).status_code
        == 403
    )
    listed = world.get("clerk_a1", "/v1/regions").json()
    assert {x["code"] for x in listed} == {"R-SC", "R-GZ", "R-GD", "R-SZ", "R-CQ"}


def test_the_most_specific_area_decides_the_region(world: World) -> None:
    # 深圳 (440300) is its own region inside 广东 (440000).
    body = {
        "code": "D-SZ",
        "name": "深圳经销商",
        "region_id": world.ids["R-SZ"],
        "tier": "gold",
        "credit_limit_fen": 1_000_000,
        "location": location("440305", 22_533_000, 113_930_000),
    }
    assert world.post("hq", "/v1/dealers", body).status_code == 201
    body |= {"code": "D-SZ2", "location": location("440106", 23_125_000, 113_361_000)}
    r = world.post("hq", "/v1/dealers", body)
    assert r.status_code == 422 and "outside the dealer's authorized regions" in r.text


def test_dealers_are_created_in_their_managers_region(world: World) -> None:
    body = {
        "code": "D-C",
        "name": "绵阳经销商",
        "region_id": world.ids["R-SC"],
        "tier": "silver",
        "credit_limit_fen": 5_000_000,
        "location": location("510700", 31_467_000, 104_679_000),
    }
    assert world.post("rm_gd", "/v1/dealers", body).status_code == 403
    made = world.post("rm_sc", "/v1/dealers", body)
    assert made.status_code == 201, made.text
    out = made.json()
    assert out["authorized_region_ids"] == [world.ids["R-SC"]] and out["share_permille"] is None
    wider = body | {"code": "D-D", "authorized_region_ids": [world.ids["R-GZ"]]}
    assert world.post("rm_sc", "/v1/dealers", wider).status_code == 403
    assert world.post("hq", "/v1/dealers", body).status_code == 409  # code taken
    assert world.post("staff_a", "/v1/dealers", body | {"code": "D-E"}).status_code == 403
    bad = body | {"code": "D-F", "credit_limit_fen": -1}
    assert world.post("hq", "/v1/dealers", bad).status_code == 422
    bad = body | {"code": "D-G", "location": location(lat=91_000_000)}
    assert world.post("hq", "/v1/dealers", bad).status_code == 422


def test_only_hq_changes_terms(world: World) -> None:
    path = f"/v1/dealers/{world.ids['D-A']}"
    assert world.patch("rm_sc", path, {"credit_limit_fen": 1}).status_code == 403
    assert world.patch("staff_a", path, {"tier": "platinum"}).status_code == 403
    assert world.patch("rm_sc", path, {"name": "新名字"}).json()["name"] == "新名字"
    r = world.patch("hq", path, {"tier": "silver", "authorized_region_ids": [world.ids["R-GZ"]]})
    assert r.json()["tier"] == "silver"
    assert set(r.json()["authorized_region_ids"]) == {world.ids["R-SC"], world.ids["R-GZ"]}


def test_a_null_in_a_dealer_patch_is_refused_by_name(world: World) -> None:
    path = f"/v1/dealers/{world.ids['D-A']}"
    r = world.patch("hq", path, {"name": None, "share_permille": 40})
    assert r.status_code == 422, r.text  # used to write NULL into a NOT NULL column: a 500
    assert "name cannot be null" in r.json()["error"]["message"]
    assert world.patch("hq", path, {"tier": None}).status_code == 422
    kept = world.get("hq", path).json()
    assert kept["name"] and kept["share_permille"] != 40  # nothing of the refused patch landed


def test_stores_lie_in_their_dealers_regions(world: World) -> None:
    path = f"/v1/dealers/{world.ids['D-A']}/stores"
    body = {"code": "S-A9", "name": "宽窄巷子店", "location": location("510105")}
    assert world.post("staff_b", path, body).status_code == 403
    assert world.post("clerk_a1", path, body).status_code == 403
    made = world.post("staff_a", path, body)
    assert made.status_code == 201 and made.json()["region_id"] == world.ids["R-SC"]
    far = body | {"code": "S-A10", "location": location("440104", 23_129_000, 113_264_000)}
    r = world.post("staff_a", path, far)
    assert r.status_code == 422 and "outside dealer D-A's regions" in r.json()["error"]["message"]


def test_lists_show_only_what_is_in_scope(world: World) -> None:
    def codes(who: str, path: str) -> set[str]:
        r = world.get(who, path)
        assert r.status_code == 200, r.text
        return {x["code"] for x in r.json()}

    assert codes("hq", "/v1/dealers") == {"D-A", "D-B"}
    assert codes("compliance", "/v1/stores") == {"S-A1", "S-A2", "S-B1"}
    assert codes("rm_sc", "/v1/dealers") == {"D-A"}
    assert codes("rm_sc", "/v1/stores") == {"S-A1", "S-A2"}
    assert codes("staff_b", "/v1/stores") == {"S-B1"}
    assert codes("staff_b", f"/v1/stores?dealer_id={world.ids['D-A']}") == set()
    assert codes("clerk_a1", "/v1/stores") == {"S-A1"}
    assert codes("clerk_a1", "/v1/dealers") == set()
    assert codes("staff_a", "/v1/warehouses") == {"WH-D-A"}
    assert codes("staff_a", "/v1/warehouses?owner=hq") == {"WH-CENTRAL", "WH-CD", "WH-GZ"}
    assert codes("device_a", "/v1/warehouses") == {"WH-D-A"}
    assert world.get("writer", "/v1/dealers").status_code == 403


def test_warehouses(world: World) -> None:
    body = {"code": "WH-X", "name": "x", "kind": "regional", "location": location()}
    assert world.post("staff_a", "/v1/warehouses", body).status_code == 403
    r = world.post("hq", "/v1/warehouses", body)
    assert r.status_code == 201 and r.json()["region_id"] == world.ids["R-SC"]
    assert r.json()["owner_id"] == world.ids["hq"]
    nowhere = body | {"code": "WH-Y", "location": location("530100", 25_038_900, 102_718_300)}
    assert world.post("hq", "/v1/warehouses", nowhere).status_code == 422
    own = body | {"code": "WH-A2", "kind": "dealer", "dealer_id": world.ids["D-A"]}
    made = world.post("staff_a", "/v1/warehouses", own)
    assert made.status_code == 201 and made.json()["owner_id"] == world.ids["D-A"]
    other = own | {"code": "WH-B2", "dealer_id": world.ids["D-B"]}
    assert world.post("staff_a", "/v1/warehouses", other).status_code == 403
