"""The transaction for requests that change stock, orders and shipments.

On SQLite these run on the writer engine (``BEGIN IMMEDIATE``): the write lock is taken
before the first read, so two requests can never both read the same stock and then both write
it; a deferred transaction would instead fail with "database is locked" when upgrading. On
PostgreSQL the rows themselves are locked (``SELECT … FOR UPDATE``, conditional UPDATEs).

Endpoints open it *inside* their own body (``with writing(request) as conn:``) rather than
through a yield dependency: FastAPI runs a sync dependency's exit (the commit) on another
worker thread, and under load every worker thread can be waiting for the lock that the
transaction needing one to commit holds. Opening and committing in one thread cannot deadlock.
"""

from __future__ import annotations

from api.deps import writer_transaction

writing = writer_transaction
"""Open inside the endpoint body: ``with writing(request) as conn:``."""
