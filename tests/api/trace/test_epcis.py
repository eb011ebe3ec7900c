"""The EPCIS 2.0 export validates against GS1's JSON schema, URI formats checked."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fastapi.testclient import TestClient

from tests.api.trace.conftest import make_history, ok

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "assets/epcis2/EPCIS-JSON-Schema.json").read_text()
)


def validator() -> jsonschema.Draft7Validator:
    checker = jsonschema.FormatChecker()
    # Without rfc3987 the "uri" format is not checked at all; insist that it is.
    assert "uri" in checker.checkers, "install rfc3987 so that URIs are validated"
    return jsonschema.Draft7Validator(SCHEMA, format_checker=checker)


def test_code_and_lot_exports_validate(admin: TestClient) -> None:
    h = make_history(admin)
    ok(admin.post("/v1/codes/unpack", json={"case": h.cases[1], "bottles": h.bottles[6:8]}))
    ok(
        admin.post(
            "/v1/codes/custody",
            json={"event": "shipped", "codes": [h.cases[0]], "region": "四川 成都"},
        )
    )
    v = validator()
    doc = ok(admin.get("/v1/epcis/events", params={"code": h.bottles[0]}))
    v.validate(doc)
    steps = [(e["type"], e.get("bizStep")) for e in doc["epcisBody"]["eventList"]]
    assert steps == [
        ("TransformationEvent", "creating_class_instance"),
        ("TransformationEvent", "creating_class_instance"),
        ("ObjectEvent", "commissioning"),
        ("AggregationEvent", "packing"),
        ("ObjectEvent", "shipping"),
    ]
    packing = doc["epcisBody"]["eventList"][3]
    assert packing["parentID"] == h.cases[0] and packing["childEPCs"] == [h.bottles[0]]
    lot = ok(admin.get("/v1/epcis/events", params={"batch": h.lot}))
    v.validate(lot)
    kinds = [e.get("bizStep") for e in lot["epcisBody"]["eventList"]]
    assert kinds.count("packing") == 2 and kinds.count("unpacking") == 1


def test_the_schema_check_is_not_toothless(admin: TestClient) -> None:
    h = make_history(admin, bottles=6)
    doc: dict[str, Any] = ok(admin.get("/v1/epcis/events", params={"code": h.bottles[0]}))
    v = validator()
    bad = copy.deepcopy(doc)
    bad["epcisBody"]["eventList"][2]["bizStep"] = "blending"  # not CBV, not a URI
    with pytest.raises(jsonschema.ValidationError):
        v.validate(bad)
    bad = copy.deepcopy(doc)
    bad["epcisBody"]["eventList"][2]["epcList"] = ["not a uri"]
    with pytest.raises(jsonschema.ValidationError):
        v.validate(bad)
    assert admin.get("/v1/epcis/events").status_code == 422
