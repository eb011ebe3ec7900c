"""CPU seconds that a served benchmark's processes spend, read from Linux's ``/proc``.

A saturated throughput figure says how many requests a second came back, not which process
ran out of CPU first. On a machine whose cores the server, PostgreSQL and the load generator
share, the CPU each spends per request says where a request's cost lies: the server
process's (one uvicorn worker: one core at most, its GIL) bounds the rate, and PostgreSQL's
backends share the other core with the load generator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """CPU seconds so far of the server's processes and of PostgreSQL's, by process id."""

    server: dict[int, float]
    postgres: dict[int, float]


@dataclass(frozen=True, slots=True)
class Spent:
    """CPU seconds spent between two snapshots."""

    server: float
    postgres: float


def available() -> bool:
    return (PROC / "self" / "stat").is_file()


def snapshot(server_pid: int) -> Snapshot:
    """The server process and its children (uvicorn's workers), and every process named
    ``postgres`` (the postmaster, its backends and helpers)."""
    tick = os.sysconf("SC_CLK_TCK")
    server: dict[int, float] = {}
    postgres: dict[int, float] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        comm, parent, ticks = parse_stat(stat)
        pid = int(entry.name)
        if pid == server_pid or parent == server_pid:
            server[pid] = ticks / tick
        elif comm == "postgres":
            postgres[pid] = ticks / tick
    return Snapshot(server, postgres)


def parse_stat(stat: str) -> tuple[str, int, int]:
    """(command name, parent's id, user + system CPU in clock ticks) of a ``/proc/PID/stat``
    line: "pid (comm) state ppid …". The name may hold spaces and parentheses, so the fields
    are counted after the last ")", from 3 (state): ppid (4) is the second, utime (14) and
    stime (15) the twelfth and thirteenth."""
    head, _, rest = stat.rpartition(")")
    fields = rest.split()
    return head.partition("(")[2], int(fields[1]), int(fields[11]) + int(fields[12])


def spent(before: Snapshot, after: Snapshot) -> Spent:
    """What the processes of ``after`` spent since ``before`` (a process started in between
    counts from nothing; one that ended in between is lost, as a pooled backend rarely is)."""

    def delta(a: dict[int, float], b: dict[int, float]) -> float:
        return sum(seconds - a.get(pid, 0.0) for pid, seconds in b.items())

    return Spent(delta(before.server, after.server), delta(before.postgres, after.postgres))
