"""The lookup's "suspicious" verdict and compliance's clone alert are one rule.

The same stored scan sequences are judged by the public lookup (its verdict's reasons) and by
compliance detection (the pure detector over the stored rows, as an incremental run does, and
the set-based full run); they must name the same clone signals for every code, and the
thresholds of both must be the ones the settings give.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.app import create_app
from api.channel.geo import distance_m
from api.compliance.alerts import setwise
from api.compliance.alerts.runs import Places, detect
from api.compliance.detection.detector import Detector
from api.compliance.detection.thresholds import from_settings
from api.compliance.geo.gazetteer import gazetteer
from api.config import Settings
from api.db import Database
from api.models import Base
from ledger.note import NoteSigner
from tests.api.conftest import make_key
from tests.api.trace.conftest import make_history

# City centres as the lookup records them (hundredths of a degree, ``resolver.geo``).
BEIJING = ("北京", 3990, 11640)
SHANGHAI = ("上海", 3123, 12147)
CHENGDU = ("成都", 3057, 10407)
SUZHOU = ("苏州", 3130, 12058)
NOWHERE = (None, None, None)


def _hop_s(a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    """Seconds that make the hop from ``a`` to ``b`` exactly 1,000 km/h (whole seconds)."""
    return round(
        distance_m(a[1] * 10_000, a[2] * 10_000, b[1] * 10_000, b[2] * 10_000) * 3.6 / 1000
    )


@dataclass(frozen=True)
class Story:
    name: str
    scans: tuple[tuple[int, str | None, tuple[Any, ...]], ...]
    """(seconds after the start, device or None, place) in time order."""
    expected: frozenset[str]
    """The clone signals this sequence must raise (the rule's intent, not either path's)."""


SEQUENCES = (
    Story(
        "beijing then chengdu within the hour",
        ((0, "a", BEIJING), (3600, "b", CHENGDU)),
        frozenset({"impossible_travel"}),
    ),
    Story(
        "beijing then chengdu three hours later",
        ((0, "a", BEIJING), (3 * 3600, "b", CHENGDU)),
        frozenset(),
    ),
    Story(
        "suzhou then shanghai within a minute: one agglomeration",
        ((0, "a", SUZHOU), (30, "b", SHANGHAI)),
        frozenset(),
    ),
    Story(
        "a second faster than an airliner",
        ((0, "a", BEIJING), (_hop_s(BEIJING, SHANGHAI) - 2, "b", SHANGHAI)),
        frozenset({"impossible_travel"}),
    ),
    Story(
        "a second slower than an airliner",
        ((0, "a", BEIJING), (_hop_s(BEIJING, SHANGHAI) + 2, "b", SHANGHAI)),
        frozenset(),
    ),
    Story(
        "unplaced scans between do not break the pair",
        ((0, "a", BEIJING), (60, "a", NOWHERE), (120, None, NOWHERE), (1800, "b", CHENGDU)),
        frozenset({"impossible_travel"}),
    ),
    Story(
        "six phones in one city",
        tuple((i * 600, f"p{i}", CHENGDU) for i in range(6)),
        frozenset({"too_many_devices"}),
    ),
    Story(
        "five phones, many scans, and scans without a device",
        tuple((i * 600, f"p{i % 5}" if i % 4 else None, CHENGDU) for i in range(12)),
        frozenset(),
    ),
    Story(
        "both at once",
        (*((i * 60, f"q{i}", BEIJING) for i in range(6)), (600, "q9", SHANGHAI)),
        frozenset({"too_many_devices", "impossible_travel"}),
    ),
)


@pytest.fixture
def admin(client: TestClient, db: Database) -> TestClient:
    client.headers["Authorization"] = f"Bearer {make_key(db, 'admin')}"
    return client


@pytest.fixture
def tight_admin(settings: Settings, signer: NoteSigner, db: Database) -> Iterator[TestClient]:
    """An app whose own settings (not the environment) allow two devices per code."""
    tight = settings.model_copy(update={"compliance_max_devices": 2})
    with TestClient(create_app(tight)) as api:
        api.headers["Authorization"] = f"Bearer {make_key(db, 'admin')}"
        yield api


def _store(db: Database, uris: list[str], sequences: tuple[Story, ...]) -> dict[str, int]:
    """Each sequence's scans on its own bottle; the bottles' code ids by sequence name."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)
    scans = Base.metadata.tables["trace_scans"]
    ids: dict[str, int] = {}
    with db.writer.begin() as conn:
        for uri, seq in zip(uris, sequences, strict=False):
            serial = uri.rsplit("/", 1)[1]
            ids[seq.name], case_id = conn.execute(
                text(
                    "SELECT id, COALESCE(parent_id, packed_in) FROM trace_codes WHERE serial = :s"
                ),
                {"s": serial},
            ).one()
            for offset, device, (city, lat, lon) in seq.scans:
                conn.execute(
                    scans.insert(),
                    {
                        "code_id": ids[seq.name],
                        "at": start + timedelta(seconds=offset),
                        "device_hash": hashlib.sha256(device.encode()).digest() if device else None,
                        "province": city,
                        "city": city,
                        "lat_centi": lat,
                        "lon_centi": lon,
                        "case_id": case_id,
                    },
                )
    return ids


def _verdict(api: TestClient, uri: str) -> set[str]:
    """The clone signals the lookup's verdict names (a lookup without a device id records
    no scan of its own)."""
    path = uri.split("://", 1)[1].split("/", 1)[1]
    response = api.get("/" + path, headers={"Accept": "application/json"})
    assert response.status_code == 200, response.text
    verdict = response.json()["verdict"]
    named = set()
    for reason in verdict["reasons"]:
        assert "may have been copied" in reason, reason  # activated, not recalled: clones only
        named.add("too_many_devices" if "different devices" in reason else "impossible_travel")
    assert (verdict["status"] == "suspicious") == bool(named)
    return named


def _clones(detector: Detector) -> dict[str, set[str]]:
    return {
        f.code: {s.name.value for s in f.signals} for f in detector.findings() if f.kind == "clone"
    }


def _judge(api: TestClient, db: Database, sequences: tuple[Story, ...]) -> None:
    history = make_history(api, bottles=12)
    uris = history.bottles[: len(sequences)]
    ids = _store(db, uris, sequences)
    th = from_settings(api.app.state.settings)  # type: ignore[attr-defined]
    with db.writer.begin() as conn:
        incremental = _clones(detect(conn, th, code_ids=list(ids.values())))
        full = _clones(setwise.detect_all(conn, th, Places(gazetteer()).of))
        setwise.drop_tables(conn)
    for uri, seq in zip(uris, sequences, strict=True):
        code = str(ids[seq.name])
        lookup = _verdict(api, uri)
        judged = (lookup, incremental.get(code, set()), full.get(code, set()))
        assert judged == (seq.expected,) * 3, (seq.name, judged)


def test_lookup_verdict_and_clone_alert_agree_on_every_sequence(
    admin: TestClient, db: Database
) -> None:
    assert len(SEQUENCES) <= 12
    _judge(admin, db, SEQUENCES)


def test_both_read_the_device_limit_from_the_settings(
    tight_admin: TestClient, db: Database
) -> None:
    three = Story(
        "three phones",
        tuple((i * 600, f"t{i}", CHENGDU) for i in range(3)),
        frozenset({"too_many_devices"}),
    )
    two = Story("two phones", ((0, "u0", CHENGDU), (600, "u1", CHENGDU)), frozenset())
    _judge(tight_admin, db, (three, two))
