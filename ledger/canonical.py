"""RFC 8785 (JCS) canonical JSON: the exact bytes the ledger hashes.

Entries hold no floating-point numbers at all: money is integer fen and quantities are counted
units, and a float's canonical form would tie every verifier to ECMAScript number formatting.
Integers must lie within I-JSON's exactly representable range, ``±(2**53 - 1)``.

An entry is ``{"id", "kind", "payload", "seq", "ts"}``. JCS sorts keys and these names already
sort in that order, so the part up to ``payload`` is encoded once when a request arrives
(:func:`entry_prefix`) and the sequencer only appends the number and time it assigns
(:func:`entry_bytes`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import rfc8785

from ledger.errors import MalformedEntryError

MAX_SAFE_INTEGER: Final = 2**53 - 1
"""The largest integer JCS (an IEEE 754 double) represents exactly; its negation is the least."""

_FLOAT_HINT: Final = "money and quantities must be integers (amounts in fen, counts in units)"

# ASCII digits only: ``\d`` would also accept other scripts' digits, which are not JCS-safe.
_TS: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_ENTRY_START: Final = b'{"id":'


class _Invalid(Exception):
    """A bad value found while walking a JSON tree; the path is filled in as it unwinds."""

    def __init__(self, problem: str, hint: str = "") -> None:
        super().__init__(problem)
        self.problem = problem
        self.hint = hint
        self.path: list[str | int] = []

    def error(self) -> MalformedEntryError:
        where = "$" + "".join(_path_segment(p) for p in reversed(self.path))
        hint = f"; {self.hint}" if self.hint else ""
        return MalformedEntryError(f"{self.problem} at {where}{hint}")


class _Rejected:
    """Stands in for a number literal ``parse_json`` refuses, so the walk can say where it is."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal


def _path_segment(part: str | int) -> str:
    if isinstance(part, int):
        return f"[{part}]"
    if part.isidentifier():
        return f".{part}"
    return f"[{_quote(part)}]"


def _quote(text: str) -> str:
    # Escape everything when a lone surrogate is present: it must not leak into messages.
    return json.dumps(text, ensure_ascii=_SURROGATE.search(text) is not None)


def _shorten(literal: str) -> str:
    if len(literal) <= 40:
        return literal
    return f"{literal[:20]}…{literal[-8:]} ({len(literal)} chars)"


def _plain(value: object) -> bool:
    """Whether ``value`` is built only of the exact types JCS encodes (``dict`` with ``str``
    keys, ``list``, ``str``, ``bool``, ``None``, ``int`` within ``±(2**53 - 1)``).

    The quick test before encoding: no path kept, no regular expression per string. A lone
    surrogate, the one thing it leaves unchecked, makes :func:`_encode` fail (the UTF-8
    encoding, or ``rfc8785`` for text beyond U+FFFF). ``False`` says only "not certain":
    subclasses and bad values alike go to :func:`_check`, which accepts the former and names
    where the latter are.
    """
    items: Iterable[object]
    if type(value) is dict:
        if any(type(key) is not str for key in value):
            return False
        items = value.values()
    elif type(value) is list:
        items = value
    elif type(value) is int:
        return -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER
    else:
        return type(value) is str or type(value) is bool or value is None
    for item in items:
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if type(item) is int:
            if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False
        elif not _plain(item):
            return False
    return True


def _check(value: object) -> None:
    """Raise :class:`_Invalid` unless ``value`` is a JSON tree JCS encodes exactly."""
    if isinstance(value, str):
        if _SURROGATE.search(value):
            raise _Invalid("string contains a lone UTF-16 surrogate (not Unicode text)")
    elif value is None or isinstance(value, bool):
        pass
    elif isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise _Invalid(f"integer {_shorten(str(value))} is outside ±(2**53-1)")
    elif isinstance(value, float):
        raise _Invalid(f"floats are not allowed (got {value!r})", _FLOAT_HINT)
    elif isinstance(value, dict):
        for key, item in value.items():
            try:
                if not isinstance(key, str):
                    raise _Invalid(f"object keys must be strings (got {type(key).__name__})")
                if _SURROGATE.search(key):
                    raise _Invalid("key contains a lone UTF-16 surrogate (not Unicode text)")
                _check(item)
            except _Invalid as bad:
                bad.path.append(key if isinstance(key, str) else repr(key))
                raise
    elif isinstance(value, list):
        for index, item in enumerate(value):
            try:
                _check(item)
            except _Invalid as bad:
                bad.path.append(index)
                raise
    elif isinstance(value, _Rejected):
        literal = value.literal
        if any(c in literal for c in ".eE"):
            raise _Invalid(f"floats are not allowed (got {literal})", _FLOAT_HINT)
        raise _Invalid(
            f"integer {_shorten(literal)} is outside ±(2**53-1)",
            "JCS cannot represent it exactly; send it as a string",
        )
    else:
        raise _Invalid(
            f"{type(value).__name__} is not a JSON value (only dict, list, str, int, bool, None)"
        )


