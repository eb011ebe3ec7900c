"""The clerk app's world on the browser tests' server: a small channel (tests.api.channel.world),
a clerk who logs in with a password, promotions of the store and its dealer, a member with a
QR code, and shipments to the clerk's store and to its sister store, dispatched with real case
codes. Everything goes through the real services or the HTTP API; nothing is faked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import Connection, select

from api.auth.service import Principal, Role
from api.auth.users import create_user
from api.orders import service as orders
from api.orders.schemas import OrderIn, OrderLineIn
from api.shipments import putaway as stockroom
from api.shipments import repository as shipment_repo
from api.shipments import service as shipments
from api.stored_value import promotions
from api.stored_value.schemas import PromotionIn
from tests.api.channel.world import build_world
from tests.api.orders.production import make_cases
from tests.api.orders.shop import build_shop
from tests.api.stored_value.till import tasting_offer
from tests.scanner_app.conftest import Server

ROOT = Principal("clerk-test-root", Role.ADMIN)
CLERK = "clerk.a1"
CLERK_PASSWORD = "counter-password-2026"
DEALER_STAFF = "dealer.a"  # not a clerk: the app turns them away
PHONE = "138 0000 1234"
ID_NUMBER = "11010519491231002X"  # GB 11643's own worked example, not a person


@dataclass
class ClerkWorld:
    store_id: str
    sister_id: str
    member_id: str
    member_token: str
    promotion: str
    """The dealer's "top up 1,000, get 100 and a tasting bottle"."""
    shipment_id: str
    shipped: list[str]
    """Case serials of the shipment to the clerk's store."""
    elsewhere: list[str]
    """Case serials dispatched to the sister store."""
    held: list[str]
    """Case serials still held in HQ's central warehouse."""
    links: dict[str, str]
    """Each case's Digital Link URI (what its printed QR holds), by serial."""


def _held(conn: Connection, warehouse_id: str, gtin: str, n: int) -> list[str]:
    table = shipment_repo.custody
    query = (
        select(table.c.serial)
        .where(table.c.warehouse_id == warehouse_id, table.c.gtin == gtin, table.c.state == "held")
        .order_by(table.c.serial)
        .limit(n)
    )
    return list(conn.execute(query).scalars())


def _dispatched_to(conn: Connection, store_id: str, gtin: str, cases: int, key: str) -> str:
    """A store order served from HQ's stock, picked with real case codes and dispatched."""
    body = OrderIn(buyer_id=store_id, client_key=key, lines=[OrderLineIn(gtin=gtin, cases=cases)])
    order, _ = orders.place(conn, ROOT, body, "hq-first")
    orders.confirm(conn, ROOT, order.id, "")
    orders.allocate(conn, ROOT, order.id, "")
    (s,) = shipment_repo.for_order(conn, order.id)
    picked = _held(conn, s.from_warehouse_id or "", gtin, cases)
    shipments.pick(conn, ROOT, s.shipment_id, picked)
    shipments.dispatch(conn, ROOT, s.shipment_id)
    return s.shipment_id


def build_clerk_world(server: Server) -> ClerkWorld:
    app: Any = server.app
    db, settings = app.state.db, app.state.settings
    world = build_world(None, db, settings)  # type: ignore[arg-type]  # no TestClient needed
    shop = build_shop(world)
    store, sister, dealer = world.ids["S-A1"], world.ids["S-A2"], world.ids["D-A"]
    with db.writer.begin() as conn:
        create_user(conn, CLERK, Role.STORE_CLERK.value, CLERK_PASSWORD, scope=store)
        create_user(conn, DEALER_STAFF, Role.DEALER_STAFF.value, CLERK_PASSWORD, scope=dealer)
        offer = promotions.create(conn, ROOT, tasting_offer(dealer))
        promotions.create(
            conn,
            ROOT,
            PromotionIn(owner_id=store, name="充500送30", min_paid_fen=50_000, bonus_fen=3_000),
        )
        made = make_cases(conn, shop.sku1, 20)
        stockroom.putaway(conn, ROOT, world.ids["WH-CENTRAL"], [c.serial for c in made])
    with db.writer.begin() as conn:
        shipment = _dispatched_to(conn, store, shop.sku1, 3, "CLERK-SO-1")
    with db.writer.begin() as conn:
        other = _dispatched_to(conn, sister, shop.sku1, 1, "CLERK-SO-2")
    with db.engine.connect() as conn:
        shipped = [x.serial for x in shipment_repo.scans_of(conn, shipment, "picked")]
        elsewhere = [x.serial for x in shipment_repo.scans_of(conn, other, "picked")]
        held = _held(conn, world.ids["WH-CENTRAL"], shop.sku1, 2)
    # The member registers at the counter through the API, as the clerk's app would.
    with httpx.Client(base_url=server.base) as api:
        login = {"username": CLERK, "password": CLERK_PASSWORD}
        token = api.post("/v1/auth/token", data=login).json()["access_token"]
        response = api.post(
            "/v1/members",
            # A real-name card: its cap (5,000 CNY) leaves room for the promotion's bonus.
            json={"store_id": store, "phone": PHONE, "name": "张三", "id_number": ID_NUMBER},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"{store}:REG-1"},
        )
        assert response.status_code == 201, response.text
        member = response.json()
    app.state.log.relay()
    return ClerkWorld(
        store_id=store,
        sister_id=sister,
        member_id=member["member_id"],
        member_token=member["member_token"],
        promotion=offer.promotion_id,
        shipment_id=shipment,
        shipped=shipped,
        elsewhere=elsewhere,
        held=held,
        links={c.serial: c.uri(server.host) for c in made},
    )


def member_qr(server: Server, world: ClerkWorld) -> str:
    """A fresh counter QR text, as the member's phone would show it."""
    response = httpx.get(
        server.url("/v1/members/me/qr"),
        headers={"Authorization": f"Bearer {world.member_token}"},
    )
    assert response.status_code == 200, response.text
    return str(response.json()["qr"])
