"""The consumer scan page: the resolver's lookup embedded in the static page that renders it.

The browser gets one document (fast on a phone, and the visit is recorded as a scan exactly as
before); ``consumer.js`` renders the embedded lookup and checks its proofs itself.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static"
_SLOT = "<!--LOOKUP-->"


@lru_cache(maxsize=1)
def _template() -> str:
    text = (STATIC / "consumer.html").read_text(encoding="utf-8")
    if _SLOT not in text:
        raise RuntimeError("scanner_app/static/consumer.html lost its lookup slot")
    return text


def render(lookup: dict[str, Any]) -> str:
    """The consumer page with ``lookup`` (the resolver's JSON answer) embedded for its script."""
    # Inside <script>, "</" and "<!--" must not appear; \u003c keeps the JSON equal.
    data = json.dumps(lookup, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    tag = f'<script type="application/json" id="lookup">{data}</script>'
    return _template().replace(_SLOT, tag, 1)
