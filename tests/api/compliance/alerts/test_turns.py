"""Chunks built in turns by this process and forked helpers come back in order, exactly as
built here; a helper's failure is the run's, and a failed run leaves no helper behind."""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

from api.compliance.alerts.turns import HelperFailed, InTurns

CHUNKS = [list(range(n * 10, n * 10 + 10)) for n in range(7)]


def _squares_and_pid(chunk: Sequence[int]) -> tuple[list[int], int]:
    return [n * n for n in chunk], os.getpid()


@pytest.mark.parametrize("helpers", [0, 1, 2, 6, 20])
def test_results_come_in_chunk_order_from_every_process(helpers: int) -> None:
    with InTurns(CHUNKS, _squares_and_pid, helpers) as turns:
        built = list(turns)
    assert [squares for squares, _ in built] == [[n * n for n in c] for c in CHUNKS]
    used = min(helpers, len(CHUNKS) // 2)  # no helper without a chunk to build
    pids = [pid for _, pid in built]
    assert len(set(pids)) == used + 1  # each turn in its own process
    # Of every 2 × helpers + 1 chunks, the parent builds the first, each helper the next two.
    dealt = [turns.turn_of(i) for i in range(len(CHUNKS))]
    assert dealt[: 2 * used + 1] == [0] + [n for h in range(1, used + 1) for n in (h, h)]
    by_turn = {t: {p for p, d in zip(pids, dealt, strict=True) if d == t} for t in dealt}
    assert by_turn[0] == {os.getpid()} and all(len(p) == 1 for p in by_turn.values())


def test_a_helper_sees_what_the_parent_had_when_it_forked() -> None:
    seen = {"rule": "before"}

    def build(chunk: Sequence[int]) -> str:
        return f"{seen['rule']}:{len(chunk)}"

    with InTurns(CHUNKS[:2], build, 1) as turns:
        seen["rule"] = "after"  # the helper already has its own copy
        built = list(turns)
    assert built == ["after:10", "before:10"]


def test_a_helper_that_fails_fails_the_run_with_its_traceback() -> None:
    def build(chunk: Sequence[int]) -> int:
        if chunk[0] == 10 and os.getpid() != parent:
            raise ValueError("no evidence for chunk 10")
        return chunk[0]

    parent = os.getpid()
    turns = InTurns(CHUNKS, build, 1)
    with pytest.raises(HelperFailed, match=r"(?s)ValueError: no evidence for chunk 10"), turns:
        list(turns)


def test_a_run_that_fails_stops_its_helpers() -> None:
    def build(chunk: Sequence[int]) -> int:
        if os.getpid() == parent and chunk[0] == 50:  # the parent's second turn
            raise KeyError("the parent's own failure")
        return chunk[0]

    parent = os.getpid()
    turns = InTurns(CHUNKS, build, 2)
    with pytest.raises(KeyError), turns:
        helpers = [pid for pid, _ in turns._children]
        list(turns)
    _assert_reaped(helpers)


def test_a_run_that_stops_early_waits_for_its_helpers() -> None:
    with InTurns(CHUNKS, _squares_and_pid, 1) as turns:
        helpers = [pid for pid, _ in turns._children]
        next(iter(turns))
    _assert_reaped(helpers)


def _assert_reaped(pids: list[int]) -> None:
    assert pids
    for pid in pids:  # waited for already: not running, and not left unreaped
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
