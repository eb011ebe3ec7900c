"""Idempotency keys built from the business event: the store and its POS transaction number.

A retry with the same key and the same body gets the stored answer of the first attempt,
byte for byte; the same key with another body is a 409. Only a completed operation stores its
answer: a rejected attempt rolls back with everything else, so it neither advances the ledger
nor pins the key, and the clerk may retry it once the cause is fixed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection

from api.errors import AppError, Conflict, Unprocessable
from api.stored_value import repository as repo
from api.stored_value.privacy import MemberKeys
from api.stored_value.repository import RequestRow
from ledger.canonical import canonical_json

M = TypeVar("M", bound=BaseModel)

POS_TXN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
HEADER = "Idempotency-Key"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class BadIdempotencyKey(Unprocessable):
    code = "bad_idempotency_key"


@dataclass(frozen=True, slots=True)
class RequestKey:
    store_id: str
    pos_txn: str

    @property
    def text(self) -> str:
        return f"{self.store_id}:{self.pos_txn}"


def parse_key(header: str | None, store_id: str) -> RequestKey:
    """``<store id>:<POS transaction number>``; the store must be the operation's store."""
    example = f"{store_id}:POS1-20261125-000123"
    if not header:
        raise BadIdempotencyKey(
            f"this write needs an {HEADER} header: the store id and the POS transaction number, "
            f"for example {example}"
        )
    store, sep, txn = header.partition(":")
    if not sep or not POS_TXN.fullmatch(txn):
        raise BadIdempotencyKey(
            f"{HEADER} must be <store id>:<POS transaction number> (1-64 of A-Z a-z 0-9 . _ / -), "
            f"for example {example}"
        )
    if store != store_id:
        raise BadIdempotencyKey(f"{HEADER} names store {store}, but the request is for {store_id}")
    return RequestKey(store, txn)


@dataclass(frozen=True, slots=True)
class Replayable(Generic[M]):
    result: M
    status_code: int
    replayed: bool


def digest(keys: MemberKeys, operation: str, request: Mapping[str, Any]) -> bytes:
    """What a retry must match: the operation and its body, as a keyed hash."""
    return keys.request_digest(canonical_json({"operation": operation, "request": dict(request)}))


def replay(
    found: RequestRow, key: RequestKey, operation: str, request_digest: bytes, model: type[M]
) -> Replayable[M]:
    """The stored answer of a used key, if this request is the one that used it."""
    if found.status_code >= 400:  # a tombstone: the answer was erased with the member
        error = json.loads(found.response)["error"]
        raise AppError(error["message"], status_code=found.status_code, code=error["code"])
    if found.operation != operation or found.request_digest != request_digest:
        raise IdempotencyKeyReused(
            f"{HEADER} {key.text} was already used for a different request "
            f"({found.operation.replace('_', ' ')}); a new transaction needs a new POS "
            "transaction number"
        )
    return Replayable(model.model_validate_json(found.response), found.status_code, True)


def claim(
    conn: Connection,
    keys: MemberKeys,
    key: RequestKey,
    operation: str,
    request: Mapping[str, Any],
    model: type[M],
    *,
    now: datetime,
    member_id: str | None = None,
) -> Replayable[M] | None:
    """Claim ``key`` for this request (``None``), or, if it was already used, its (original)
    result.

    ``member_id`` marks the request as being about a member's personal data, so erasing the
    member can blank the stored answer.
    """
    request_digest = digest(keys, operation, request)
    if repo.claim_request(conn, key.text, operation, request_digest, member_id, now):
        return None
    found = repo.get_request(conn, key.text)
    if found is None:  # only a concurrent rollback between our two statements
        raise Conflict("this idempotency key is being used right now; retry")
    return replay(found, key, operation, request_digest, model)


def once(
    conn: Connection,
    keys: MemberKeys,
    key: RequestKey,
    operation: str,
    request: Mapping[str, Any],
    model: type[M],
    run: Callable[[], M],
    *,
    now: datetime,
    status_code: int = 201,
    member_id: str | None = None,
    member_of: Callable[[M], str] | None = None,
) -> Replayable[M]:
    """Run ``run`` unless ``key`` was already used; return its (original) result.

    ``member_id`` / ``member_of`` mark the request as being about a member's personal data,
    so erasing the member can blank the stored answer.
    """
    replayed = claim(conn, keys, key, operation, request, model, now=now, member_id=member_id)
    if replayed is not None:
        return replayed
    result = run()
    about = member_of(result) if member_of is not None else member_id
    repo.complete_request(conn, key.text, status_code, result.model_dump_json(), about)
    return Replayable(result, status_code, False)