def _reject_pairs_with_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise MalformedEntryError(f"duplicate object key {_quote(key)}")
        obj[key] = value
    return obj


def _reject_constant(name: str) -> Any:
    raise MalformedEntryError(f"{name} is not allowed in JSON")


def parse_json(raw: bytes) -> Any:
    """Parse a request body strictly, as the ledger will hash it.

    The body must be UTF-8 JSON without floats (``1.0``, ``1e3``), ``NaN``/``Infinity``,
    duplicate object keys, lone surrogates, or integers outside ``±(2**53 - 1)``.

    :raises MalformedEntryError: naming what is wrong and, where it can, where.
    """
    flagged = False

    def rejected(literal: str) -> _Rejected:
        nonlocal flagged
        flagged = True
        return _Rejected(literal)

    def parse_int(literal: str) -> int | _Rejected:
        # Check the length first: int() of a huge literal is slow and may raise ValueError.
        if len(literal) > 17:
            return rejected(literal)
        number = int(literal)
        if -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
            return number
        return rejected(literal)

    # 1. UTF-8 only: json.loads would otherwise guess UTF-16 or UTF-32 from the first bytes.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedEntryError(f"the body is not valid UTF-8 (at byte {exc.start})") from None
    # 2. Parse, refusing constants and duplicate keys at once and marking bad numbers.
    try:
        value = json.loads(
            text,
            parse_float=rejected,
            parse_int=parse_int,
            parse_constant=_reject_constant,
            object_pairs_hook=_reject_pairs_with_duplicates,
        )
    except json.JSONDecodeError as exc:
        raise MalformedEntryError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise MalformedEntryError("the JSON is nested too deeply") from None
    # 3. Say where the first bad number or lone surrogate (only possible via \u escapes) is.
    if flagged or "\\u" in text:
        try:
            _check(value)
        except _Invalid as bad:
            raise bad.error() from None
    return value


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _encode(value: object) -> bytes:
    """JCS bytes of a value that passed :func:`_check`.

    For such values the C-accelerated ``json.dumps`` with sorted keys produces exactly the JCS
    bytes (integers, literals and string escaping agree), except that Python sorts keys by code
    point and JCS by UTF-16 code unit; the two orders differ only for characters beyond U+FFFF,
    so any text containing one goes through the reference ``rfc8785`` encoder instead.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if _ASTRAL.search(text):
        return rfc8785.dumps(value)  # type: ignore[arg-type]
    return text.encode()


def canonical_json(value: object) -> bytes:
    """Return the RFC 8785 (JCS) encoding of ``value``.

    Only ``dict`` (with ``str`` keys), ``list``, ``str``, ``int`` within ``±(2**53 - 1)``,
    ``bool`` and ``None`` are accepted, however deeply nested; floats never are.

    :raises MalformedEntryError: for anything else, naming where it is.
    """
    try:
        if _plain(value):
            try:
                return _encode(value)
            except (UnicodeEncodeError, rfc8785.CanonicalizationError):
                pass  # a lone surrogate somewhere: the full check says where
        _check(value)
        return _encode(value)
    except _Invalid as bad:
        raise bad.error() from None
    except RecursionError:
        raise MalformedEntryError("the value is nested too deeply") from None
    except rfc8785.CanonicalizationError as exc:  # unreachable after _check; kept as a backstop
        raise MalformedEntryError(str(exc)) from None


PLAIN_TEXT: Final = re.compile(r"[ !#-\[\]-~]*")
"""Printable ASCII but ``"`` and ``\\``: text JCS writes between quotes as it is."""


def canonical_member(value: object) -> bytes:
    """``canonical_json(value)``, with the scalars a batch writes thousands of times (plain
    ASCII text, safe integers, ``bool``, ``None``) written out directly; anything else goes
    through :func:`canonical_json` and is checked as it is.

    :raises MalformedEntryError: as :func:`canonical_json` does.
    """
    if type(value) is str:
        if PLAIN_TEXT.fullmatch(value):
            return b'"%s"' % value.encode()
    elif type(value) is int:
        if -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            return b"%d" % value
    elif type(value) is bool:
        return b"true" if value else b"false"
    elif value is None:
        return b"null"
    return canonical_json(value)


_NAMES: Final[dict[str, bytes]] = {}


