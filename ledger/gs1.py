"""GS1 identifiers: check digits, GTINs and GS1 Digital Link URIs (parse and format).

Pure functions, no I/O. The Digital Link parser follows the GS1 Digital Link URI syntax as GS1's
own reference parser applies it with default options: an ``http``/``https`` URI (scheme in lower
or upper case), any path stem, then the primary key AI and its key qualifiers in the path in the
order the standard fixes (for a GTIN: ``22`` → ``10`` → ``21``, or ``235``), then data attributes
as numeric query parameters. GTINs must have all 14 digits, check digits are verified and every
value must fit its AI's format. The result can be rendered as a GS1 element string with ``^``
for FNC1, as the reference parser does.

Application Identifier formats are transcribed from the GS1 General Specifications. What is
checked: each component's character set (N digits, X the 82-character set, Y the 39-character
set, Z the URL-safe base64 set), its length, mod-10 check digits and calendar dates. What is not:
code lists (ISO country and currency codes, package types) and the check-character pair of AI
8013; such values are accepted when their characters and length are right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final

__all__ = [
    "ApplicationIdentifier",
    "DigitalLink",
    "GS1Error",
    "check_digit",
    "format_digital_link",
    "is_valid_gtin",
    "lookup_ai",
    "normalize_gtin",
    "parse_digital_link",
]


class GS1Error(ValueError):
    """A GS1 identifier or Digital Link that is malformed; the message names the problem."""


# --- Check digits and GTINs --------------------------------------------------------------------


def check_digit(digits: str) -> int:
    """Return the GS1 mod-10 check digit for ``digits`` (the identifier without its check digit).

    Weights 3 and 1 alternate from the rightmost digit, which gets 3.

    :raises GS1Error: if ``digits`` is empty or not all ASCII digits.
    """
    if not digits or not _is_digits(digits):
        raise GS1Error(f"a check digit is computed over ASCII digits, got {digits!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def _has_valid_check_digit(number: str) -> bool:
    return len(number) >= 2 and _is_digits(number) and check_digit(number[:-1]) == int(number[-1])


def is_valid_gtin(gtin: str) -> bool:
    """Return whether ``gtin`` is a GTIN-8, -12, -13 or -14 with a correct check digit."""
    return len(gtin) in (8, 12, 13, 14) and _has_valid_check_digit(gtin)


def normalize_gtin(gtin: str) -> str:
    """Return ``gtin`` as the 14-digit form GS1 keys use (GTIN-8/12/13 padded with zeros).

    A GS1 China GTIN-13 (prefixes 690–699) such as ``6901234567892`` becomes
    ``06901234567892``.

    :raises GS1Error: naming the problem (length, non-digits, wrong check digit).
    """
    text = gtin.strip()
    if not _is_digits(text):
        raise GS1Error(f"a GTIN has only digits, got {gtin!r}")
    if len(text) not in (8, 12, 13, 14):
        raise GS1Error(f"a GTIN has 8, 12, 13 or 14 digits, got {len(text)} ({gtin!r})")
    if not _has_valid_check_digit(text):
        expected = check_digit(text[:-1])
        raise GS1Error(f"GTIN {text} has check digit {text[-1]}, but it must be {expected}")
    return text.zfill(14)


def _is_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


# --- Application Identifiers -------------------------------------------------------------------

# Character sets of GS1 General Specifications §7.11: 82 (X), 39 (Y), 64 (Z).
CSET82: Final = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)
CSET39: Final = frozenset("#-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
CSET64: Final = frozenset("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz=")
_CSETS: Final = {
    "N": frozenset("0123456789"),
    "X": CSET82,
    "Y": CSET39,
    "Z": CSET64,
}
_CSET_NAMES: Final = {
    "N": "digits",
    "X": "GS1 character set 82",
    "Y": "GS1 character set 39",
    "Z": "GS1 character set 64",
}


@dataclass(frozen=True, slots=True)
class _Component:
    cset: str
    min_len: int
    max_len: int
    optional: bool
    linter: str | None


@dataclass(frozen=True, slots=True)
class ApplicationIdentifier:
    """One GS1 Application Identifier: its format and its role in a Digital Link."""

    ai: str
    title: str
    components: tuple[_Component, ...]
    predefined_length: bool
    """True when no FNC1 separator is needed after it (GS1 General Specifications Fig. 7.8.5-2)."""
    dl_qualifiers: tuple[tuple[str, ...], ...] | None
    """For a Digital Link primary key, its qualifier sequences; None when not a key."""
    data_attribute: bool
    """Whether it may appear as a Digital Link query parameter."""

    @property
    def max_length(self) -> int:
        return sum(c.max_len for c in self.components)


# The table: "AI[-AI]  spec  [key[=q,q|q]] [noattr]  # title". A spec is space-separated
# components "N14", "X..20", "[N..12]" (optional), each with an optional ",linter".
_TABLE: Final = """
00        N18,csum                  key              # SSCC
01        N14,csum                  key=22,10,21|235 # GTIN
02        N14,csum                                   # CONTENT
03        N14,csum                                   # MTO GTIN
10        X..20                                      # BATCH/LOT
11        N6,yymmd0                                  # PROD DATE
12        N6,yymmd0                                  # DUE DATE
13        N6,yymmd0                                  # PACK DATE
15        N6,yymmd0                                  # BEST BEFORE
16        N6,yymmd0                                  # SELL BY
17        N6,yymmd0                                  # USE BY
20        N2                                         # VARIANT
21        X..20                     noattr           # SERIAL
22        X..20                                      # CPV
235       X..28                     noattr           # TPX
240       X..30                                      # ADDITIONAL ID
241       X..30                                      # CUST. PART No.
242       N..6                                       # MTO VARIANT
243       X..20                                      # PCN
250       X..30                                      # SECONDARY SERIAL
251       X..30                                      # REF. TO SOURCE
253       N13,csum [X..17]          key              # GDTI
254       X..20                     noattr           # GLN EXTENSION COMPONENT
255       N13,csum [N..12]          key              # GCN
30        N..8                                       # VAR. COUNT
37        N..8                                       # COUNT
3900-3909 N..15                                      # AMOUNT
3910-3919 N3 N..15                                   # AMOUNT (ISO)
3920-3929 N..15                                      # PRICE
3930-3939 N3 N..15                                   # PRICE (ISO)
3940-3943 N4                                         # PRCNT OFF
3950-3955 N6                                         # PRICE/UoM
400       X..30                                      # ORDER NUMBER
401       X..30                     key              # GINC
402       N17,csum                  key              # GSIN
403       X..30                                      # ROUTE
410       N13,csum                                   # SHIP TO LOC
411       N13,csum                                   # BILL TO
412       N13,csum                                   # PURCHASE FROM
413       N13,csum                                   # SHIP FOR LOC
414       N13,csum                  key=254|7040     # LOC No.
415       N13,csum                                   # PAY TO
416       N13,csum                                   # PROD/SERV LOC
417       N13,csum                  key=7040         # PARTY
420       X..20                                      # SHIP TO POST
421       N3 X..9                                    # SHIP TO POST
422       N3                                         # ORIGIN
423       N3 [N..12]                                 # COUNTRY - INITIAL PROCESS
424       N3                                         # COUNTRY - PROCESS
425       N3 [N..12]                                 # COUNTRY - DISASSEMBLY
426       N3                                         # COUNTRY - FULL PROCESS
427       X..3                                       # ORIGIN SUBDIVISION
4300-4301 X..35                                      # SHIP TO COMP / NAME
4302-4306 X..70                                      # SHIP TO ADD / SUB / LOC / REG
4307      X2                                         # SHIP TO COUNTRY
4308      X..30                                      # SHIP TO PHONE
4309      N20                                        # SHIP TO GEO
4310-4311 X..35                                      # RTN TO COMP / NAME
4312-4316 X..70                                      # RTN TO ADD / SUB / LOC / REG
4317      X2                                         # RTN TO COUNTRY
4318      X..20                                      # RTN TO POST
4319      X..30                                      # RTN TO PHONE
4320      X..35                                      # SRV DESCRIPTION
4321-4323 N1                                         # DANGEROUS GOODS / AUTH LEAVE / SIG REQUIRED
4324-4325 N10                                        # NBEF / NAFT DEL DATE
4326      N6,yymmdd                                  # REL DATE
4330-4333 N6 [X1]                                    # MAX / MIN TEMP
7001      N13                                        # NSN
7002      X..30                                      # MEAT CUT
7003      N10                                        # EXPIRY TIME
7004      N..4                                       # ACTIVE POTENCY
7005      X..12                                      # CATCH AREA
7006      N6,yymmdd                                  # FIRST FREEZE DATE
7007      N6,yymmdd [N..6]                           # HARVEST DATE
7008      X..3                                       # AQUATIC SPECIES
7009      X..10                                      # FISHING GEAR TYPE
7010      X..2                                       # PROD METHOD
7011      N6,yymmdd [N..4]                           # TEST BY DATE
7020-7022 X..20                                      # REFURB LOT / FUNC STAT / REV STAT
7023      X..30                                      # GIAI - ASSEMBLY
7030-7039 N3 X..27                                   # PROCESSOR # s
7040      N1 X3                     noattr           # UIC+EXT
7041      X..4                                       # UFRGT UNIT TYPE
710-716   X..20                                      # NHRN
7230-7239 X2 X..28                                   # CERT # s
7240      X..20                                      # PROTOCOL
7241      N2                                         # AIDC MEDIA TYPE
7242      X..25                                      # VCN
7250      N8,yyyymmdd                                # DOB
7251      N12                                        # DOB TIME
7252      N1                                         # BIO SEX
7253-7254 X..40                                      # FAMILY NAME / GIVEN NAME
7255      X..10                                      # SUFFIX
7256      X..90                                      # FULL NAME
7257      X..70                                      # PERSON ADDR
7258      X3                                         # BIRTH SEQUENCE
7259      X..40                                      # BABY
8001      N14                                        # DIMENSIONS
8002      X..20                                      # CMT No.
8003      N1 N13,csum [X..16]       key              # GRAI
8004      X..30                     key=7040         # GIAI
8005      N6                                         # PRICE PER UNIT
8006      N14,csum N4               key=22,10,21     # ITIP
8007      X..34                                      # IBAN
8008      N8 [N..4]                                  # PROD TIME
8009      X..50                                      # OPTSEN
8010      Y..30                     key=8011         # CPID
8011      N..12                     noattr           # CPID SERIAL
8012      X..20                                      # VERSION
8013      X..25                     key              # GMN
8014      X..25                                      # MUDI
8017      N18,csum                  key=8019         # GSRN - PROVIDER
8018      N18,csum                  key=8019         # GSRN - RECIPIENT
8019      N..10                     noattr           # SRIN
8020      X..25                                      # REF No.
8026      N14,csum N4                                # ITIP CONTENT
8030      Z..90                                      # DIGSIG
8110      X..70                                      # COUPON
8111      N4                                         # POINTS
8112      X..70                                      # COUPON
8200      X..70                                      # PRODUCT URL
90        X..30                                      # INTERNAL
91-99     X..90                                      # INTERNAL
"""

# Measures with implied decimals: AIs pppn, n = 0..5 decimals, all six digits.
_MEASURE_PREFIXES: Final = (
    *range(310, 317),
    *range(320, 330),
    *range(330, 338),
    *range(340, 350),
    *range(350, 358),
    *range(360, 370),
)

# AIs whose two first digits put them in the predefined-length list: no FNC1 after them.
_PREDEFINED: Final = ("00", "01", "02", "03", "04", *(str(n) for n in range(11, 21)), "31", "32")
_PREDEFINED_PREFIXES: Final = (*_PREDEFINED, "33", "34", "35", "36", "41")

_COMPONENT: Final = re.compile(r"^(\[)?([NXYZ])(\.\.)?([0-9]+)(?:,([a-z0-9]+))?(\])?$")


def _parse_spec(spec: Sequence[str]) -> tuple[_Component, ...]:
    parts = []
    for token in spec:
        m = _COMPONENT.match(token)
        if m is None or bool(m.group(1)) != bool(m.group(6)):
            raise AssertionError(f"bad AI table component {token!r}")
        length = int(m.group(4))
        low = 1 if m.group(3) else length
        parts.append(_Component(m.group(2), low, length, bool(m.group(1)), m.group(5)))
    return tuple(parts)


def _expand(ai_range: str) -> list[str]:
    if "-" not in ai_range:
        return [ai_range]
    first, last = ai_range.split("-")
    return [str(n).zfill(len(first)) for n in range(int(first), int(last) + 1)]


def _build_table() -> dict[str, ApplicationIdentifier]:
    table: dict[str, ApplicationIdentifier] = {}
    for raw in _TABLE.strip().splitlines():
        body, _, title = raw.partition("#")
        fields = body.split()
        ai_range, rest = fields[0], fields[1:]
        spec = [f for f in rest if not f.startswith(("key", "noattr"))]
        qualifiers: tuple[tuple[str, ...], ...] | None = None
        for f in rest:
            if f == "key":
                qualifiers = ((),)
            elif f.startswith("key="):
                qualifiers = tuple(tuple(seq.split(",")) for seq in f[4:].split("|"))
        components = _parse_spec(spec)
        for ai in _expand(ai_range):
            table[ai] = ApplicationIdentifier(
                ai=ai,
                title=title.strip(),
                components=components,
                predefined_length=ai.startswith(_PREDEFINED_PREFIXES),
                dl_qualifiers=qualifiers,
                data_attribute="noattr" not in rest,
            )
    measure = _parse_spec(["N6"])
    for prefix in _MEASURE_PREFIXES:
        for decimals in range(6):
            ai = f"{prefix}{decimals}"
            table[ai] = ApplicationIdentifier(ai, "MEASURE", measure, True, None, True)
    return table


_AIS: Final = _build_table()


def _key_sequences() -> frozenset[tuple[str, ...]]:
    # Every key followed by any in-order subset of one of its qualifier sequences.
    found: set[tuple[str, ...]] = set()
    for entry in _AIS.values():
        for qualifiers in entry.dl_qualifiers or ():
            subsets: list[tuple[str, ...]] = [()]
            for q in qualifiers:
                subsets += [(*s, q) for s in subsets]
            found.update((entry.ai, *s) for s in subsets)
    return frozenset(found)


_PATH_SEQUENCES: Final = _key_sequences()


def lookup_ai(ai: str) -> ApplicationIdentifier | None:
    """Return the Application Identifier ``ai`` (e.g. ``"01"``), or None if GS1 assigns none."""
    return _AIS.get(ai)


def _check_value(entry: ApplicationIdentifier, value: str) -> None:
    """Raise GS1Error unless ``value`` fits the AI's components, check digits and dates."""
    ai = entry.ai
    if len(value) > entry.max_length:
        raise GS1Error(
            f"AI ({ai}) {entry.title}: {len(value)} characters is too long "
            f"(at most {entry.max_length})"
        )
    rest = value
    for component in entry.components:
        if not rest:
            if component.optional:
                break
            raise GS1Error(f"AI ({ai}) {entry.title}: value {value!r} is too short")
        take = rest[: component.max_len]
        if component.min_len == component.max_len and len(take) < component.min_len:
            raise GS1Error(
                f"AI ({ai}) {entry.title}: needs {component.max_len} characters here, "
                f"got {len(take)} ({value!r})"
            )
        bad = [c for c in take if c not in _CSETS[component.cset]]
        if bad:
            raise GS1Error(
                f"AI ({ai}) {entry.title}: {bad[0]!r} is not allowed "
                f"({_CSET_NAMES[component.cset]} only)"
            )
        _lint(entry, component.linter, take)
        rest = rest[len(take) :]
    if rest:
        raise GS1Error(f"AI ({ai}) {entry.title}: value {value!r} is too long")


