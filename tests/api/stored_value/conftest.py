"""Fixtures for stored value: a small channel, member keys, rules, a till per store."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from api.config import Settings
from api.db import Database
from api.log.service import LogService
from api.stored_value.privacy import MemberKeys
from api.stored_value.rules import Rules
from ledger.note import NoteSigner
from tests.api.channel.world import world
from tests.api.stored_value.till import Shop, Till, make_shop

__all__ = ["world"]


@pytest.fixture
def keys() -> MemberKeys:
    return MemberKeys(os.urandom(32))


@pytest.fixture
def rules() -> Rules:
    return Rules()


@pytest.fixture
def shop(db: Database) -> Shop:
    return make_shop(db)


@pytest.fixture
def till(db: Database, keys: MemberKeys, rules: Rules, shop: Shop) -> Till:
    return Till(db, keys, rules, shop.store)


@pytest.fixture
def log(db: Database, settings: Settings, signer: NoteSigner) -> Iterator[LogService]:
    """The log without its worker: tests relay staged entries themselves."""
    service = LogService(db, settings, signer, background=False)
    yield service
    service.close()
