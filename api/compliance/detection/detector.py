"""Facts in, scored findings out: the batch detector (and, fed one case, the incremental one).

Feed it every movement of the cases it should judge (``add_movements``), then each code's
consumer scans (``add_code_scans``), then read ``findings()``. Everything is in memory and
nothing here touches a database, so the same code runs over the live tables, the ground-truth
generator and the benchmark.

Rules, in order:

1. **Allocation.** A case is allotted to a dealer by a transfer from HQ (or an HQ warehouse)
   to that dealer (or to one of its stores or warehouses). The dealer's authorized regions
   are where it may be sold. A case received back by HQ (a return) is allotted to nobody
   until HQ ships it again.
2. **Strong signals.** After allocation, any transfer to, inbound scan at, or opening at a
   party whose address lies outside the dealer's regions. Facts recorded twice (shipped, then
   received by the same party) are one signal with both entries.
3. **Clone signals** per code: too many distinct devices, impossible travel.
4. **Weak signals**: consumer scans of a case's bottles in a city outside the dealer's regions,
   ``k`` bottles scanned by ``k`` different devices in one city scoring
   ``bottle_points * k**2`` (a traveller scanning the two bottles he brought is one).
   Codes with a clone signal are left out: a copied label says nothing about where the
   genuine bottle went, and must not count against the dealer.
5. Points add up per (dealer, case) and per code; at ``alert_score`` a finding is made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from api.channel.admin_codes import city_of
from api.compliance.detection.model import (
    Allocation,
    Movement,
    MovementKind,
    PartyInfo,
    ScanPoint,
    Territory,
)
from api.compliance.detection.signals import (
    STRONG_BY_MOVEMENT,
    Observation,
    Signal,
    SignalName,
    clone_signals,
)
from api.compliance.detection.thresholds import Thresholds

_ORDER = {
    MovementKind.SHIPPED: 0,
    MovementKind.RECEIVED: 1,
    MovementKind.SCANNED_IN: 2,
    MovementKind.OPENED: 3,
}


@dataclass(frozen=True, slots=True)
class Finding:
    """A suspected diversion of one case by one dealer, or a suspected clone of one code."""

    kind: str  # diversion | clone
    code: str
    """The case code (diversion) or the scanned code (clone)."""
    dealer_id: str | None
    gtin: str | None
    score: int
    signals: tuple[Signal, ...]
    place: str | None
    """Where the goods turned up (GB/T 2260), for the region-to-region flow."""
    allocation: Allocation | None

    @property
    def key(self) -> str:
        """What makes two detection runs' findings the same alert."""
        return f"{self.kind}:{self.dealer_id or '-'}:{self.code}"

    @property
    def strength(self) -> str:
        if self.kind == "clone":
            return "clone"
        return "strong" if any(s.strength == "strong" for s in self.signals) else "weak"

    @property
    def first_at(self) -> int:
        return min(s.at for s in self.signals)

    @property
    def last_at(self) -> int:
        return max(s.at for s in self.signals)


@dataclass
class Span:
    allocation: Allocation
    until: int | None = None