def _lint(entry: ApplicationIdentifier, linter: str | None, text: str) -> None:
    if linter == "csum" and not _has_valid_check_digit(text):
        expected = check_digit(text[:-1])
        label = "GTIN" if entry.ai == "01" else f"AI ({entry.ai}) {entry.title}"
        raise GS1Error(f"{label} {text} has check digit {text[-1]}, but it must be {expected}")
    if linter in ("yymmd0", "yymmdd", "yyyymmdd"):
        century = linter == "yyyymmdd"
        year = int(text[:4]) if century else 2000 + int(text[:2])
        month, day = int(text[-4:-2]), int(text[-2:])
        if linter == "yymmd0" and day == 0:
            day = 1  # day 00 means "the whole month" for these dates
        try:
            date(year, month, day)
        except ValueError:
            raise GS1Error(f"AI ({entry.ai}) {entry.title}: {text} is not a date") from None


# --- Digital Link ------------------------------------------------------------------------------

_URI_CHARS: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)
_BAD_DOMAIN_CHARS: Final = frozenset("_~?#@!$&'()*+,;=%")
_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_HEX: Final = frozenset("0123456789abcdefABCDEF")


@dataclass(frozen=True, slots=True)
class DigitalLink:
    """A parsed GS1 Digital Link URI."""

    scheme: str
    domain: str
    stem: str
    """The path before the primary key, e.g. ``""`` or ``"/stem"``."""
    path: tuple[tuple[str, str], ...]
    """The primary key and its qualifiers, ``(ai, value)`` in path order, values decoded."""
    attributes: tuple[tuple[str, str], ...]
    """Data attributes from the query, ``(ai, value)`` in the order given."""

    @property
    def key(self) -> tuple[str, str]:
        """The primary key ``(ai, value)``."""
        return self.path[0]

    def get(self, ai: str) -> str | None:
        """The value of ``ai`` from the path or the query, or None."""
        for name, value in (*self.path, *self.attributes):
            if name == ai:
                return value
        return None

    def element_string(self) -> str:
        """The GS1 element string, ``^`` standing for FNC1 (before the first AI and after each
        AI that is not of predefined length, when another follows)."""
        out: list[str] = []
        separator = True
        for ai, value in (*self.path, *self.attributes):
            if separator:
                out.append("^")
            out.append(ai + value)
            entry = _AIS[ai]
            separator = not entry.predefined_length
        return "".join(out)


