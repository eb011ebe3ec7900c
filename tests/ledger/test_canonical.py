"""Tests of ledger.canonical: RFC 8785 known answers, the strict parser, and the entry fast path
checked against rfc8785 itself."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ledger.canonical import (
    MAX_SAFE_INTEGER,
    _check,
    _Invalid,
    canonical_json,
    canonical_member,
    canonical_object,
    entry_bytes,
    entry_prefix,
    format_ts,
    parse_json,
    parse_ts,
)
from ledger.errors import MalformedEntryError

TS = "2026-11-25T13:36:35.123456Z"

# --- known answers ---------------------------------------------------------------------------

# Float-free vectors from cyberphone/json-canonicalization testdata (the RFC 8785 author's
# reference set): input text, expected canonical text.
CYBERPHONE = [
    pytest.param(
        '{\n  "\\u20ac": "Euro Sign",\n  "1": "One",\n  "\\u0080": "Control\\u007f",\n'
        '  "\\ud83d\\ude02": "Smiley",\n  "\\u00f6": "Latin Small Letter O With Diaeresis",\n'
        '  "\\ufb33": "Hebrew Letter Dalet With Dagesh",\n'
        '  "</script>": "Browser Challenge"\n}\n',
        '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f602":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
        id="weird",
    ),
    pytest.param(
        '{\n  "peach": "This sorting order",\n  "p\u00e9ch\u00e9": "is wrong according to French",'
        '\n  "p\u00eache": "but canonicalization MUST",\n  "sin":   "ingnore locale"\n}\n',
        '{"peach":"This sorting order","p\u00e9ch\u00e9":"is wrong according to French",'
        '"p\u00eache":"but canonicalization MUST","sin":"ingnore locale"}',
        id="french",
    ),
    pytest.param(
        '{\n  "Unnormalized Unicode":"\\u1e0d\\u0307"\n}\n',
        '{"Unnormalized Unicode":"\u1e0d\u0307"}',
        id="unicode",
    ),
    pytest.param(
        '    "this is a test string 1235"',
        '"this is a test string 1235"',
        id="simpleString",
    ),
]


@pytest.mark.parametrize(("source", "expected"), CYBERPHONE)
def test_cyberphone_vectors(source: str, expected: str) -> None:
    assert canonical_json(parse_json(source.encode())) == expected.encode()


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # U+1F602 is D83D DE02 in UTF-16, so it sorts before U+E000..U+FFFF although its code
    # point is larger; Python's own str ordering (and UTF-8 byte order) would put it last.
    value = {"\uff61": 1, "\U0001f602": 2, "\ufb33": 3, "\ue000": 4}
    assert sorted(value)[-1] == "\U0001f602"
    assert canonical_json(value) == '{"\U0001f602":2,"\ue000":4,"\ufb33":3,"\uff61":1}'.encode()


def test_escaping_and_literals() -> None:
    value = {"s": '\b\f\n\r\t"\\/\x00\x1f\x7f中文', "t": True, "f": False, "n": None, "i": -0}
    assert canonical_json(value) == (
        '{"f":false,"i":0,"n":null,"s":"\\b\\f\\n\\r\\t\\"\\\\/\\u0000\\u001f\x7f中文",'
        '"t":true}'.encode()
    )


def test_integers_at_the_safe_limits() -> None:
    value = [MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0]
    assert canonical_json(value) == b"[9007199254740991,-9007199254740991,0]"
    assert parse_json(b"[9007199254740991,-9007199254740991,-0]") == value


# --- parse_json --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "where"),
    [
        (b"1.0", "$"),
        (b"1e3", "$"),
        (b"-1E-2", "$"),
        (b"0.5", "$"),
        (b"[1, 2.50]", "$[1]"),
        (b'{"price": 12.5}', "$.price"),
        (b'{"items": [{"qty": 1}, {"qty": 1.0}]}', "$.items[1].qty"),
        ('{"价格": 1e2}'.encode(), "$.价格"),
        (b'{"odd key": {"x": 3.0}}', '$["odd key"].x'),
    ],
)
def test_parse_json_rejects_floats_and_says_where(body: bytes, where: str) -> None:
    with pytest.raises(MalformedEntryError) as caught:
        parse_json(body)
    message = str(caught.value)
    assert "floats are not allowed" in message
    assert "must be integers" in message
    assert f" at {where};" in message


def test_parse_json_names_the_float_literal() -> None:
    with pytest.raises(MalformedEntryError, match=r"got 1E\+400"):
        parse_json(b'{"a": 1E+400}')


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_parse_json_rejects_nan_and_infinity(constant: str) -> None:
    with pytest.raises(MalformedEntryError, match=constant):
        parse_json(f'{{"a": [{constant}]}}'.encode())


@pytest.mark.parametrize(
    "body", [b'{"a": 1, "a": 1}', b'{"x": {"b": 1, "c": 2, "b": 3}}', b'[{"k": 1, "k": 2}]']
)
def test_parse_json_rejects_duplicate_keys(body: bytes) -> None:
    with pytest.raises(MalformedEntryError, match="duplicate object key"):
        parse_json(body)


@pytest.mark.parametrize(
    "number",
    [
        MAX_SAFE_INTEGER + 1,
        -MAX_SAFE_INTEGER - 1,
        2**63,
        -(2**64),
        10**30,
    ],
)
def test_parse_json_rejects_integers_outside_the_safe_range(number: int) -> None:
    with pytest.raises(MalformedEntryError, match=rf"integer {number} is outside"):
        parse_json(f'{{"n": [{number}]}}'.encode())


def test_parse_json_rejects_huge_integer_literals_quickly() -> None:
    # Longer than Python's int-from-str digit limit: must still be our error, not ValueError.
    with pytest.raises(MalformedEntryError, match=r"\(6001 chars\) is outside"):
        parse_json(b"9" * 6001)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": }', "line 1 column 7"),
        (b'{\n  "a": 1,\n}', "line 3 column 1"),
        (b"", "line 1 column 1"),
        (b"[1] [2]", "Extra data"),
        (b"\xef\xbb\xbf{}", "BOM"),
        (b'{"a": "\x01"}', "Invalid control character"),
    ],
)
def test_parse_json_reports_position_of_syntax_errors(body: bytes, message: str) -> None:
    with pytest.raises(MalformedEntryError, match="invalid JSON") as caught:
        parse_json(body)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "body", [b'{"a": "\xff"}', '{"a": 1}'.encode("utf-16"), '{"a": 1}'.encode("utf-32")]
)
def test_parse_json_accepts_only_utf8(body: bytes) -> None:
    with pytest.raises(MalformedEntryError, match="not valid UTF-8"):
        parse_json(body)


@pytest.mark.parametrize("body", [b'["\\ud800"]', b'{"\\udc00": 1}', b'"a\\udbffb"'])
def test_parse_json_rejects_lone_surrogates(body: bytes) -> None:
    with pytest.raises(MalformedEntryError, match="lone UTF-16 surrogate"):
        parse_json(body)


def test_parse_json_rejects_deep_nesting() -> None:
    with pytest.raises(MalformedEntryError, match="nested too deeply"):
        parse_json(b"[" * 100_000 + b"]" * 100_000)


def test_parse_json_accepts_escaped_pairs_and_plain_values() -> None:
    body = '{"a": "\\ud83d\\ude02\\u00e9", "b": [true, false, null, -7], "c": "中文"}'.encode()
    assert parse_json(body) == {"a": "\U0001f602é", "b": [True, False, None, -7], "c": "中文"}


# --- canonical_json ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "where"),
    [
        (1.0, "$"),
        ([1, 0.0], "$[1]"),
        ({"a": {"b": [1, {"c": float("inf")}]}}, "$.a.b[1].c"),
        ({"a": float("nan")}, "$.a"),
        ([[[-2.5]]], "$[0][0][0]"),
    ],
)
def test_canonical_json_rejects_floats_anywhere(value: object, where: str) -> None:
    with pytest.raises(MalformedEntryError, match="floats are not allowed") as caught:
        canonical_json(value)
    assert f" at {where};" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": [MAX_SAFE_INTEGER + 1]}, "outside"),
        (-(2**200), "outside"),
        ({1: "a"}, "keys must be strings"),
        ({"a": {None: 1}}, "keys must be strings"),
        ((1, 2), "tuple is not a JSON value"),
        ({"a": {1, 2}}, "set is not a JSON value"),
        ({"a": b"bytes"}, "bytes is not a JSON value"),
        (MappingProxyType({"a": 1}), "mappingproxy is not a JSON value"),
        (["\ud800"], "lone UTF-16 surrogate"),
        ({"\udfff": 1}, "lone UTF-16 surrogate"),
    ],
)
def test_canonical_json_rejects_what_jcs_cannot_encode(value: object, message: str) -> None:
    with pytest.raises(MalformedEntryError, match=message):
        canonical_json(value)


def test_canonical_json_accepts_bools_and_dict_subclasses() -> None:
    assert canonical_json([True, False]) == b"[true,false]"
    assert canonical_json(OrderedDict([("b", 1), ("a", 2)])) == b'{"a":2,"b":1}'


# --- entries -----------------------------------------------------------------------------------

# Keys chosen to sort differently by UTF-16 code unit, by code point and by UTF-8 byte.
ODD_KEYS = ["", "a", "A", "é", "中文", "价格", "\ue000", "\uff61", "\ufb33", "\U0001f602", "\x7f"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text()
    | st.sampled_from(["金额", "贵州茅台 53%vol", "\U0001f602", '\\"\n'])
)
json_keys = st.text(max_size=8) | st.sampled_from(ODD_KEYS)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(json_keys, children, max_size=4)
    ),
    max_leaves=20,
)
payloads = st.dictionaries(json_keys, json_values, max_size=6)


@given(
    entry_id=st.uuids().map(str) | st.text(),
    kind=st.text(),
    payload=payloads,
    seq=st.integers(0, MAX_SAFE_INTEGER),
    ts=st.datetimes(timezones=st.just(UTC)).map(format_ts),
)
def test_entry_bytes_equal_jcs_of_the_whole_entry(
    entry_id: str, kind: str, payload: dict[str, Any], seq: int, ts: str
) -> None:
    entry: dict[str, Any] = {"id": entry_id, "kind": kind, "payload": payload, "seq": seq, "ts": ts}
    data = entry_bytes(entry_prefix(entry_id, kind, payload), seq, ts)
    assert data == rfc8785.dumps(entry)
    assert data == canonical_json(entry)
    assert json.loads(data) == entry


def test_entry_bytes_known_answer() -> None:
    prefix = entry_prefix(
        "0b9e8f5c-6a4f-4c52-9d1e-3f0a2b7c8d9e",
        "bottle.scan",
        {"瓶码": "JY-0001", "qty": 6, "amount_fen": 129900, "\U0001f602": True, "\uff61": None},
    )
    assert (
        entry_bytes(prefix, 42, TS)
        == (
            '{"id":"0b9e8f5c-6a4f-4c52-9d1e-3f0a2b7c8d9e","kind":"bottle.scan","payload":'
            '{"amount_fen":129900,"qty":6,"瓶码":"JY-0001","\U0001f602":true,"\uff61":null},'
            '"seq":42,"ts":"2026-11-25T13:36:35.123456Z"}'
        ).encode()
    )


def test_entry_prefix_accepts_any_mapping() -> None:
    frozen = MappingProxyType({"b": 2, "a": 1})
    assert entry_prefix("i", "k", frozen) == b'{"id":"i","kind":"k","payload":{"a":1,"b":2}'


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, "k", {}), "entry id must be a string"),
        (("i", None, {}), "entry kind must be a string"),
        (("i", "k", [1]), "payload must be an object"),
        (("i", "k", {"total": 9.99}), r"payload: floats are not allowed .* at \$\.total"),
        (("i", "k", {"n": 2**60}), "payload: integer"),
    ],
)
def test_entry_prefix_rejects_bad_fields(args: tuple[Any, Any, Any], message: str) -> None:
    with pytest.raises(MalformedEntryError, match=message):
        entry_prefix(*args)


@pytest.mark.parametrize(
    ("seq", "ts"),
    [
        (-1, TS),
        (MAX_SAFE_INTEGER + 1, TS),
        (True, TS),
        ("1", TS),
        (1, "2026-11-25T13:36:35Z"),
        (1, "2026-11-25T13:36:35.123456+00:00"),
        (1, "2026-11-25 13:36:35.123456Z"),
        (1, "２026-11-25T13:36:35.123456Z"),
        (1, TS + "\n"),
        (1, b"2026-11-25T13:36:35.123456Z"),
    ],
)
def test_entry_bytes_rejects_bad_seq_or_ts(seq: Any, ts: Any) -> None:
    with pytest.raises(MalformedEntryError):
        entry_bytes(entry_prefix("i", "k", {}), seq, ts)


def test_entry_bytes_rejects_a_foreign_prefix() -> None:
    with pytest.raises(MalformedEntryError, match="prefix"):
        entry_bytes(b'{"kind":"k"', 1, TS)


# --- timestamps --------------------------------------------------------------------------------


def test_format_ts_converts_to_utc_with_six_digits() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert format_ts(datetime(2026, 11, 25, 21, 36, 35, 123456, shanghai)) == TS
    assert format_ts(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"
    assert format_ts(datetime(5, 1, 1, tzinfo=UTC)) == "0005-01-01T00:00:00.000000Z"


def test_format_ts_rejects_naive_datetimes() -> None:
    with pytest.raises(MalformedEntryError, match="timezone-aware"):
        format_ts(datetime(2026, 11, 25, 13, 36, 35))


def test_format_ts_rejects_instants_outside_the_utc_range() -> None:
    with pytest.raises(MalformedEntryError, match="out of range"):
        format_ts(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))))


@given(st.datetimes(timezones=st.just(UTC)))
def test_parse_ts_inverts_format_ts(dt: datetime) -> None:
    text = format_ts(dt)
    assert parse_ts(text) == dt
    assert parse_ts(text).tzinfo is UTC
    assert format_ts(parse_ts(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-25T13:36:35Z",
        "2026-11-25T13:36:35.123Z",
        "2026-11-25T13:36:35.123456+00:00",
        "2026-11-25T13:36:35.123456z",
        "2026-13-25T13:36:35.123456Z",
        "2026-02-30T13:36:35.123456Z",
        "2026-11-25T23:59:60.000000Z",
        "",
    ],
)
def test_parse_ts_rejects_other_forms(text: str) -> None:
    with pytest.raises(MalformedEntryError):
        parse_ts(text)


@settings(max_examples=500)
@given(json_values)
def test_fast_encoder_equals_the_reference_jcs(value: Any) -> None:
    """canonical_json encodes with json.dumps where that is provably JCS; rfc8785 decides."""
    assert canonical_json(value) == rfc8785.dumps(value)


# Anything a caller might pass: JCS's values, and what it cannot encode, anywhere in the tree.
any_scalars = (
    json_scalars
    | st.floats(allow_nan=True)
    | st.integers()
    | st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=3)
    | st.binary(max_size=2)
)
any_values = st.recursive(
    any_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(json_keys | st.integers(0, 3) | st.none(), children, max_size=4)
        | st.dictionaries(json_keys, children, max_size=3).map(lambda d: OrderedDict(d))
    ),
    max_leaves=12,
)


@settings(max_examples=1000)
@given(any_values)
@example(["\ud800"])
@example({"k": "\U00010000", "z": ["\udfff"]})  # astral text goes to rfc8785, which refuses too
def test_quick_check_accepts_and_refuses_as_the_full_walk(value: Any) -> None:
    """canonical_json tries a quick type test before the full walk that names where a value
    is bad: it must accept exactly what the walk accepts, and refuse with the walk's words."""
    try:
        _check(value)
    except _Invalid as bad:
        expected = str(bad.error())
    else:
        assert canonical_json(value) == rfc8785.dumps(value)
        return
    with pytest.raises(MalformedEntryError) as caught:
        canonical_json(value)
    assert str(caught.value) == expected


