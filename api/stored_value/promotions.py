"""Top-up promotions: bonus value and gifts a store or its dealer offers for a top-up."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from api.auth.service import Principal, Role
from api.channel import access
from api.channel import repository as parties
from api.errors import Conflict, Forbidden, NotFound
from api.log.outbox import stage_entry
from api.stored_value import repository as repo
from api.stored_value.counter import Counter
from api.stored_value.repository import PromotionRow
from api.stored_value.rules import yuan
from api.stored_value.schemas import Gift, PromotionIn, PromotionOut
from ledger.canonical import format_ts

MANAGERS = (Role.HQ_ADMIN, Role.REGION_MANAGER, Role.DEALER_STAFF)


class PromotionNotApplicable(Conflict):
    code = "promotion_not_applicable"


def applicable(
    conn: Connection, counter: Counter, promotion_id: str | None, paid_fen: int
) -> PromotionRow | None:
    """The promotion a top-up names, if this store may grant it for this amount now."""
    if promotion_id is None:
        return None
    found = repo.get_promotion(conn, promotion_id)
    if found is None or found.owner_id not in counter.programmes:
        raise NotFound(f"no promotion {promotion_id} at store {counter.store_id}")
    now = counter.now
    if found.retired_at is not None and found.retired_at <= now:
        raise PromotionNotApplicable(f"promotion {promotion_id} ({found.name}) has ended")
    if found.starts_at is not None and now < found.starts_at:
        raise PromotionNotApplicable(f"promotion {promotion_id} ({found.name}) has not started")
    if found.ends_at is not None and now >= found.ends_at:
        raise PromotionNotApplicable(f"promotion {promotion_id} ({found.name}) has ended")
    if paid_fen < found.min_paid_fen:
        raise PromotionNotApplicable(
            f"promotion {found.name} needs a top-up of at least {yuan(found.min_paid_fen)} CNY"
        )
    return found


def out(row: PromotionRow) -> PromotionOut:
    gift = None
    if row.gift_sku is not None:
        gift = Gift(
            sku=row.gift_sku,
            name=row.gift_name or "",
            qty=row.gift_qty or 0,
            cost_fen=row.gift_cost_fen or 0,
        )
    return PromotionOut(
        promotion_id=row.promotion_id,
        owner_id=row.owner_id,
        name=row.name,
        min_paid_fen=row.min_paid_fen,
        bonus_fen=row.bonus_fen,
        gift=gift,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        created_at=row.created_at,
        retired_at=row.retired_at,
    )


def _owner(conn: Connection, principal: Principal, owner_id: str) -> None:
    party = parties.get_party(conn, owner_id)
    if (
        party is None
        or party.kind not in ("store", "dealer")
        or not access.can_read(principal, party)
    ):
        raise NotFound(f"no store or dealer {owner_id!r}")
    if not access.can_manage(principal, party):
        raise Forbidden(f"you may not run promotions for {party.kind} {owner_id}")


def create(conn: Connection, principal: Principal, body: PromotionIn) -> PromotionOut:
    principal.require(*MANAGERS)
    _owner(conn, principal, body.owner_id)
    now = datetime.now(UTC)
    promotion_id = f"pr_{secrets.token_hex(10)}"
    gift = body.gift
    values: dict[str, Any] = {
        "promotion_id": promotion_id,
        "owner_id": body.owner_id,
        "name": body.name,
        "min_paid_fen": body.min_paid_fen,
        "bonus_fen": body.bonus_fen,
        "gift_sku": gift.sku if gift else None,
        "gift_name": gift.name if gift else None,
        "gift_qty": gift.qty if gift else None,
        "gift_cost_fen": gift.cost_fen if gift else None,
        "starts_at": body.starts_at.astimezone(UTC) if body.starts_at else None,
        "ends_at": body.ends_at.astimezone(UTC) if body.ends_at else None,
        "created_at": now,
        "retired_at": None,
    }
    repo.insert_promotion(conn, **values)
    ledger = {
        "promotion": promotion_id,
        "owner": body.owner_id,
        "min_paid_fen": body.min_paid_fen,
        "bonus_fen": body.bonus_fen,
        "gift": None
        if gift is None
        else {"sku": gift.sku, "qty": gift.qty, "cost_fen": gift.cost_fen},
        "starts_at": None if body.starts_at is None else format_ts(body.starts_at.astimezone(UTC)),
        "ends_at": None if body.ends_at is None else format_ts(body.ends_at.astimezone(UTC)),
    }
    stage_entry(conn, "stored_value.promotion", ledger)
    return out(PromotionRow(**values))


def listed(conn: Connection, principal: Principal, owner_id: str) -> list[PromotionOut]:
    """The promotions a store may grant (its own and its dealer's), or a dealer's own."""
    party = parties.get_party(conn, owner_id)
    if (
        party is None
        or party.kind not in ("store", "dealer")
        or not access.can_read(principal, party)
    ):
        raise NotFound(f"no store or dealer {owner_id!r}")
    owners = (
        [owner_id]
        if party.kind == "dealer" or party.dealer_id is None
        else [
            owner_id,
            party.dealer_id,
        ]
    )
    return [out(r) for r in repo.promotions_of(conn, owners)]


def retire(conn: Connection, principal: Principal, promotion_id: str) -> PromotionOut:
    principal.require(*MANAGERS)
    found = repo.get_promotion(conn, promotion_id)
    if found is None:
        raise NotFound(f"no promotion {promotion_id!r}")
    _owner(conn, principal, found.owner_id)
    if found.retired_at is not None:
        raise Conflict(f"promotion {promotion_id} already ended")
    now = datetime.now(UTC)
    repo.retire_promotion(conn, promotion_id, now)
    stage_entry(conn, "stored_value.promotion_ended", {"promotion": promotion_id})
    updated = repo.get_promotion(conn, promotion_id)
    assert updated is not None
    return out(updated)