def _unescape(text: str, query: bool, ai: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "%" and i + 2 < len(text) and text[i + 1] in _HEX and text[i + 2] in _HEX:
            code = int(text[i + 1 : i + 3], 16)
            if code == 0:
                raise GS1Error(f"AI ({ai}): the value contains an encoded NUL (%00)")
            out.append(chr(code))
            i += 3
            continue
        out.append(" " if query and c == "+" else c)
        i += 1
    return "".join(out)


def parse_digital_link(uri: str) -> DigitalLink:
    """Parse a GS1 Digital Link URI, checking its syntax and every value.

    :raises GS1Error: naming the first problem found.
    """
    # 1. Only URI characters, and an http(s) scheme in one case.
    bad = next((c for c in uri if c not in _URI_CHARS), None)
    if bad is not None:
        raise GS1Error(f"the URI contains {bad!r}, which is not allowed in a URI")
    for scheme in ("https://", "HTTPS://", "http://", "HTTP://"):
        if uri.startswith(scheme):
            rest = uri[len(scheme) :]
            break
    else:
        raise GS1Error("a GS1 Digital Link starts with https:// or http://")

    # 2. A non-empty domain, then the path.
    slash = rest.find("/")
    if slash < 1:
        raise GS1Error("the URI has no domain or no path")
    domain = rest[:slash]
    bad = next((c for c in domain if c in _BAD_DOMAIN_CHARS), None)
    if bad is not None:
        raise GS1Error(f"the domain contains {bad!r}, which is not allowed in a domain name")
    path, _, _fragment = rest[slash:].partition("#")
    path, has_query, query = path.partition("?")

    # 3. Walk back from the end in /AI/value pairs to the rightmost primary key; what precedes
    #    it is the stem.
    parts = path.split("/")[1:]
    start: int | None = None
    i = len(parts) - 2
    while i >= 0:
        entry = _AIS.get(parts[i])
        if entry is None:
            break
        if entry.dl_qualifiers is not None:
            start = i
            break
        i -= 2
    if start is None:
        raise GS1Error(
            "no GS1 primary key found in the path (expected e.g. /01/<14-digit GTIN>"
            " and qualifiers /10/<lot>/21/<serial>)"
        )
    stem = "/" + "/".join(parts[:start]) if start else ""

    # 4. Decode and check each path value.
    pairs: list[tuple[str, str]] = []
    for k in range(start, len(parts), 2):
        ai = parts[k]
        raw = parts[k + 1]
        if not raw:
            raise GS1Error(f"AI ({ai}): the value in the path is empty")
        value = _unescape(raw, False, ai)
        if ai == "01" and _is_digits(value) and len(value) in (8, 12, 13):
            raise GS1Error(
                f"a GTIN in a Digital Link has 14 digits, got {len(value)} ({value}); "
                f"write it as {value.zfill(14)}"
            )
        _check_value(_AIS[ai], value)
        pairs.append((ai, value))

    # 5. Query parameters: numeric names must be known AIs with values; others are ignored.
    attributes: list[tuple[str, str]] = []
    if has_query:
        for param in query.split("&"):
            if not param or "=" not in param:
                continue
            name, _, raw = param.partition("=")
            if not _is_digits(name):
                continue
            entry = _AIS.get(name)
            if entry is None:
                raise GS1Error(f"query parameter {name} is not a GS1 Application Identifier")
            if not raw:
                raise GS1Error(f"AI ({name}): the value in the query is empty")
            value = _unescape(raw, True, name)
            _check_value(entry, value)
            attributes.append((name, value))

    # 6. The path must be a key followed by its qualifiers in the standard order.
    sequence = tuple(ai for ai, _ in pairs)
    if sequence not in _PATH_SEQUENCES:
        raise GS1Error(_explain_sequence(sequence))

    # 7. Attributes: no AI twice, only AIs allowed as attributes, none that belong in the path.
    seen = set(sequence)
    for ai, _ in attributes:
        if ai in seen:
            raise GS1Error(f"AI ({ai}) appears more than once")
        seen.add(ai)
        if not _AIS[ai].data_attribute:
            raise GS1Error(f"AI ({ai}) is not allowed as a query parameter; put it in the path")
        for j in range(1, len(sequence) + 1):
            if (*sequence[:j], ai, *sequence[j:]) in _PATH_SEQUENCES:
                raise GS1Error(
                    f"AI ({ai}) is a key qualifier: it belongs in the path, not the query"
                )

    scheme_text = uri[: uri.index("://")].lower()
    return DigitalLink(scheme_text, domain, stem, tuple(pairs), tuple(attributes))


def _explain_sequence(sequence: tuple[str, ...]) -> str:
    key = _AIS[sequence[0]]
    shown = "/".join(sequence)
    allowed = [" → ".join(q) for q in key.dl_qualifiers or () if q]
    if not allowed:
        return f"AI ({key.ai}) {key.title} takes no qualifiers in the path (got {shown})"
    return (
        f"the path AIs {shown} are not a valid key-qualifier sequence: after ({key.ai}) "
        f"the qualifiers must come in the order {' or '.join(allowed)}, each at most once"
    )


def _escape(value: str) -> str:
    return "".join(
        c if c in _UNRESERVED else "".join(f"%{b:02X}" for b in c.encode()) for c in value
    )


def format_digital_link(
    host: str, path: Iterable[tuple[str, str]], attributes: Iterable[tuple[str, str]] = ()
) -> str:
    """Return ``https://{host}/{ai}/{value}…[?ai=value&…]``, values percent-encoded.

    The path pairs must be a primary key and its qualifiers in order, and every value must fit
    its AI; the result parses back to the same pairs.

    :raises GS1Error: naming the problem.
    """
    pairs = list(path)
    attrs = list(attributes)
    if not host or any(c in _BAD_DOMAIN_CHARS or c not in _URI_CHARS or c == "/" for c in host):
        raise GS1Error(f"{host!r} is not a host name")
    for ai, value in (*pairs, *attrs):
        entry = _AIS.get(ai)
        if entry is None:
            raise GS1Error(f"({ai}) is not a GS1 Application Identifier")
        _check_value(entry, value)
    sequence = tuple(ai for ai, _ in pairs)
    if sequence not in _PATH_SEQUENCES:
        raise GS1Error(_explain_sequence(sequence) if sequence else "the path needs a key")
    uri = f"https://{host}" + "".join(f"/{ai}/{_escape(v)}" for ai, v in pairs)
    if attrs:
        uri += "?" + "&".join(f"{ai}={_escape(v)}" for ai, v in attrs)
    return uri
