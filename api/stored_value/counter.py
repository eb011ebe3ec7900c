"""Where and when an operation happens: a store's counter, in the store's business day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine

from api.channel import repository as parties
from api.errors import NotFound
from api.trace.common import SHANGHAI


@dataclass(frozen=True, slots=True)
class Counter:
    store_id: str
    dealer_id: str | None
    now: datetime

    @property
    def business_day(self) -> date:
        """Days run midnight to midnight in Asia/Shanghai, as the store's Z-report does."""
        return self.now.astimezone(SHANGHAI).date()

    @property
    def programmes(self) -> tuple[str, ...]:
        """The issuers whose cards this store accepts: its own and its dealer's."""
        return (self.store_id,) if self.dealer_id is None else (self.store_id, self.dealer_id)


# A store's dealer is fixed when the store is created (the channel never moves or deletes a
# store), so it is read once per engine (database): one query less per operation.
_dealer_of: WeakKeyDictionary[Engine, dict[str, str | None]] = WeakKeyDictionary()


def counter_at(conn: Connection, store_id: str, now: datetime | None = None) -> Counter:
    known = _dealer_of.setdefault(conn.engine, {})
    if store_id not in known:
        store = parties.get_party(conn, store_id)
        if store is None or store.kind != "store":
            raise NotFound(f"no store {store_id!r}")
        known[store_id] = store.dealer_id
    return Counter(store_id, known[store_id], now or datetime.now(UTC))