# --- objects assembled from encoded members ----------------------------------------------------

# Beside the keys above, ones built around the edges of the BMP and beyond it.
member_keys = json_keys | st.text(
    alphabet=st.characters(min_codepoint=0x10000) | st.sampled_from("az\ue000\uffff"),
    max_size=3,
)


# Its examples are nested objects: 500 of them took 18 s of the suite's 10-minute budget on
# a slow machine. The key-order edge cases that matter are pinned by its ``@example``.
@settings(max_examples=150)
@given(st.dictionaries(member_keys, json_values, max_size=12))
@example({"\U0001f602": 1, "\uff61": 2, "a": 3, "\U00010000\uffff": 4, "\U00010000": 5})
def test_an_object_of_encoded_members_is_jcs_of_the_object(obj: dict[str, Any]) -> None:
    assert canonical_object({k: canonical_json(v) for k, v in obj.items()}) == rfc8785.dumps(obj)
    assert canonical_object({k: canonical_member(v) for k, v in obj.items()}) == canonical_json(obj)


@pytest.mark.parametrize(
    "value",
    [
        *(MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0, True, False, None),
        *("", " ~!#[]", '"', "\\", "\x7f", "\x1f", "\t", "é", "\U0001f602", "\u2028"),
        *([1], {"b": 1, "a": "x"}),
    ],
)
def test_a_member_encodes_as_canonical_json(value: object) -> None:
    assert canonical_member(value) == canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=400)
@given(any_values)
@example(MAX_SAFE_INTEGER + 1)
@example("\udfff")
def test_a_member_refuses_what_canonical_json_refuses(value: Any) -> None:
    try:
        expected = canonical_json(value)
    except MalformedEntryError as exc:
        with pytest.raises(MalformedEntryError) as caught:
            canonical_member(value)
        assert str(caught.value) == str(exc)
    else:
        assert canonical_member(value) == expected


def test_an_object_refuses_a_key_with_a_lone_surrogate() -> None:
    with pytest.raises(MalformedEntryError, match="surrogate"):
        canonical_object({"ok": b"1", "\ud800": b"2"})
    with pytest.raises(MalformedEntryError, match="surrogate"):
        canonical_object({"\U0001f602": b"1", "\ud800": b"2"})
