"""Auditing a whole stored log, one entry at a time, in constant memory.

The caller streams the stored rows in ``seq`` order and hands over the stored checkpoints; the
audit recomputes every leaf hash from the stored bytes, the hash chain, the tree root at every
checkpoint, every checkpoint signature and the consistency between consecutive checkpoints, and
stops at the first fault with the seq it concerns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256

from ledger.chain import GENESIS
from ledger.checkpoint import Checkpoint, verify_checkpoint
from ledger.errors import VerificationError
from ledger.merkle import CompactRange, verify_consistency
from ledger.note import NoteVerifier

ConsistencyProver = Callable[[int, int], Sequence[bytes]]
"""``(size1, size2) -> proof``: how the audit asks storage for a consistency proof."""

NodeReader = Callable[[int, int, int], Mapping[int, bytes]]
"""``(level, first_index, stop_index) -> {index: hash}``: stored interior nodes of one level."""

NodeDigest = Callable[[int, int, int], bytes | None]
"""``(level, first_index, stop_index) -> SHA-256 of the stored hashes concatenated in index
order`` (None when there are none): lets storage compare a whole range without shipping it."""

_NODE_FLUSH = 1 << 16


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    """A checkpoint as stored: its tree size and root columns, and the signed note."""

    tree_size: int
    root_hash: bytes
    note: str


class LogFault(VerificationError):
    """The first thing found wrong with a stored log."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"seq {seq}: {reason}")
        self.seq = seq
        self.reason = reason


