"""Demo data for ``make run``: a small, realistic slice of the channel's history."""

from __future__ import annotations

import uuid
from typing import Any

from api.log import repository as repo
from api.log.sequencer import Submission
from api.log.service import LogService

# Stable ids make seeding idempotent: a second run returns the original seqs.
_NS = uuid.UUID("6a697579-7561-6e00-0000-000000000000")

DEMO_ENTRIES: list[tuple[str, dict[str, Any]]] = [
    (
        "production.base_liquor_lot",
        {
            "lot": "BL-2019-017",
            "tank": "T-17",
            "distillery": "仁怀一号酒厂",
            "vintage": 2019,
            "grade": "优级",
            "abv_permille": 535,
            "volume_ml": 12_000_000,
        },
    ),
    (
        "production.base_liquor_lot",
        {
            "lot": "BL-2021-042",
            "tank": "T-42",
            "distillery": "仁怀一号酒厂",
            "vintage": 2021,
            "grade": "一级",
            "abv_permille": 530,
            "volume_ml": 8_000_000,
        },
    ),
    (
        "production.blend",
        {
            "blend": "BD-2026-118",
            "blender": "王建国",
            "inputs": [
                {"lot": "BL-2019-017", "volume_ml": 600_000},
                {"lot": "BL-2021-042", "volume_ml": 400_000},
            ],
        },
    ),
    (
        "production.batch",
        {
            "lot": "L20261125A",
            "gtin": "06901234567892",
            "blend": "BD-2026-118",
            "line": "灌装线 3",
            "planned_bottles": 1200,
        },
    ),
    (
        "storage.summary",
        {
            "zone": "WH-GUIYANG-A/酒库1",
            "hour": "2026-11-25T02:00:00Z",
            "count": 60,
            "temp_centi_c": {"min": 1520, "max": 1610, "mean": 1566},
            "rh_permille": {"min": 642, "max": 668, "mean": 655},
        },
    ),
    (
        "channel.transfer",
        {
            "from": "HQ-GUIYANG",
            "to": "DEALER-CD-0031",
            "region": "西南大区",
            "cases": 20,
            "lot": "L20261125A",
        },
    ),
]


def seed(log: LogService) -> int:
    """Append the demo entries if the log is empty; return how many were appended."""
    with log.db.engine.connect() as conn:
        if repo.log_size(conn) > 0:
            return 0
    subs = [
        Submission.of(str(uuid.uuid5(_NS, f"demo-{i}")), kind, payload)
        for i, (kind, payload) in enumerate(DEMO_ENTRIES)
    ]
    results = log.sequencer.append(subs)
    log.checkpoint_now()
    return sum(not r.duplicate for r in results)
