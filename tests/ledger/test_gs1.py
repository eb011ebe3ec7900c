"""GS1 check digits, GTINs and Digital Link URIs, against GS1's own parser cases and biip."""

from __future__ import annotations

import json
from pathlib import Path

import biip
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.gs1 import (
    CSET82,
    GS1Error,
    check_digit,
    format_digital_link,
    is_valid_gtin,
    normalize_gtin,
    parse_digital_link,
)

CASES = json.loads((Path(__file__).parents[1] / "assets/digital-link/parse-cases.json").read_text())
DEFAULT = [c for c in CASES if not c["options"]]


def test_the_reference_file_is_complete() -> None:
    assert len(CASES) == 118 and len(DEFAULT) == 100


@pytest.mark.parametrize("case", DEFAULT, ids=[c["uri"] or "<empty>" for c in DEFAULT])
def test_gs1_reference_parser_cases(case: dict[str, object]) -> None:
    uri = str(case["uri"])
    if case["valid"]:
        assert parse_digital_link(uri).element_string() == case["element_string"]
    else:
        with pytest.raises(GS1Error):
            parse_digital_link(uri)


def _biip_pairs(uri: str) -> list[tuple[str, str]] | None:
    try:
        result = biip.parse(uri)
    except biip.ParseError:
        return None
    link = result.gs1_digital_link_uri
    if link is None:
        return None
    return [(es.ai.ai, es.value) for es in link.element_strings]


@pytest.mark.parametrize("case", [c for c in DEFAULT if c["valid"]], ids=lambda c: str(c["uri"]))
def test_agrees_with_biip_where_biip_parses(case: dict[str, object]) -> None:
    uri = str(case["uri"])
    ours = parse_digital_link(uri)
    theirs = _biip_pairs(uri)
    if theirs is None:
        pytest.skip("biip does not parse this form")
    assert sorted((*ours.path, *ours.attributes)) == sorted(theirs)


def test_check_digits_and_gtins() -> None:
    assert check_digit("690123456789") == 2
    assert is_valid_gtin("6901234567892") and not is_valid_gtin("6901234567891")
    assert normalize_gtin("6901234567892") == "06901234567892"
    assert normalize_gtin("06901234567892") == "06901234567892"
    with pytest.raises(GS1Error, match="must be 2"):
        normalize_gtin("6901234567891")
    with pytest.raises(GS1Error, match="8, 12, 13 or 14 digits"):
        normalize_gtin("69012345678")
    with pytest.raises(GS1Error, match="only digits"):
        normalize_gtin("69012345678X2")


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("https://j.example/01/06901234567891/10/L1/21/A", "check digit 1, but it must be 2"),
        ("https://j.example/01/06901234567892/21/A/10/L1", "order 22 → 10 → 21"),
        ("https://j.example/01/6901234567892/10/L1/21/A", "14 digits, got 13"),
        ("https://j.example/01/06901234567892/10/L1/21/" + "A" * 21, "too long"),
        ("https://j.example/01/06901234567892/10/L1?21=A", "not allowed as a query"),
    ],
)
def test_bad_links_name_the_problem(uri: str, words: str) -> None:
    with pytest.raises(GS1Error, match=words):
        parse_digital_link(uri)


_gtin = st.from_regex(r"[0-9]{13}", fullmatch=True).map(lambda d: d + str(check_digit(d)))
_x = st.text(alphabet=sorted(CSET82), min_size=1, max_size=20)


@given(gtin=_gtin, lot=_x, serial=_x)
def test_format_then_parse_round_trips(gtin: str, lot: str, serial: str) -> None:
    uri = format_digital_link("id.example.com", [("01", gtin), ("10", lot), ("21", serial)])
    link = parse_digital_link(uri)
    assert link.path == (("01", gtin), ("10", lot), ("21", serial))
    theirs = _biip_pairs(uri)
    assert theirs is None or theirs == list(link.path)