class LogAudit:
    """Feed every stored entry in order with :meth:`entry`, then call :meth:`finish`."""

    def __init__(
        self,
        verifier: NoteVerifier,
        origin: str,
        checkpoints: Sequence[StoredCheckpoint],
        consistency: ConsistencyProver | None = None,
        nodes: NodeReader | None = None,
        integrated_size: int = 0,
        node_digest: NodeDigest | None = None,
    ) -> None:
        self._verifier = verifier
        self._origin = origin
        self._pending = sorted(checkpoints, key=lambda c: c.tree_size)
        self._next = 0
        self._consistency = consistency
        self._nodes = nodes
        self._node_digest = node_digest
        self._integrated = integrated_size
        self._computed: list[tuple[int, int, bytes]] = []
        self._range = CompactRange()
        self._chain = GENESIS
        self._previous: Checkpoint | None = None
        self.checked_checkpoints = 0
        self._skip_empty()

    @property
    def size(self) -> int:
        """How many entries have been checked."""
        return self._range.size

    def entry(self, seq: int, data: bytes, leaf: bytes, chain: bytes) -> None:
        """Check one stored entry; raise :class:`LogFault` at the first problem."""
        expected = self._range.size
        # 1. The log is dense: the next row must carry the next seq.
        if seq != expected:
            raise LogFault(expected, f"entry is missing (the next stored entry is seq {seq})")
        # 2. The stored bytes hash to the stored leaf hash.
        computed = sha256(b"\x00" + data).digest()
        if computed != leaf:
            raise LogFault(seq, "stored bytes do not hash to the stored leaf hash")
        # 3. The bytes are the entry sequenced at this position (catches rows moved around).
        embedded = _embedded_seq(data)
        if embedded != seq:
            if embedded is not None and embedded < seq:
                # Rows were shifted up to make room: what now sits at ``embedded`` was inserted.
                raise LogFault(
                    embedded,
                    f"an entry was inserted here: the stored entry at seq {seq} was sequenced "
                    f"as seq {embedded}",
                )
            raise LogFault(seq, f"stored bytes carry seq {embedded}, not {seq}")
        # 4. The chain links this entry to every one before it.
        self._chain = sha256(self._chain + leaf).digest()
        if self._chain != chain:
            raise LogFault(seq, "chain hash does not follow from the previous entry")
        # 5. At every checkpoint size, the recomputed root must be the signed one.
        completed = self._range.append(leaf)
        if self._nodes is not None and seq < self._integrated:
            self._computed.extend(completed)
            if len(self._computed) >= _NODE_FLUSH:
                self._check_nodes()
        if self._next < len(self._pending) and self._pending[self._next].tree_size == seq + 1:
            self._check_checkpoint(self._pending[self._next])
            self._next += 1

    def finish(self) -> None:
        """Call after the last entry: every checkpoint must lie within the stored log."""
        self._check_nodes()
        if self._next < len(self._pending):
            cp = self._pending[self._next]
            raise LogFault(
                self._range.size,
                f"checkpoint of tree size {cp.tree_size} covers entries the log does not have "
                f"(it ends at seq {self._range.size - 1})",
            )

    def _check_nodes(self) -> None:
        """Compare the subtrees completed since the last check with the stored tree nodes."""
        if self._nodes is None or not self._computed:
            return
        by_level: dict[int, list[tuple[int, bytes]]] = {}
        for level, index, digest in self._computed:
            by_level.setdefault(level, []).append((index, digest))
        self._computed = []
        faults = []
        for level, computed in by_level.items():
            start, stop = computed[0][0], computed[-1][0] + 1
            if self._node_digest is not None:
                # The common case, an intact range, costs one digest from storage.
                expected = sha256(b"".join(digest for _, digest in computed)).digest()
                if self._node_digest(level, start, stop) == expected:
                    continue
            stored = self._nodes(level, start, stop)
            for index, digest in computed:
                if stored.get(index) != digest:
                    faults.append((level, index, index in stored))
                    break
        if faults:
            # Report the damaged node whose subtree starts earliest in the log.
            level, index, present = min(faults, key=lambda f: f[1] << f[0])
            first, last = index << level, ((index + 1) << level) - 1
            state = "differs from" if present else "is missing for"
            raise LogFault(
                first,
                f"stored tree node (level {level}, index {index}) {state} entries "
                f"{first}..{last}; proofs served from it would be wrong",
            )

    def _skip_empty(self) -> None:
        while self._next < len(self._pending) and self._pending[self._next].tree_size == 0:
            self._check_checkpoint(self._pending[self._next])
            self._next += 1

    def _check_checkpoint(self, stored: StoredCheckpoint) -> None:
        # Damaged nodes below this checkpoint are the earlier fault; find them first.
        self._check_nodes()
        last = stored.tree_size - 1
        where = f"checkpoint of tree size {stored.tree_size}"
        # 1. The note is signed by the log's key and names this log.
        try:
            cp = verify_checkpoint(stored.note, self._verifier, self._origin)
        except VerificationError as exc:
            raise LogFault(last, f"{where}: {exc}") from None
        # 2. The note, the stored columns and the recomputed tree agree.
        if cp.size != stored.tree_size:
            raise LogFault(last, f"{where}: the signed note says size {cp.size}")
        if cp.root_hash != stored.root_hash:
            raise LogFault(last, f"{where}: stored root differs from the signed root")
        if self._range.root() != cp.root_hash:
            raise LogFault(last, f"{where}: the entries do not hash to the signed root")
        # 3. The previous checkpoint's tree is a prefix of this one, by the stored nodes.
        previous = self._previous
        if previous is not None and self._consistency is not None and previous.size > 0:
            try:
                proof = self._consistency(previous.size, cp.size)
                verify_consistency(previous.size, cp.size, proof, previous.root_hash, cp.root_hash)
            except VerificationError as exc:
                raise LogFault(
                    last, f"{where}: no valid consistency proof from size {previous.size}: {exc}"
                ) from None
        self._previous = cp
        self.checked_checkpoints += 1


_SEQ_MARK = b',"seq":'


def _embedded_seq(data: bytes) -> int | None:
    """The top-level ``seq`` of canonical entry bytes, which always end ``,"seq":N,"ts":"…"}``."""
    at = data.rfind(_SEQ_MARK)
    if at < 0:
        return None
    end = data.find(b",", at + len(_SEQ_MARK))
    try:
        return int(data[at + len(_SEQ_MARK) : end])
    except ValueError:
        return None
