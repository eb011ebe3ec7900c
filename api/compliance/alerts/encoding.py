"""An alert's evidence as canonical JSON (RFC 8785), written out for the batch run.

A full run raises a hundred thousand alerts and more, each carrying its signals and the
consumer scans it observed; encoding those through the general encoder (``canonical_json``)
cost more than finding them. Here the common shapes are written out directly — plain ASCII
text, safe integers, whole-second times — and anything else (text needing an escape, a number
beyond JCS's range) goes through ``canonical_json`` itself, so the bytes are always exactly
its. ``tests/api/compliance/alerts/test_evidence_encoding.py`` and
``test_observation_leaves.py`` hold them to it.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from api.compliance.detection.detector import Finding
from api.compliance.detection.model import Territory
from api.compliance.detection.signals import Observation, Signal
from api.compliance.detection.thresholds import Thresholds
from ledger.canonical import (
    MAX_SAFE_INTEGER,
    PLAIN_TEXT,
    canonical_json,
    canonical_member,
    canonical_object,
)
from ledger.merkle import leaf_hash
from ledger.merkle import root as merkle_root

_DAY = 86_400
_DATES: dict[int, str] = {}
_CLOCK = [f"T{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
_SECONDS = [f"{s:02d}.000000Z" for s in range(60)]


def ts(seconds: int) -> str:
    """``format_ts`` of a whole second since the epoch, written out: a run formats one for
    every observation and signal (each day's date formatted once, the time of day from two
    tables), where the way through ``datetime`` cost eight times more."""
    day, second = divmod(seconds, _DAY)
    date = _DATES.get(day)
    if date is None:
        date = "{:04d}-{:02d}-{:02d}".format(*time.gmtime(day * _DAY)[:3])
        if len(_DATES) < 100_000:
            _DATES[day] = date
    minute, second = divmod(second, 60)
    return date + _CLOCK[minute] + _SECONDS[second]


def when(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What an alert's ledger entry says, as the members of its payload each already in
    canonical JSON: encoded once, then reused by the digest, the entry and the stored columns
    (a run raises thousands of alerts, and encoding the whole evidence anew for each use cost
    more than building it)."""

    members: dict[str, bytes]
    code: str
    observations: list[bytes]
    """The canonical JSON of each observation item, the leaves under ``observations_root``."""

    def digest(self) -> str:
        """``sha256`` of ``canonical_json`` of the evidence, in hex."""
        return hashlib.sha256(canonical_object(self.members)).hexdigest()

    def entry(self, alert_id: str, revision: int) -> str:
        """The payload text of the alert's raised or updated entry: ``canonical_json`` of
        ``{"alert": alert_id, "revision": revision, **evidence}``."""
        alert = {"alert": canonical_member(alert_id), "revision": canonical_member(revision)}
        return canonical_object({**self.members, **alert}).decode()


def evidence_payload(
    f: Finding, codes: dict[int, str], territory: Territory, th: Thresholds
) -> Evidence:
    """What the alert's ledger entry says — the finding, its signals with the entries they
    rest on, the Merkle root of the consumer scans it observed (``observations_root``) — and
    those observations themselves (kept with the alert, proven against the root)."""
    items = [observation_json(o, codes) for s in f.signals for o in s.observations]
    # Only the root goes into the entry: the list's inner nodes are not kept.
    leaves = [leaf_hash(i) for i in items]
    code = code_key(int(f.code), codes)
    members = {
        "kind": canonical_member(f.kind),
        "strength": canonical_member(f.strength),
        "code": canonical_member(code),
        "score": canonical_member(f.score),
        "signals": b"[%s]" % b",".join([signal_json(s) for s in f.signals]),
        "observations_root": canonical_member(merkle_root(leaves).hex()),
        "observations_count": canonical_member(len(leaves)),
        "thresholds": _thresholds_json(th),
    }
    if f.dealer_id is not None:
        members["dealer"] = canonical_member(f.dealer_id)
    if f.place is not None:
        members["place"] = canonical_member(f.place)
        region = territory.region_of(f.place)
        if region is not None:
            members["to_region"] = canonical_member(region)
    if f.allocation is not None:
        members["allocation"] = canonical_member(f.allocation.entry_id)
    return Evidence(members, code, items)


