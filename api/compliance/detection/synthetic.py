"""A generated channel with known diversions, tourists and clones: the detector's ground truth.

32 regions (the 31 mainland provinces, with Shenzhen carved out of Guangdong as its own
region, as the brand does), dealers with one or two authorized regions, stores inside them,
and cases allotted from HQ, shipped to stores, opened and drunk. Consumers scan some bottles
where they drink them, placed at the county seat as the scan lookup records them. On top:

- **tourists**: a bottle scanned in a foreign city by the traveller who carried it (sometimes
  two bottles of one case, one phone); never a diversion;
- **returns**: cases sent back to HQ and re-allotted to another dealer;
- **swaps**: cases passed between two dealers of one region, on the books (legitimate);
- **strong diversions**: the case scanned in by a foreign store (a receipt's extra code), moved
  on the books to a foreign dealer, or opened at a foreign store — the ledger records it;
- **weak diversions**: the case sold off the books in a foreign city; only consumer scans show
  it (and only when enough of its bottles are scanned);
- **clones**: a genuine code printed on fakes, scanned by many phones in many cities.

Everything is drawn from one seeded ``random.Random``, so a seed gives the same channel.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.channel.admin_codes import PROVINCES
from api.compliance.detection.model import (
    Movement,
    MovementKind,
    PartyInfo,
    ScanPoint,
    Territory,
)
from api.compliance.geo.gazetteer import Division, Gazetteer, gazetteer

DAY = 86_400
T0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
GTINS = ("06901234567892", "06901234567908", "06901234567915")
SHENZHEN = "440300"
TOURIST_CITIES = ("110100", "310100", "460200", "510100", "610100", "530100", "330100")
"""Where travellers go most (Beijing, Shanghai, Sanya, Chengdu, Xi'an, Kunming, Hangzhou)."""


@dataclass(frozen=True, slots=True)
class Params:
    dealers_per_region: int = 3
    stores_per_dealer: int = 3
    cases_per_dealer: int = 20
    case_size: int = 6
    scan_rate: float = 0.4
    """Share of bottles whose drinker scans the code."""
    second_scan_rate: float = 0.2
    """Share of scanned bottles scanned again (a guest's phone, the same city)."""
    tourist_rate: float = 0.05
    """Share of scanned bottles scanned in a foreign city by a traveller."""
    tourist_pair_rate: float = 0.2
    """Share of travellers who carried (and scanned) two bottles of the case."""
    dual_region_rate: float = 0.15
    swap_rate: float = 0.02
    """Share of cases a dealer passes to another dealer of its own region (legitimate)."""
    return_rate: float = 0.02
    strong_rate: float = 0.03
    weak_rate: float = 0.02
    clone_rate: float = 0.002
    """Share of bottles whose code is copied onto fakes."""
    seed: int = 7


@dataclass(frozen=True, slots=True)
class BottleScans:
    code: str
    case: str
    scans: tuple[ScanPoint, ...]


@dataclass(frozen=True, slots=True)
class CaseStory:
    case: str
    gtin: str
    dealer: str
    movements: tuple[Movement, ...]
    bottles: tuple[BottleScans, ...]
    diversion: str | None
    """None, or how it was diverted: scanned_in, transfer, opened (strong) or off_books (weak)."""
    clones: tuple[str, ...] = ()


@dataclass
class Channel:
    parties: dict[str, PartyInfo]
    territory: Territory
    region_counties: dict[str, list[Division]]
    dealers: list[str]
    stores_of: dict[str, list[str]]
    counties: dict[str, Division] = field(default_factory=dict)


def build_channel(params: Params, rng: random.Random, geo: Gazetteer | None = None) -> Channel:
    """The parties and the territory."""
    geo = geo or gazetteer()
    areas: dict[str, str] = {}
    region_counties: dict[str, list[Division]] = {}
    parties: dict[str, PartyInfo] = {
        "hq": PartyInfo("hq", "hq", name="总部"),
        "wh-hq": PartyInfo("wh-hq", "warehouse", admin_code="520100", name="中央仓"),
    }
    mainland = [c for c in PROVINCES if int(c[:2]) <= 65]
    for province in mainland:
        areas[province] = f"rg-{province[:2]}"
    areas[SHENZHEN] = "rg-4403"
    for d in geo.divisions.values():
        if d.level != "county":
            continue
        region = (
            areas.get(SHENZHEN) if d.code.startswith("4403") else areas.get(d.code[:2] + "0000")
        )
        if region is not None:
            region_counties.setdefault(region, []).append(d)
    regions = sorted(region_counties)
    for region in regions:
        parties[region] = PartyInfo(region, "region", name=region)
    dealer_regions: dict[str, frozenset[str]] = {}
    stores_of: dict[str, list[str]] = {}
    dealers: list[str] = []
    for region in regions:
        for n in range(params.dealers_per_region):
            dealer = f"dl-{region[3:]}-{n}"
            authorized = {region}
            if rng.random() < params.dual_region_rate:
                authorized.add(rng.choice(regions))
            dealer_regions[dealer] = frozenset(authorized)
            seat = rng.choice(region_counties[region])
            parties[dealer] = PartyInfo(dealer, "dealer", dealer, region, seat.code, dealer)
            dealers.append(dealer)
            stores_of[dealer] = []
            for k in range(params.stores_per_dealer):
                store = f"st-{region[3:]}-{n}-{k}"
                where = rng.choice(region_counties[rng.choice(sorted(authorized))])
                parties[store] = PartyInfo(store, "store", dealer, region, where.code, store)
                stores_of[dealer].append(store)
    counties = {d.code: d for ds in region_counties.values() for d in ds}
    return Channel(
        parties, Territory(areas, dealer_regions), region_counties, dealers, stores_of, counties
    )


class _Story:
    """Draws one case's life."""

    def __init__(self, ch: Channel, params: Params, rng: random.Random, geo: Gazetteer) -> None:
        self.ch, self.p, self.rng, self.geo = ch, params, rng, geo
        self.scan_id = 0
        self.entry = 0
        self.devices = 0

    def _entry(self) -> str:
        self.entry += 1
        return f"e{self.entry}"

    def _device(self) -> bytes:
        self.devices += 1
        return self.devices.to_bytes(8, "big") * 4

    def _scan(self, at: int, where: Division, device: bytes) -> ScanPoint:
        self.scan_id += 1
        place = self.geo.place_of(where.lat_e6, where.lon_e6)
        return ScanPoint(
            self.scan_id,
            at,
            device,
            place.county if place else None,
            where.lat_e6,
            where.lon_e6,
        )

    def _ship(self, case: str, gtin: str, at: int, sender: str, to: str) -> list[Movement]:
        return [
            Movement(case, gtin, at, MovementKind.SHIPPED, to, self._entry(), sender),
            Movement(case, gtin, at + DAY, MovementKind.RECEIVED, to, self._entry(), sender),
        ]

    def _foreign_county(self, dealer: str) -> Division:
        authorized = self.ch.territory.dealer_regions[dealer]
        while True:
            region = self.rng.choice(sorted(self.ch.region_counties))
            if region not in authorized:
                return self.rng.choice(self.ch.region_counties[region])

    def _foreign_store(self, dealer: str) -> str:
        while True:
            other = self.rng.choice(self.ch.dealers)
            store = self.rng.choice(self.ch.stores_of[other])
            code = self.ch.parties[store].admin_code
            assert code is not None
            if not self.ch.territory.authorizes(dealer, code):
                return store

    def _peer(self, dealer: str) -> str | None:
        home = self.ch.parties[dealer].region_id
        peers = [d for d in self.ch.dealers if d != dealer and self.ch.parties[d].region_id == home]
        return self.rng.choice(peers) if peers else None

    def _tourist_county(self, dealer: str) -> Division:
        for _ in range(3):
            city = self.rng.choice(TOURIST_CITIES)
            seat = self.ch.counties.get(city[:4] + "02") or next(
                (d for c, d in self.ch.counties.items() if c.startswith(city[:4])), None
            )
            if seat is not None and not self.ch.territory.authorizes(dealer, seat.code):
                return seat
        return self._foreign_county(dealer)

    def tell(self, number: int, dealer: str) -> CaseStory:
        p, rng, parties = self.p, self.rng, self.ch.parties
        case = f"C{number:09d}"
        gtin = rng.choice(GTINS)
        at = T0 + rng.randrange(300 * DAY)
        moves = self._ship(case, gtin, at, "wh-hq", dealer)
        owner = dealer
        if rng.random() < p.return_rate:
            moves += self._ship(case, gtin, at + 5 * DAY, dealer, "wh-hq")
            owner = rng.choice(self.ch.dealers)
            at += 10 * DAY
            moves += self._ship(case, gtin, at, "wh-hq", owner)
        roll = rng.random()
        diversion = None
        sold_at: Division
        at += rng.randrange(3, 20) * DAY
        if roll < p.strong_rate:
            diversion = rng.choice(("scanned_in", "transfer", "opened"))
            if diversion == "transfer":
                other = rng.choice(
                    [
                        d
                        for d in self.ch.dealers
                        if not self.ch.territory.authorizes(owner, parties[d].admin_code or "")
                    ]
                )
                moves += self._ship(case, gtin, at, owner, other)
                sold_at = self.ch.counties[parties[other].admin_code or ""]
            else:
                store = self._foreign_store(owner)
                if diversion == "scanned_in":
                    moves.append(
                        Movement(case, gtin, at, MovementKind.SCANNED_IN, store, self._entry())
                    )
                if diversion == "opened" or rng.random() < 0.5:
                    moves.append(
                        Movement(case, gtin, at + DAY, MovementKind.OPENED, store, self._entry())
                    )
                sold_at = self.ch.counties[parties[store].admin_code or ""]
        elif roll < p.strong_rate + p.weak_rate:
            diversion = "off_books"
            sold_at = self._foreign_county(owner)
        else:
            if rng.random() < p.swap_rate:
                # Dealers of one region even out their stock: legitimate, never flagged.
                peer = self._peer(owner)
                if peer is not None:
                    moves += self._ship(case, gtin, at, owner, peer)
                    at += 2 * DAY
            store = rng.choice(self.ch.stores_of[owner])
            moves += self._ship(case, gtin, at, owner, store)
            if rng.random() < 0.7:
                moves.append(
                    Movement(case, gtin, at + 2 * DAY, MovementKind.OPENED, store, self._entry())
                )
            sold_at = self.ch.counties[parties[store].admin_code or ""]
        bottles, clones = self._drink(case, owner, at + 3 * DAY, sold_at)
        return CaseStory(case, gtin, owner, tuple(moves), tuple(bottles), diversion, clones)

    def _drink(
        self, case: str, owner: str, start: int, sold_at: Division
    ) -> tuple[list[BottleScans], tuple[str, ...]]:
        p, rng = self.p, self.rng
        bottles: list[BottleScans] = []
        clones: list[str] = []
        carried: tuple[Division, bytes] | None = None
        for k in range(p.case_size):
            code = f"{case}-{k}"
            scans: list[ScanPoint] = []
            at = start + rng.randrange(60 * DAY)
            if carried is not None:  # the traveller's second bottle, same phone, same city
                where, device = carried
                scans.append(self._scan(at, where, device))
                carried = None
            elif rng.random() < p.scan_rate:
                device = self._device()
                where = sold_at
                if rng.random() < p.tourist_rate:
                    where = self._tourist_county(owner)
                    if rng.random() < p.tourist_pair_rate:
                        carried = (where, device)
                scans.append(self._scan(at, where, device))
                if rng.random() < p.second_scan_rate:
                    scans.append(self._scan(at + rng.randrange(DAY), where, self._device()))
            if rng.random() < p.clone_rate:
                clones.append(code)
                t = start + rng.randrange(30 * DAY)
                for _ in range(rng.randrange(7, 16)):
                    t += rng.randrange(600, 4 * 3600)
                    scans.append(self._scan(t, self._foreign_county(owner), self._device()))
                scans.sort(key=lambda s: (s.at, s.scan_id))
            if scans:
                bottles.append(BottleScans(code, case, tuple(scans)))
        return bottles, tuple(clones)


def stories(params: Params, channel: Channel | None = None) -> Iterator[CaseStory]:
    """Every case's story, ``cases_per_dealer`` per dealer, drawn from ``params.seed``."""
    rng = random.Random(params.seed)
    geo = gazetteer()
    channel = channel or build_channel(params, rng, geo)
    teller = _Story(channel, params, rng, geo)
    number = 0
    for dealer in channel.dealers:
        for _ in range(params.cases_per_dealer):
            number += 1
            yield teller.tell(number, dealer)


def channel_of(params: Params) -> Channel:
    """The same channel ``stories(params)`` draws when given none."""
    return build_channel(params, random.Random(params.seed), gazetteer())
