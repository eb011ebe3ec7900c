"""Running an anchorer: one process at a time (a lease row), steps on a timer, backoff on faults.

The lease is a row in ``anchoring_lease`` that the runner renews before every step; another
process takes it over only once it has expired, so a crashed anchorer is replaced within
``lease_s`` and two never step at once while their clocks agree to within that margin.
A lease row, not a PostgreSQL advisory lock, so that SQLite and PostgreSQL behave the same and
no connection has to be held open across the chain's slow calls.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from anchoring import repository as repo
from anchoring.anchorer import StepReport, utc_now
from anchoring.errors import (
    AnchoringConfigError,
    AnchoringError,
    ChainRejected,
    ChainUnavailable,
)
from api.db import Database

log = logging.getLogger(__name__)

LEASE = "anchor-worker"


class Anchorer(Protocol):
    """Anchoring as the service and the command line see it, whichever backend it is.

    ``web3`` (:class:`anchoring.anchorer.Web3Anchorer`) writes to a chain; ``null``
    (:class:`anchoring.service.NullAnchorer`) is anchoring turned off.
    """

    backend: str

    def describe(self) -> str:
        """Say where anchors go (no secrets)."""
        ...

    def step(self) -> StepReport:
        """Advance anchoring by one move."""
        ...


def holder_id() -> str:
    """A name for this process in the lease row: host, pid and a random tag."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class AnchorRunner:
    """Steps an anchorer under the lease, on a timer, with exponential backoff on faults."""

    def __init__(
        self,
        db: Database,
        anchorer: Anchorer,
        *,
        poll_s: float,
        lease_s: float = 120.0,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 60.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.db = db
        self.anchorer = anchorer
        self.poll_s = poll_s
        self.lease_s = max(lease_s, 4 * poll_s)
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.clock = clock
        self.holder = holder_id()
        self.failures = 0
        self.last_report: StepReport | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def take_lease(self) -> bool:
        """Take or renew the lease; False while another live process holds it."""
        now = self.clock()
        with self.db.engine.begin() as conn:
            return repo.take_lease(
                conn, LEASE, self.holder, now, now + timedelta(seconds=self.lease_s)
            )

    def run_once(self) -> StepReport:
        """One step under the lease, or a ``standby`` report while another process holds it.

        Faults propagate: :class:`ChainUnavailable`, :class:`ChainRejected`,
        :class:`AnchoringConfigError` and :class:`anchoring.errors.AnchoringError`.
        """
        if not self.take_lease():
            with self.db.engine.connect() as conn:
                held = repo.lease_holder(conn, LEASE)
            who = f"{held[0]} until {held[1].isoformat()}" if held else "another process"
            return StepReport("standby", f"another process anchors ({who})")
        report = self.anchorer.step()
        self.last_report = report
        return report

    def next_delay(self) -> float:
        """Seconds to wait after the last step: the poll period, or the backoff after faults."""
        if self.failures == 0:
            return self.poll_s
        delay = min(self.backoff_max_s, self.backoff_base_s * 2.0 ** min(self.failures - 1, 30))
        jitter: float = random.uniform(0.8, 1.2)
        return delay * jitter

    def tick(self) -> StepReport | None:
        """One step in the loop: faults are logged and counted, never raised."""
        try:
            report = self.run_once()
        except ChainUnavailable as exc:
            self.failures += 1
            log.warning("anchoring: chain unreachable (%d in a row): %s", self.failures, exc)
            return None
        except (ChainRejected, AnchoringConfigError, AnchoringError) as exc:
            self.failures += 1
            log.error("anchoring: %s", exc)
            return None
        except Exception:
            self.failures += 1
            log.exception("anchoring failed (%d in a row)", self.failures)
            return None
        if self.failures:
            log.info("anchoring: chain reachable again after %d failures", self.failures)
        self.failures = 0
        return report

    def run(self) -> None:
        """Step until :meth:`close` is called."""
        log.info("anchoring worker %s started: %s", self.holder, self.anchorer.describe())
        try:
            while not self._stop.is_set():
                self.tick()
                self._stop.wait(self.next_delay())
        finally:
            self.release()

    def start(self) -> None:
        """Run in a daemon thread (the service's lifespan)."""
        self._thread = threading.Thread(target=self.run, name="jiuyuan-anchoring", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """Give up the lease so that another process can take over at once."""
        try:
            with self.db.engine.begin() as conn:
                repo.release_lease(conn, LEASE, self.holder, self.clock())
        except Exception:
            log.warning("anchoring: could not release the lease; it expires by itself")

    def close(self, timeout: float = 30.0) -> None:
        """Stop the thread (after its current step) and release the lease."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
