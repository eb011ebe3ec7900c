"""Whatever a body of readings holds, parsing it either yields readings or refuses it with a
4xx error that names the problem — never an exception the server would answer with a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from api.errors import AppError
from api.trace.storage.service import parse_readings

NDJSON = "application/x-ndjson"
CSV = "text/csv"
_FIELDS = ("sensor", "at", "temp_c", "rh")

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.sampled_from(
        [
            "2026-11-25T10:00:00+08:00",
            "0001-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59-01:00",
            "2026-11-25T10:00:00",
            "1e999999999",
            "-0",
            "NaN",
            "Infinity",
            "16.255",
        ]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_readings = st.dictionaries(
    st.sampled_from(_FIELDS) | st.text(max_size=6), _json_values, max_size=5
)


def _outcome(raw: bytes, media: str) -> None:
    try:
        parsed = parse_readings(raw, media)
    except AppError as exc:
        assert 400 <= exc.status_code < 500, exc
        assert exc.message
    else:
        assert parsed


@given(st.lists(_readings | _json_values, min_size=0, max_size=4))
@example([{"sensor": "S-1", "at": "0001-01-01T00:00:00+01:00", "temp_c": 16, "rh": 60}])
@example([{"sensor": "S-1", "at": "9999-12-31T23:59:59-01:00", "temp_c": 16, "rh": 60}])
@settings(max_examples=300, deadline=None)
def test_json_lines_parse_or_are_refused(lines: list[Any]) -> None:
    body = "\n".join(json.dumps(line, allow_nan=True) for line in lines)
    _outcome(body.encode(), NDJSON)


@given(st.lists(st.lists(st.text(max_size=30), max_size=5), max_size=4), st.booleans())
@settings(max_examples=300, deadline=None)
def test_csv_rows_parse_or_are_refused(rows: list[list[str]], header: bool) -> None:
    lines = ([",".join(_FIELDS)] if header else []) + [
        ",".join(json.dumps(cell) for cell in row) for row in rows
    ]
    _outcome("\n".join(lines).encode(), CSV)


@given(st.binary(max_size=200), st.sampled_from([NDJSON, CSV]))
@settings(max_examples=300, deadline=None)
def test_any_bytes_parse_or_are_refused(raw: bytes, media: str) -> None:
    _outcome(raw, media)


@pytest.mark.parametrize(
    ("raw", "media"),
    [
        pytest.param(b"[" * 100_000 + b"\n", NDJSON, id="nested-beyond-recursion"),
        pytest.param(
            b"sensor,at,temp_c,rh\nS-1," + b"x" * 200_000 + b",16,60\n", CSV, id="huge-field"
        ),
        pytest.param(b"sensor,at,temp_c,rh\nS-1,\x00,16,60\n", CSV, id="nul"),
        pytest.param(b'sensor,at,temp_c,rh\n"S-1,2026', CSV, id="unclosed-quote"),
    ],
)
def test_malformed_bodies_are_refused(raw: bytes, media: str) -> None:
    with pytest.raises(AppError) as refused:
        parse_readings(raw, media)
    assert refused.value.status_code == 422


@pytest.mark.parametrize(
    ("raw", "media", "named"),
    [
        pytest.param(
            b'{"sensor":"\\ud800","at":"2026-11-25T10:00:00Z","temp_c":18,"rh":60}\n',
            NDJSON,
            "line 1: the sensor id holds U+D800",
            id="lone-surrogate",
        ),
        pytest.param(
            b'{"sensor":"S-\\u0000","at":"2026-11-25T10:00:00Z","temp_c":18,"rh":60}\n',
            NDJSON,
            "line 1: the sensor id holds a NUL",
            id="nul-in-sensor",
        ),
        pytest.param(
            b"sensor,at,temp_c,rh\nS-1,2026-11-25T10:00:00Z,18,60,extra\n",
            CSV,
            "line 2: more cells than the header's four columns",
            id="extra-cell",
        ),
        pytest.param(
            b"sensor,at,temp_c,rh\nS-1,2026-11-25T10:00:00Z,18\n",
            CSV,
            "line 2: fewer cells than the header's four columns",
            id="short-row",
        ),
    ],
)
def test_the_refusal_names_what_to_fix(raw: bytes, media: str, named: str) -> None:
    with pytest.raises(AppError) as refused:
        parse_readings(raw, media)
    assert refused.value.status_code == 422
    assert named in refused.value.message


@pytest.mark.parametrize(
    ("text", "media"),
    [
        ("sensor,at,temp_c,rh\nS-1,2026-11-25T10:00:00Z,18,60\n", CSV),
        ('{"sensor":"S-1","at":"2026-11-25T10:00:00Z","temp_c":18,"rh":60}\n', NDJSON),
    ],
)
def test_a_byte_order_mark_before_the_readings_is_not_part_of_them(text: str, media: str) -> None:
    (reading,) = parse_readings(("\ufeff" + text).encode(), media)
    assert reading.sensor == "S-1" and reading.temp_centi == 1800
