"""Pure Python work of a batch run shared with forked helper processes, chunk by chunk.

Raising a full run's alerts is Python's work alone (each alert's evidence, digest, entry and
rows: about 300 µs an alert, 170,000 alerts at 10M scans), one interpreter on one core while
the server's core idles. :class:`InTurns` deals the chunks out to helper processes forked
for the purpose: of every ``2 × helpers + 1`` chunks each helper builds two and the parent
one, as the parent also writes every chunk. A helper inherits everything the run has read
(the findings, the codes, the thresholds) without copying or pickling any of it, builds its
chunks, and sends back only what it built, pickled over a pipe. The caller gets the results
in chunk order, as if it had built them all itself; it writes them (a helper never touches
the database: the run's connection and its transaction stay the parent's).

Forking is for a process that does nothing else meanwhile (the command line's run, the
benchmark): the caller asks for it (``helpers``) and forks before it starts a thread of its
own. A forked child has only the forking thread, and a lock another thread held at that moment
(in OpenSSL, say, behind ``hashlib``) would stay held in the child for good. A server handling
requests in threads therefore runs with no helpers, as does any platform without ``fork``.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import traceback
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_LENGTH = struct.Struct("!Q")
_OK, _FAILED = 0, 1


class HelperFailed(RuntimeError):
    """A helper process could not build its share; the run fails as if the parent had."""


class InTurns(Generic[T, R]):
    """``build(chunk)`` of every chunk, in order, each built by the process :meth:`turn_of`
    names, 0 being this one. Use as a context manager: entering forks the helpers (which start
    building at once), iterating yields the results, leaving waits for them (or, when the
    block failed, stops them)."""

    def __init__(
        self, chunks: Sequence[Sequence[T]], build: Callable[[Sequence[T]], R], helpers: int
    ) -> None:
        self.chunks = chunks
        self.build = build
        # No more helpers than have a chunk to build.
        self.helpers = max(0, min(helpers, len(chunks) // 2)) if hasattr(os, "fork") else 0
        self._children: list[tuple[int, Any]] = []

    def __enter__(self) -> InTurns[T, R]:
        for turn in range(1, self.helpers + 1):
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # the helper: build its turns, send them, and leave at once
                os.close(read)
                self._serve(turn, write)
            os.close(write)
            self._children.append((pid, os.fdopen(read, "rb")))
        return self

    def turn_of(self, i: int) -> int:
        """Who builds chunk ``i``: of every ``2 × helpers + 1`` chunks, the first is this
        process's, then two for each helper in turn."""
        return (i % (2 * self.helpers + 1) + 1) // 2

    def __iter__(self) -> Iterator[R]:
        for i, chunk in enumerate(self.chunks):
            turn = self.turn_of(i)
            if turn == 0:
                yield self.build(chunk)
            else:
                yield self._receive(self._children[turn - 1][1])

    def __exit__(self, kind: object, error: object, tb: object) -> None:
        for pid, pipe in self._children:
            if error is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            pipe.close()
            os.waitpid(pid, 0)
        self._children.clear()

    def _serve(self, turn: int, fd: int) -> None:
        """The helper's whole life: never returns, never runs the parent's clean-up (its
        connections, its temporary files, its ``atexit`` hooks stay the parent's)."""
        status = 0
        try:
            with os.fdopen(fd, "wb") as pipe:
                try:
                    for i, chunk in enumerate(self.chunks):
                        if self.turn_of(i) == turn:
                            _send(pipe, _OK, self.build(chunk))
                except BaseException:
                    status = 1
                    _send(pipe, _FAILED, traceback.format_exc())
        except BaseException:
            status = 1
        finally:
            os._exit(status)

    @staticmethod
    def _receive(pipe: Any) -> R:
        header = pipe.read(_LENGTH.size + 1)
        if len(header) < _LENGTH.size + 1:
            raise HelperFailed("a helper process building alerts ended without its results")
        status, (length,) = header[0], _LENGTH.unpack(header[1:])
        body = pipe.read(length)
        if len(body) < length:
            raise HelperFailed("a helper process building alerts ended mid-result")
        if status != _OK:
            raise HelperFailed(f"a helper process building alerts failed:\n{pickle.loads(body)}")
        result: R = pickle.loads(body)
        return result


def _send(pipe: Any, status: int, value: object) -> None:
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(bytes([status]) + _LENGTH.pack(len(body)))
    pipe.write(body)
    pipe.flush()