@dataclass
class Detector:
    parties: Mapping[str, PartyInfo]
    territory: Territory
    thresholds: Thresholds = field(default_factory=Thresholds)
    movements: int = 0
    scans: int = 0
    timelines: dict[str, list[Span]] = field(default_factory=dict)
    _strong: dict[tuple[str, str], dict[tuple[SignalName, str], Signal]] = field(
        default_factory=dict
    )
    _foreign: dict[tuple[str, str, str], dict[bytes | str, Observation]] = field(
        default_factory=dict
    )
    _clones: list[tuple[str, str | None, str | None, list[Signal]]] = field(default_factory=list)
    _scored: dict[tuple[str, str], tuple[int, _Cities]] | None = None
    """:meth:`_alerting`'s answer until a signal is added (a run asks it twice)."""

    # --- movements: allocation and strong signals -------------------------------------------

    def add_movements(self, movements: Iterable[Movement]) -> None:
        """All movements of every case to judge (a case's movements must come in one call)."""
        by_case: dict[str, list[Movement]] = {}
        for m in movements:
            by_case.setdefault(m.case, []).append(m)
            self.movements += 1
        for case, moves in by_case.items():
            moves.sort(key=lambda m: (m.at, _ORDER[m.kind], m.entry_id))
            self._case_timeline(case, moves)

    def _case_timeline(self, case: str, moves: Sequence[Movement]) -> None:
        spans = self.timelines.setdefault(case, [])
        current: Span | None = spans[-1] if spans and spans[-1].until is None else None
        for m in moves:
            party = self.parties.get(m.party)
            if party is None:
                continue
            sender = self.parties.get(m.sender) if m.sender is not None else None
            allots = m.kind in (MovementKind.SHIPPED, MovementKind.RECEIVED)
            if allots and sender is not None and sender.hq_side and party.dealer_id is not None:
                dealer = party.dealer_id
                if current is None or current.allocation.dealer_id != dealer:
                    if current is not None:
                        current.until = m.at
                    current = Span(Allocation(case, m.gtin, dealer, m.at, m.entry_id))
                    spans.append(current)
                continue
            if current is None:
                continue
            if party.hq_side:
                if m.kind is MovementKind.RECEIVED:
                    current.until = m.at  # returned: allotted to nobody until shipped again
                    current = None
                continue
            dealer = current.allocation.dealer_id
            if party.admin_code is None or self.territory.authorizes(dealer, party.admin_code):
                continue
            self.add_strong(dealer, case, m, party)

    def add_strong(self, dealer: str, case: str, m: Movement, party: PartyInfo) -> None:
        """A movement of ``dealer``'s case at ``party``, outside the dealer's regions."""
        name = STRONG_BY_MOVEMENT[m.kind]
        self._scored = None
        signals = self._strong.setdefault((dealer, case), {})
        key = (name, party.party_id)
        found = signals.get(key)
        if found is None:
            signals[key] = Signal(
                name,
                self.thresholds.strong_points,
                m.at,
                place=party.admin_code,
                party=party.party_id,
                entry_ids=(m.entry_id,),
            )
        elif m.entry_id not in found.entry_ids:
            signals[key] = Signal(
                name,
                found.points,
                found.at,
                place=found.place,
                party=found.party,
                count=found.count + 1,
                entry_ids=(*found.entry_ids, m.entry_id),
            )

    # --- scans: clones and weak signals ------------------------------------------------------

    def allocation_at(self, case: str, at: int) -> Allocation | None:
        spans = self.timelines.get(case)
        if not spans:
            return None
        for span in reversed(spans):
            if span.allocation.at <= at:
                return span.allocation if span.until is None or at < span.until else None
        return None

    def add_code_scans(self, code: str, case: str | None, scans: Sequence[ScanPoint]) -> None:
        """Every scan of one code, in time order; ``case`` is the case the bottle came in
        (the code itself for a case code scanned by a consumer, None when not known)."""
        self.scans += len(scans)
        if self.add_clone_scans(code, case, scans):
            return
        if case is None or case not in self.timelines:
            return
        authorizes = self.territory.authorizes
        counted: set[str] = set()
        for s in scans:
            if s.place is None:
                continue
            allocation = self.allocation_at(case, s.at)
            if allocation is None or authorizes(allocation.dealer_id, s.place):
                continue
            city = city_of(s.place)
            if city in counted:
                continue  # a bottle counts once per city
            counted.add(city)
            self.add_foreign_scan(allocation.dealer_id, case, city, code, s)

    def add_clone_scans(self, code: str, case: str | None, scans: Sequence[ScanPoint]) -> bool:
        """Judge one code's scans (all, in time order) for clones; True when it is one.

        A clone's scans say nothing about where the genuine bottle went: the caller then
        leaves them out of the weak signals."""
        clones = clone_signals(code, scans, self.thresholds)
        if not clones:
            return False
        self.add_clones(code, case, scans[0].at, clones)
        return True

    def add_clones(self, code: str, case: str | None, first_at: int, clones: list[Signal]) -> None:
        """The clone signals of a code first scanned at ``first_at``, judged already by the
        same rule (``clone_signals``): the code's dealer is its case's then."""
        allocation = self.allocation_at(case, first_at) if case is not None else None
        self._clones.append((code, case, allocation.dealer_id if allocation else None, clones))

    def add_foreign_scan(self, dealer: str, case: str, city: str, code: str, s: ScanPoint) -> None:
        """A bottle's first scan in ``city``, outside the regions of the case's dealer then."""
        # Keyed by device: one traveller's phone scanning the two bottles he carried is
        # one consumer, not two; a scan without a device id stands for its own consumer.
        self._scored = None
        consumers = self._foreign.setdefault((dealer, case, city), {})
        who: bytes | str = s.device if s.device is not None else f"{code}#{s.scan_id}"
        if who not in consumers:
            consumers[who] = Observation(code, s.scan_id, s.at, s.place, s.device)

    # --- findings ----------------------------------------------------------------------------

    def signal_counts(self) -> Counter[str]:
        """How many signals of each kind were seen, alert or not."""
        counts: Counter[str] = Counter()
        for signals in self._strong.values():
            for s in signals.values():
                counts[s.name.value] += 1
        counts[SignalName.CONSUMER_SCANS_OUTSIDE.value] += len(self._foreign)
        for *_, clones in self._clones:
            for s in clones:
                counts[s.name.value] += 1
        return counts

    def diverted_cases(self) -> set[str]:
        """The cases a diversion finding is raised for: their spans name its allocation, and
        no other case's are needed (a caller may load those alone)."""
        return {case for dealer, case in self._alerting()}

    def _alerting(self) -> dict[tuple[str, str], tuple[int, _Cities]]:
        """Each (dealer, case) whose signals reach an alert: its score and foreign cities.
        Weak signals are scored from their counts and built only for the cases that reach an
        alert: most foreign scans (a tourist's bottle) never do."""
        if self._scored is not None:
            return self._scored
        th = self.thresholds
        weak: dict[tuple[str, str], _Cities] = {}
        for (dealer, case, city), bottles in self._foreign.items():
            weak.setdefault((dealer, case), []).append((city, bottles))
        out: dict[tuple[str, str], tuple[int, _Cities]] = {}
        for key in self._strong.keys() | weak.keys():
            cities = weak.get(key, [])
            score = sum(s.points for s in self._strong.get(key, {}).values())
            score += sum(th.weak_points(len(bottles)) for _, bottles in cities)
            if score >= th.alert_score:
                out[key] = (score, cities)
        self._scored = out
        return out

    def findings(self) -> list[Finding]:
        th = self.thresholds
        out: list[Finding] = []
        alerting = self._alerting()
        for dealer, case in sorted(alerting):
            score, cities = alerting[dealer, case]
            found = self._strong.get((dealer, case), {})
            strong = sorted(found.values(), key=_by_time)
            soft = sorted(
                (self._weak_signal(city, bottles) for city, bottles in cities),
                key=lambda s: (-s.count, s.at),
            )
            allocation = self._allocation_of(case, dealer)
            place = strong[0].place if strong else soft[0].place
            out.append(
                Finding(
                    "diversion",
                    case,
                    dealer,
                    allocation.gtin if allocation else None,
                    score,
                    (*strong, *soft),
                    place,
                    allocation,
                )
            )
        for code, case_of_code, clone_dealer, clones in self._clones:
            score = sum(s.points for s in clones)
            if score < th.alert_score:
                continue
            allocation = (
                self._allocation_of(case_of_code, clone_dealer)
                if case_of_code and clone_dealer
                else None
            )
            out.append(
                Finding(
                    "clone",
                    code,
                    clone_dealer,
                    allocation.gtin if allocation else None,
                    score,
                    tuple(clones),
                    clones[-1].place,
                    allocation,
                )
            )
        return out

    def _weak_signal(self, city: str, bottles: dict[bytes | str, Observation]) -> Signal:
        observed = sorted(bottles.values(), key=lambda o: (o.at, o.scan_id))
        return Signal(
            SignalName.CONSUMER_SCANS_OUTSIDE,
            self.thresholds.weak_points(len(observed)),
            observed[0].at,
            place=city,
            count=len(observed),
            observations=tuple(observed),
        )

    def _allocation_of(self, case: str, dealer: str) -> Allocation | None:
        for span in reversed(self.timelines.get(case, [])):
            if span.allocation.dealer_id == dealer:
                return span.allocation
        return None


_Cities = list[tuple[str, dict[bytes | str, Observation]]]
"""A case's foreign cities, each with its consumers' first observations."""


def _by_time(s: Signal) -> tuple[int, str]:
    return (s.at, s.name.value)