@lru_cache(maxsize=16)
def _thresholds_json(th: Thresholds) -> bytes:
    """``canonical_json(th.as_dict())``, encoded once per set of thresholds: a run's every
    alert carries them."""
    return canonical_json(th.as_dict())


def code_key(code_id: int, codes: dict[int, str]) -> str:
    """The code's Digital Link key, or ``code:ID`` for a code the run could not read."""
    return codes.get(code_id) or f"code:{code_id}"


def _safe(number: object) -> bool:
    return type(number) is int and -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER


def observation_json(o: Observation, codes: dict[int, str]) -> bytes:
    """``canonical_json`` of the item an observation is kept as (``code``, ``scan``, ``at``,
    and ``place`` and ``device`` when known): the leaf hashed under the alert's
    ``observations_root``."""
    code = code_key(int(o.code), codes)
    place, scan = o.place, o.scan_id
    if (
        type(scan) is not int
        or not 0 <= scan <= MAX_SAFE_INTEGER
        or not PLAIN_TEXT.fullmatch(code if place is None else code + place)
    ):
        item: dict[str, Any] = {"code": code, "scan": scan, "at": ts(o.at)}
        if place is not None:
            item["place"] = place
        if o.device is not None:
            item["device"] = o.device.hex()
        return canonical_json(item)
    # JCS orders the keys: at, code, device, place, scan. ``at`` (format_ts) and
    # ``device`` (hex) are plain ASCII by construction.
    device = "" if o.device is None else f',"device":"{o.device.hex()}"'
    where = "" if place is None else f',"place":"{place}"'
    return f'{{"at":"{ts(o.at)}","code":"{code}"{device}{where},"scan":{scan}}}'.encode()


def signal_json(s: Signal) -> bytes:
    """``canonical_json`` of a signal as the evidence states it: ``signal``, ``strength``,
    ``points``, ``at``, ``count``, the ``entries`` it rests on, its number of
    ``observations``, and ``place`` and ``party`` when it has them."""
    texts = "".join(s.entry_ids) + (s.place or "") + (s.party or "")
    if not (_safe(s.points) and _safe(s.count) and PLAIN_TEXT.fullmatch(texts)):
        return _signal_by_member(s)
    # JCS orders the keys: at, count, entries, observations, party, place, points, signal,
    # strength. The signal's name and strength are plain ASCII by construction.
    entries = '","'.join(s.entry_ids)
    listed = f'["{entries}"]' if s.entry_ids else "[]"
    party = "" if s.party is None else f',"party":"{s.party}"'
    place = "" if s.place is None else f',"place":"{s.place}"'
    return (
        f'{{"at":"{ts(s.at)}","count":{s.count},"entries":{listed},'
        f'"observations":{len(s.observations)}{party}{place},"points":{s.points},'
        f'"signal":"{s.name.value}","strength":"{s.strength}"}}'
    ).encode()


def _signal_by_member(s: Signal) -> bytes:
    """:func:`signal_json` for a signal the written-out form does not cover, member by
    member through ``canonical_member`` (which checks and escapes as JCS does)."""
    members = {
        "signal": canonical_member(s.name.value),
        "strength": canonical_member(s.strength),
        "points": canonical_member(s.points),
        "at": canonical_member(ts(s.at)),
        "count": canonical_member(s.count),
        "entries": b"[%s]" % b",".join([canonical_member(e) for e in s.entry_ids]),
        "observations": canonical_member(len(s.observations)),
    }
    if s.place is not None:
        members["place"] = canonical_member(s.place)
    if s.party is not None:
        members["party"] = canonical_member(s.party)
    return canonical_object(members)
