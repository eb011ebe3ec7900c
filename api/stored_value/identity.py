"""Checking and normalising what identifies a person: mobile number, name, resident ID."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from api.errors import Unprocessable

_PHONE = re.compile(r"1[3-9][0-9]{9}")
_PHONE_PREFIX = re.compile(r"^(?:\+86|0086|86)(?=1[0-9]{10}$)")
_SEPARATORS = re.compile(r"[\s\-()]")
_ID = re.compile(r"[0-9]{17}[0-9X]")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalise_phone(text: str) -> str:
    """An 11-digit mainland mobile number from what a clerk typed (+86, spaces, dashes ok)."""
    digits = _PHONE_PREFIX.sub("", _SEPARATORS.sub("", text))
    if not _PHONE.fullmatch(digits):
        raise Unprocessable(
            "phone must be a mainland China mobile number: 11 digits starting 13-19 "
            "(an optional +86 prefix, spaces and dashes are fine)"
        )
    return digits


def normalise_name(text: str) -> str:
    name = " ".join(text.split())
    if not 1 <= len(name) <= 50 or _CONTROL.search(name):
        raise Unprocessable("name must be 1-50 printable characters")
    return name


def normalise_id_number(text: str) -> str:
    """An 18-character resident identity number (GB 11643-1999) with a valid check digit."""
    number = text.strip().upper()
    if not _ID.fullmatch(number):
        raise Unprocessable(
            "id_number must be an 18-character resident ID (17 digits, then 0-9 or X)"
        )
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17]:
        raise Unprocessable("id_number's check digit is wrong; please re-type it")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise Unprocessable("id_number does not contain a valid date of birth") from None
    if not date(1900, 1, 1) <= born <= datetime.now(UTC).date():
        raise Unprocessable("id_number's date of birth is not plausible")
    return number


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"
