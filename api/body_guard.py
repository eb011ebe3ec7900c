"""What pydantic would take from a JSON body and should not, refused before any handler runs:
text no column can hold, and a key given twice.

JSON can spell two things that are not text: a lone UTF-16 surrogate (``"\\ud800"``, half of a
pair; Python decodes it, and the database driver then fails to encode it) and U+0000
(``"\\u0000"``; PostgreSQL's text columns refuse it). Both used to reach the database and end
as a 500. A request body that FastAPI has read for its model is checked here first: only when
it holds a ``\\u`` escape (rare) is it scanned, so the common request pays a byte search.
Bodies the endpoints stream themselves (entries, storage readings) are checked by their own
parsers, line by line.

A key given twice in one object (``{"name": "a", "name": "b"}``) is not an error to Python's
JSON decoder, which keeps the last; which one a client meant cannot be known (RFC 8259 §4), so
the body is refused, naming the key. That needs the body decoded a second time, as ledger
entries are (``ledger.canonical.parse_json``): 7 µs for a 180-byte top-up, 21 µs for a
20-line order of 870 bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from api.errors import Unprocessable
from api.media import media_type

# A run of backslashes, then u and four hex digits: a \u escape when the run is odd.
_ESCAPE = re.compile(rb"(\\+)u([0-9a-fA-F]{4})")


class InvalidText(Unprocessable):
    code = "invalid_text"


class DuplicateKey(Unprocessable):
    code = "duplicate_key"


def _no_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(
                f"the key {key[:64]!r} is given twice in one object of the body; give it once"
            )
        seen[key] = value
    return seen


def text_problem(body: bytes) -> str | None:
    """Why the JSON ``body`` holds text no column can store, or None: the first lone surrogate
    or NUL escape, with its byte offset."""
    if b"\\u" not in body:
        return None
    high_end: int | None = None  # where an unpaired high surrogate's escape ends
    for match in _ESCAPE.finditer(body):
        run, digits = match.groups()
        if len(run) % 2 == 0:
            continue  # an escaped backslash followed by a plain "u"
        value = int(digits, 16)
        at = match.end() - 6  # the escape's backslash
        if high_end is not None:
            if 0xDC00 <= value <= 0xDFFF and high_end == at and len(run) == 1:
                high_end = None  # the second half of the pair
                continue
            return _lone(int(body[high_end - 4 : high_end], 16), high_end - 6)
        if 0xDC00 <= value <= 0xDFFF:
            return _lone(value, at)
        if 0xD800 <= value <= 0xDBFF:
            high_end = match.end()
        elif value == 0:
            return (
                f"the body holds \\u0000 (a NUL character) at byte {at}: no text field may "
                "contain it; remove it"
            )
    if high_end is not None:
        return _lone(int(body[high_end - 4 : high_end], 16), high_end - 6)
    return None


def unstorable(text: str) -> str | None:
    """Why ``text``, already decoded, cannot be stored (a NUL, a lone surrogate), or None."""
    if "\x00" in text:
        return "holds a NUL character (U+0000); remove it"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"holds U+{ord(text[exc.start]):04X}, half of a UTF-16 surrogate pair: not text"
    return None


def _lone(value: int, at: int) -> str:
    return (
        f"the body holds \\u{value:04x} at byte {at}, half of a UTF-16 surrogate pair without "
        "its other half: that is not text. Send the character itself (UTF-8) or both halves"
    )


async def check_json_body(request: Request) -> None:
    """An app-wide dependency: ``async`` so it runs on the event loop, not the thread pool."""
    body: bytes | None = getattr(request, "_body", None)  # read by FastAPI for a body model
    if not body or "json" not in media_type(request.headers.get("content-type")):
        return  # no body, or not JSON: a backslash there is only a backslash
    problem = text_problem(body)
    if problem is not None:
        raise InvalidText(problem)
    json.loads(body, object_pairs_hook=_no_repeats)  # FastAPI has decoded it once
