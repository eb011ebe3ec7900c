"""The independent verifier printed in docs/ledger.md works against the real service."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from fastapi.testclient import TestClient

DOC = Path(__file__).parents[3] / "docs" / "ledger.md"


def doc_namespace() -> dict[str, Any]:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 1
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)
    return namespace


def test_doc_verifier_accepts_real_entries_and_rejects_altered_ones(writer: TestClient) -> None:
    ns = doc_namespace()
    entries = [
        {"id": str(uuid.uuid4()), "kind": "test.entry", "payload": {"n": i, "名": "酒"}}
        for i in range(11)
    ]
    writer.post("/v1/entries", json=entries)
    writer.post("/v1/checkpoint")
    key = writer.get("/v1/checkpoint/key").text
    for seq in range(11):
        ns["check_entry"](writer.get(f"/v1/entries/{seq}?proof=true").json(), key)
    response = writer.get("/v1/entries/4?proof=true").json()
    altered = dict(response, seq=5)
    with pytest.raises(ValueError):
        ns["check_entry"](altered, key)
    forged_note = response["inclusion"]["checkpoint"].replace("\n11\n", "\n12\n")
    with pytest.raises(InvalidSignature):
        ns["open_checkpoint"](forged_note, key)
