"""What the endpoints share: the database, the log, the member keys and the card rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Connection

from api.config import Settings
from api.db import Database
from api.deps import get_app_settings, get_db, get_log
from api.log.service import LogService
from api.stored_value.idempotency import Replayable
from api.stored_value.privacy import MemberKeys, keys_for
from api.stored_value.rules import Rules
from api.stored_value.transactions import atomically, optimistically

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")

REPLAYED = "Idempotent-Replayed"


@dataclass(frozen=True, slots=True)
class StoredValueContext:
    db: Database
    log: LogService
    keys: MemberKeys
    rules: Rules
    settings: Settings

    def write(self, work: Callable[[Connection], Replayable[M]]) -> JSONResponse:
        """Run an idempotent write in its own (retried) transaction; answer as it first did."""
        return self._answer(atomically(self.db, work))

    def operate(self, work: Callable[[Connection], Replayable[M]]) -> JSONResponse:
        """Run a clerk's operation (``operations``), on PostgreSQL first without a transaction
        (see ``transactions.optimistically``); answer as it first did."""
        return self._answer(optimistically(self.db, work))

    def _answer(self, outcome: Replayable[M]) -> JSONResponse:
        self.log.wake()
        headers = {REPLAYED: "true"} if outcome.replayed else {}
        return JSONResponse(
            outcome.result.model_dump(mode="json"),
            status_code=outcome.status_code,
            headers=headers,
        )

    def run(self, work: Callable[[Connection], T]) -> T:
        """A write without an idempotency key (erasure, promotions): its own transaction, on
        SQLite the writer's (``BEGIN IMMEDIATE``), retried on transient conflicts."""
        result = atomically(self.db, work)
        self.log.wake()
        return result


def stored_value_context(request: Request) -> StoredValueContext:
    settings = get_app_settings(request)
    return StoredValueContext(
        db=get_db(request),
        log=get_log(request),
        keys=keys_for(settings.resolved_member_key_file),
        rules=Rules.from_settings(settings),
        settings=settings,
    )
