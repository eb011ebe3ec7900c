"""A request's media type, as every body-reading place compares it."""

from __future__ import annotations


def media_type(content_type: str | None) -> str:
    """The ``Content-Type`` header's media type in lower case, without its parameters (RFC 9110
    §8.3.1: the type and subtype are case-insensitive); "" when there is none."""
    return (content_type or "").partition(";")[0].strip().lower()
