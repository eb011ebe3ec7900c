"""Storage conditions: bulk readings, sealed hours with Merkle roots, excursions, proofs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.api.trace.conftest import make_history, ok
from tests.api.trace.test_production_dates import _base_liquor
from tests.api.trace.test_resolver import lookup, settle, verify_everything

ZONE = {
    "zone_id": "GY-WH-A",
    "warehouse": "HQ-GUIYANG",
    "name": "贵阳成品库 A 区",
    "kind": "warehouse",
    "region": "贵州 贵阳",
    "temp_c": {"min": "10", "max": "25"},
    "rh": {"min": "50", "max": "80"},
}


def readings(start: datetime, hours: int, hot_hour: int | None = None) -> str:
    lines = []
    for h in range(hours):
        for m in range(0, 60, 10):
            at = start + timedelta(hours=h, minutes=m)
            temp = "27.35" if h == hot_hour and m == 20 else f"{16 + (m % 3) / 10:.2f}"
            for sensor in ("S-A-1", "S-A-2"):
                lines.append(
                    f'{{"sensor":"{sensor}","at":"{at.isoformat()}","temp_c":"{temp}","rh":"65.5"}}'
                )
    return "\n".join(lines) + "\n"


def test_readings_seal_into_hours_and_show_in_provenance(admin: TestClient) -> None:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    h = make_history(admin, at=(start - timedelta(hours=1)).isoformat())
    ok(admin.post("/v1/storage/zones", json=ZONE), 201)
    for sensor in ("S-A-1", "S-A-2"):
        ok(admin.post("/v1/storage/sensors", json={"sensor_id": sensor, "zone_id": "GY-WH-A"}), 201)
    # The case goes into the zone; three hours of readings follow, one hour too warm.
    stored = {
        "event": "stored",
        "codes": [h.cases[0]],
        "location": "GY-WH-A",
        "at": start.isoformat(),
    }
    ok(admin.post("/v1/codes/custody", json=stored))
    body = readings(start, 3, hot_hour=1)
    headers = {"Content-Type": "application/x-ndjson"}
    result = ok(admin.post("/v1/storage/readings", content=body, headers=headers))
    assert result == {"accepted": 36, "duplicates": 0, "sealed_hours": 3, "excursions": 1}
    again = ok(admin.post("/v1/storage/readings", content=body, headers=headers))
    assert again["accepted"] == 0 and again["duplicates"] == 36
    changed = body.replace('"65.5"', '"66.0"', 1)
    conflict = admin.post("/v1/storage/readings", content=changed, headers=headers)
    assert conflict.status_code == 409 and "never changed" in conflict.json()["error"]["message"]
    # CSV, and a late reading for a sealed hour: sealed as a second part of that hour.
    late = (start + timedelta(minutes=5)).isoformat()
    csv = f"sensor,at,temp_c,rh\nS-A-1,{late},16.1,64.0\n"
    late_result = ok(
        admin.post("/v1/storage/readings", content=csv, headers={"Content-Type": "text/csv"})
    )
    assert late_result["accepted"] == 1 and late_result["sealed_hours"] == 1
    settle(admin)
    bottle = ok(lookup(admin, h.bottles[0]))
    leg = next(leg for leg in bottle["storage"] if leg["zone"] == "GY-WH-A")
    assert leg["readings"] == 37 and leg["hours"] == 4
    assert leg["temperature_c"]["max"] == "27.35"
    (excursion,) = leg["excursions"]
    assert excursion["metric"] == "temperature" and excursion["direction"] == "above"
    assert excursion["peak"] == "27.35" and excursion["limit"] == "25.00"
    assert bottle["entries"][excursion["entry"]]["kind"] == "trace.storage.hour"
    assert [s["event"] for s in bottle["custody"]] == ["commissioned", "packed", "stored"]
    verify_everything(bottle)
    # Any raw reading is provable on its own.
    proof = ok(admin.get("/v1/storage/readings/5/proof"))
    assert proof["status"] == "proven"
    verify_everything({"checkpoint": proof["checkpoint"], "entries": [proof["entry"]]})


def test_bad_readings_are_refused_whole(admin: TestClient) -> None:
    ok(admin.post("/v1/storage/zones", json=ZONE), 201)
    ok(admin.post("/v1/storage/sensors", json={"sensor_id": "S-A-1", "zone_id": "GY-WH-A"}), 201)
    headers = {"Content-Type": "application/x-ndjson"}
    cases = {
        '{"sensor":"S-A-1","at":"2026-01-01T00:00:00","temp_c":"16","rh":"60"}': "no UTC offset",
        '{"sensor":"S-X","at":"2026-01-01T00:00:00Z","temp_c":"16","rh":"60"}': "unknown sensor",
        '{"sensor":"S-A-1","at":"2026-01-01T00:00:00Z","temp_c":"16","rh":"160"}': "0–100",
        '{"sensor":"S-A-1","at":"2026-01-01T00:00:00Z","temp_c":"16"}': "missing 'rh'",
        "not json": "not JSON",
        '{"sensor":"S-A-1","at":"0001-01-01T00:00:00+01:00","temp_c":"16","rh":"60"}': (
            "outside the calendar"
        ),
        "[" * 100_000: "nested too deep",
    }
    for line, words in cases.items():
        response = admin.post("/v1/storage/readings", content=line + "\n", headers=headers)
        assert response.status_code == 422, response.text
        assert words in response.json()["error"]["message"]
    wrong = admin.post("/v1/storage/readings", content="x", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415


def test_a_reading_id_beyond_the_database_is_refused(admin: TestClient) -> None:
    r = admin.get(f"/v1/storage/readings/{2**64}/proof")
    assert r.status_code == 422, r.text
    assert admin.get("/v1/storage/readings/0/proof").status_code == 422
    assert admin.get(f"/v1/codes?after={2**63}").status_code == 422


def test_a_zone_band_out_of_reason_is_refused_and_not_registered(admin: TestClient) -> None:
    for temp, rh, named in (
        ({"min": "1e400", "max": "2e400"}, ZONE["rh"], "1E+400 °C is not plausible"),
        ({"min": -300, "max": 20}, ZONE["rh"], "-300 °C is not plausible"),
        ({"min": "NaN", "max": 20}, ZONE["rh"], "finite number"),
        ({"min": 5, "max": 20, "extra": 1}, ZONE["rh"], "Extra inputs are not permitted"),
        ({"min": 5}, ZONE["rh"], "max: Field required"),
        (ZONE["temp_c"], {"min": 40, "max": 140}, "140 %RH is outside 0–100"),
        ({"min": 20, "max": 20}, ZONE["rh"], "min < max"),
    ):
        r = admin.post("/v1/storage/zones", json={**ZONE, "temp_c": temp, "rh": rh})
        assert r.status_code == 422, r.text
        assert named in r.json()["error"]["message"], r.text
    assert admin.get(f"/v1/storage/zones/{ZONE['zone_id']}").status_code == 404
    ok(admin.post("/v1/storage/zones", json=ZONE), 201)


def test_a_base_liquor_in_a_zone_never_registered_is_refused(admin: TestClient) -> None:
    r = admin.post("/v1/base-liquors", json=_base_liquor("BL-Z-1", zone_id="NOPE"))
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "unknown_zone"
    assert "NOPE is not a registered storage zone" in r.json()["error"]["message"]
    assert admin.get("/v1/base-liquors/BL-Z-1").status_code == 404
    ok(admin.post("/v1/storage/zones", json=ZONE), 201)
    ok(admin.post("/v1/base-liquors", json=_base_liquor("BL-Z-1", zone_id=ZONE["zone_id"])), 201)


def test_storing_codes_without_a_location_says_the_zone_is_needed(admin: TestClient) -> None:
    h = make_history(admin, bottles=6)
    r = admin.post("/v1/codes/custody", json={"event": "stored", "codes": h.cases[:1]})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["message"] == (
        "a stored event needs a location: the id of the registered storage zone"
    )
