"""psycopg's prepared statements, kept across a ``ROLLBACK``.

psycopg prepares a statement on a connection after a few executions (or at once, when asked)
and forgets all of them — and has the server drop them (``DEALLOCATE ALL``) — whenever it
sees a ``ROLLBACK``, of a transaction or to a savepoint. It does so in case the transaction
had created a table a statement was prepared against. Here a refused request rolls back, so
the next transaction on its pooled connection would prepare and plan every hot statement
again (PostgreSQL plans a prepared statement anew for its first five executions): order
placement with one refusal in six cost the server about 1.8 times the CPU per order it costs
with the statements kept (docs/architecture.md, *Pooled connections*).

Jiuyuan's transactions on pooled connections run no DDL (schema changes run in migrations,
which commit), so a rollback cannot take away an object a prepared statement needs. psycopg
still clears on ``DROP``, ``ALTER``, ``DISCARD ALL`` and ``DEALLOCATE ALL``.

One thing the clearing used to sweep up: when the first execution of a statement psycopg has
just prepared fails, psycopg forgets its name but the server keeps it. Without the clearing
such a statement stays on the server until the connection closes — one per such failure; the
hot statements here signal refusals in their results, not by failing, so they make none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from psycopg import pq

try:  # psycopg's own manager: a private class, checked by tests/api/test_db_pool.py
    from psycopg._preparing import Prepare, PrepareManager
except ImportError:  # pragma: no cover - a psycopg without it keeps its own behaviour
    PrepareManager = None  # type: ignore[assignment,misc]

_SCHEMA_CHANGED = re.compile(rb"^(?:DROP|ALTER|DISCARD ALL|DEALLOCATE ALL)\b").match


if PrepareManager is not None:

    class KeptOnRollback(PrepareManager):  # type: ignore[misc,valid-type]
        """psycopg's manager, but a ``ROLLBACK`` keeps the prepared statements."""

        def clear(self) -> bool:
            # Called by ``Connection.rollback()``; nothing to forget (module docstring).
            return False

        def _should_discard(self, prep: Any, results: Sequence[Any]) -> bool:
            if self._names or prep == Prepare.SHOULD:
                for result in results:
                    if result.status != pq.ExecStatus.COMMAND_OK:
                        continue
                    if (status := result.command_status) and _SCHEMA_CHANGED(status):
                        return bool(PrepareManager.clear(self))
            return False


def keep_prepared_on_rollback(dbapi_conn: Any) -> bool:
    """Give a new psycopg connection the manager above; False if this psycopg has none."""
    old = getattr(dbapi_conn, "_prepared", None)
    if PrepareManager is None or not isinstance(old, PrepareManager):
        return False
    manager = KeptOnRollback()
    manager.prepare_threshold = old.prepare_threshold
    manager.prepared_max = old.prepared_max
    dbapi_conn._prepared = manager
    return True
