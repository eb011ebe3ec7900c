"""How the consumer page carries the lookup (no browser needed)."""

from __future__ import annotations

import json

from scanner_app import consumer

MARKER = '<script type="application/json" id="lookup">'


def embedded(page: str) -> object:
    return json.loads(page.split(MARKER, 1)[1].split("</script>", 1)[0])


def test_lookup_round_trips_and_cannot_close_its_script() -> None:
    lookup = {"verdict": {"status": "genuine", "reasons": ["</script><script>alert(1)</script>"]}}
    page = consumer.render(lookup)
    assert page.count("</script>") == 2  # the data tag's and the module tag's
    assert "<script>alert" not in page
    assert embedded(page) == lookup
    assert '<script type="module" src="/app/consumer.js">' in page
