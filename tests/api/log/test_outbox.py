"""Entries staged by domain transactions reach the log exactly once, or not at all."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from api.config import Settings
from api.db import Database
from api.log import repository as repo
from api.log.outbox import stage_entry
from api.log.service import LogService
from ledger.errors import MalformedEntryError
from ledger.note import NoteSigner


@pytest.fixture
def log(db: Database, settings: Settings, signer: NoteSigner) -> Iterator[LogService]:
    service = LogService(db, settings, signer, background=False)
    yield service
    service.close()


def outbox_size(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM ledger_outbox")).scalar_one())


def test_rolled_back_transaction_stages_nothing(db: Database, log: LogService) -> None:
    with pytest.raises(RuntimeError), db.engine.begin() as conn:
        stage_entry(conn, "test.entry", {"n": 1})
        raise RuntimeError("domain rule failed")
    assert log.relay() == []
    with db.engine.connect() as conn:
        assert repo.log_size(conn) == 0


def test_committed_entries_are_sequenced_once(db: Database, log: LogService) -> None:
    with db.engine.begin() as conn:
        ids = [stage_entry(conn, "test.entry", {"n": i}) for i in range(3)]
    first = log.relay(ids)
    assert [r.seq for r in first] == [0, 1, 2]
    assert outbox_size(db) == 0
    # A relay that crashed after sequencing but before clean-up resubmits: same seqs.
    with db.engine.begin() as conn:
        stage_entry(conn, "test.entry", {"n": 0}, entry_id=ids[0])
    again = log.relay()
    assert [(r.seq, r.duplicate) for r in again] == [(0, True)]
    with db.engine.connect() as conn:
        assert repo.log_size(conn) == 3


def test_floats_fail_the_domain_transaction(db: Database) -> None:
    with pytest.raises(MalformedEntryError), db.engine.begin() as conn:
        stage_entry(conn, "test.entry", {"price": 1.5})
    assert outbox_size(db) == 0


def test_background_worker_sweeps_the_outbox(
    db: Database, settings: Settings, signer: NoteSigner
) -> None:
    with db.engine.begin() as conn:
        stage_entry(conn, "test.entry", {"n": 1})
    service = LogService(db, settings, signer, background=True)
    try:
        deadline = time.monotonic() + 10
        while outbox_size(db) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert outbox_size(db) == 0
        with db.engine.connect() as conn:
            assert repo.log_size(conn) == 1
    finally:
        service.close()


def test_closing_stops_the_worker_quietly_and_keeps_what_is_staged(
    db: Database, settings: Settings, signer: NoteSigner, caplog: pytest.LogCaptureFixture
) -> None:
    quiet = settings.model_copy(update={"checkpoint_interval_s": 3600.0})
    service = LogService(db, quiet, signer, background=True)
    with db.engine.begin() as conn:
        stage_entry(conn, "test.entry", {"n": 1})
    # The worker wakes for the close with an entry waiting; it used to relay it into the
    # sequencer the close had already shut, and log the failure.
    service.close()
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    assert outbox_size(db) == 1  # left staged for the next start
    again = LogService(db, quiet, signer, background=False)
    try:
        assert [r.seq for r in again.relay()] == [0]
    finally:
        again.close()