def _member_name(key: str) -> bytes:
    # The few member names a caller uses recur in every object: each is encoded once (a
    # dict, not lru_cache, whose call cost the same again; bounded against arbitrary keys).
    name = _NAMES.get(key)
    if name is None:
        name = canonical_member(key) + b":"
        if len(_NAMES) < 1024:
            _NAMES[key] = name
    return name


def _utf16(key: str) -> bytes:
    # A lone surrogate sorts too; encoding its name then says what is wrong with it.
    return key.encode("utf-16-be", "surrogatepass")


def canonical_object(members: Mapping[str, bytes]) -> bytes:
    """The JCS encoding of an object whose members' values are already canonical bytes
    (:func:`canonical_json` or :func:`canonical_member` of each value): equal to
    ``canonical_json`` of the object itself, for callers that reuse a member's encoding (in
    a digest, an entry and a stored column alike) instead of encoding it again.

    Keys are ordered as JCS orders them, by UTF-16 code unit; that is Python's order of
    ``str`` unless a key holds a character beyond U+FFFF. The values are trusted as given.

    :raises MalformedEntryError: if a key holds a lone surrogate.
    """
    keys = sorted(members)
    names = "".join(keys)
    if not names.isascii() and _ASTRAL.search(names):
        keys.sort(key=_utf16)
    return b"{%s}" % b",".join([_member_name(key) + members[key] for key in keys])


def entry_prefix(entry_id: str, kind: str, payload: Mapping[str, Any]) -> bytes:
    """Return the canonical bytes of an entry up to and including its payload.

    The result is ``{"id":…,"kind":…,"payload":…`` with no closing brace; :func:`entry_bytes`
    completes it.

    :raises MalformedEntryError: if a field has the wrong type or the payload cannot be encoded.
    """
    if not isinstance(entry_id, str):
        raise MalformedEntryError(f"entry id must be a string (got {type(entry_id).__name__})")
    if not isinstance(kind, str):
        raise MalformedEntryError(f"entry kind must be a string (got {type(kind).__name__})")
    if not isinstance(payload, Mapping):
        raise MalformedEntryError(f"payload must be an object (got {type(payload).__name__})")
    body = payload if isinstance(payload, dict) else dict(payload)
    try:
        payload_bytes = canonical_json(body)
    except MalformedEntryError as exc:
        raise MalformedEntryError(f"payload: {exc}") from None
    return (
        b'{"id":'
        + canonical_json(entry_id)
        + b',"kind":'
        + canonical_json(kind)
        + b',"payload":'
        + payload_bytes
    )


def entry_bytes(prefix: bytes, seq: int, ts: str) -> bytes:
    """Complete an :func:`entry_prefix` with the entry's sequence number and timestamp.

    The result equals ``canonical_json`` of the whole entry. ``ts`` must be in the exact form
    :func:`format_ts` produces, which is ASCII and needs no escaping, so it is copied as is.

    :raises MalformedEntryError: if ``seq`` is not an int in ``0..2**53-1`` or ``ts`` is not
        in that form.
    """
    if type(seq) is not int or not 0 <= seq <= MAX_SAFE_INTEGER:
        raise MalformedEntryError(f"seq must be an int in 0..2**53-1 (got {seq!r})")
    if not isinstance(ts, str) or _TS.fullmatch(ts) is None:
        raise MalformedEntryError(f"ts must look like 2026-01-31T08:00:00.000000Z (got {ts!r})")
    if not prefix.startswith(_ENTRY_START):
        raise MalformedEntryError("prefix does not come from entry_prefix")
    return b'%s,"seq":%d,"ts":"%s"}' % (prefix, seq, ts.encode("ascii"))


def format_ts(dt: datetime) -> str:
    """Return ``dt`` as RFC 3339 UTC with exactly six fractional digits and a ``Z``.

    Example: ``2026-11-25T13:36:35.123456Z``.

    :raises MalformedEntryError: if ``dt`` is naive (its zone unknown) or out of range in UTC.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise MalformedEntryError("timestamps must be timezone-aware; got a naive datetime")
    try:
        utc = dt.astimezone(UTC)
    except OverflowError:
        raise MalformedEntryError(f"{dt.isoformat()} is out of range in UTC") from None
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_ts(text: str) -> datetime:
    """Parse a timestamp in :func:`format_ts`'s exact form into an aware UTC ``datetime``.

    :raises MalformedEntryError: for any other form, or a date or time that does not exist.
    """
    if not isinstance(text, str) or _TS.fullmatch(text) is None:
        raise MalformedEntryError(
            f"timestamp must look like 2026-01-31T08:00:00.000000Z (got {text!r})"
        )
    try:
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise MalformedEntryError(f"timestamp {text!r} is not a real date and time") from None
