"""A run whose alerts are built in turns by forked helpers raises, writes and stages exactly
what a run building them alone does: same alerts, same evidence, same staged entries, every
id its own."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Connection, text

from api.compliance.alerts import runs
from api.compliance.alerts.runs import RunReport, run_detection
from api.compliance.alerts.turns import InTurns
from api.compliance.detection.synthetic import CaseStory
from api.compliance.detection.thresholds import Thresholds
from api.db import Database
from tests.api.compliance.detection.test_setwise import told  # noqa: F401  (fixture)

ALERT_COLUMNS = (
    "alert_key, kind, strength, dealer_id, region_id, code_key, gtin, score, signals, "
    "observations, place, to_region_id, allocation_month, evidence_digest, state, revision"
)


def _written(conn: Connection, report: RunReport) -> dict[str, Any]:
    alerts = conn.execute(
        text(f"SELECT alert_id, entry_ids, {ALERT_COLUMNS} FROM compliance_alerts")
    ).all()
    ids = {row[0] for row in alerts}
    entry_ids = [e for row in alerts for e in _json(row[1])]
    staged = conn.execute(text("SELECT entry_id, kind, payload FROM ledger_outbox")).all()
    payloads = {}
    for _, kind, payload in staged:
        body = json.loads(payload)
        assert body["alert"] in ids
        payloads[body["code"], body["kind"], body.get("dealer")] = (kind, _without_id(body))
    assert sorted(entry_ids) == sorted(e for e, _, _ in staged)
    assert len(ids) == len(alerts) == report.raised and len(set(entry_ids)) == len(entry_ids)
    assert sorted(report.alert_ids) == sorted(ids)
    return {"alerts": sorted(tuple(map(str, row[2:])) for row in alerts), "staged": payloads}


def _json(value: Any) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value)


def _without_id(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "alert"}


def test_alerts_built_in_turns_are_the_alerts_built_alone(
    db: Database,
    told: list[CaseStory],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    helpers = 2  # two helpers: the dealing between helpers, not only parent and helper
    monkeypatch.setattr(runs, "ALERTS_WRITTEN_AT_ONCE", 3)  # many chunks, many turns
    forked: list[int] = []

    class Counted(InTurns[Any, Any]):
        def __enter__(self) -> Counted:
            super().__enter__()
            forked.append(len(self._children))
            return self

    monkeypatch.setattr(runs, "InTurns", Counted)
    written = []
    for forks in (0, helpers):
        with db.writer.connect() as conn:
            tx = conn.begin()
            report = run_detection(conn, Thresholds(), "test", helpers=forks)
            written.append(_written(conn, report))
            tx.rollback()
    alone, in_turns = written
    assert forked == [0, helpers]
    assert len(alone["alerts"]) > 3 * (helpers + 1)  # every process had turns
    assert in_turns == alone
