"""The benchmark's CPU accounting (``bench.cpu``), read from Linux's /proc."""

from __future__ import annotations

import os
import time

import pytest

from bench import cpu

pytestmark = pytest.mark.skipif(not cpu.available(), reason="no /proc on this system")


def test_a_stat_line_whose_name_holds_spaces_and_parentheses() -> None:
    fields = " ".join(str(n) for n in range(4, 53))  # fields 4 to 52, each its own number
    line = f"4242 (uv (worker) 1) S {fields}\n"
    name, parent, ticks = cpu.parse_stat(line)
    assert name == "uv (worker) 1"
    assert parent == 4
    assert ticks == 14 + 15


def test_the_cpu_this_process_spends_is_counted_as_the_server_s() -> None:
    pid = os.getpid()
    before = cpu.snapshot(pid)
    assert pid in before.server and pid not in before.postgres
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:
        pass
    spent = cpu.spent(before, cpu.snapshot(pid))
    assert 0.2 <= spent.server < 5
