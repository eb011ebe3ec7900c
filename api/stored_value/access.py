"""Who may do what: clerks at their own store's counter, readers within their tenancy, members
with their own token. Built on ``api.auth`` (principals, roles) and ``api.channel.access``
(which parties a principal may read)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from api.auth.service import Principal, Role
from api.channel import access
from api.channel import repository as parties
from api.channel.repository import PartyRow
from api.errors import Forbidden, NotFound, Unauthorized
from api.stored_value import member_repository as members
from api.stored_value.counter import Counter, counter_at
from api.stored_value.member_repository import MemberRow
from api.stored_value.member_tokens import read_member_token
from api.stored_value.operations import MemberErased
from api.stored_value.privacy import MemberKeys


def clerk_counter(
    conn: Connection, principal: Principal, store_id: str, now: datetime | None = None
) -> Counter:
    """The store's counter, for a clerk of that store (or an admin machine key, e.g. a POS
    integration acting for every store). Nobody else operates a till."""
    principal.require(Role.STORE_CLERK)
    if principal.role is Role.STORE_CLERK and principal.scope != store_id:
        raise Forbidden(f"you are a clerk of store {principal.scope}, not of {store_id}")
    return counter_at(conn, store_id, now)


def readable_member(conn: Connection, principal: Principal, member_id: str) -> MemberRow:
    """A member the principal may look at: a clerk of a store that accepts the card, or anyone
    who may read the issuing store or dealer (its dealer staff, region manager, HQ,
    compliance). Others get the same 404 as for a member that does not exist."""
    member = members.get_member(conn, member_id)
    missing = NotFound(f"no member {member_id}")
    if member is None:
        raise missing
    if principal.role is Role.STORE_CLERK:
        store = parties.get_party(conn, principal.scope or "")
        accepted = {principal.scope, store.dealer_id if store else None}
        if member.issuer_id not in accepted:
            raise missing
        return member
    issuer = parties.get_party(conn, member.issuer_id)
    if (
        issuer is None
        or principal.role in (Role.WRITER, Role.DEVICE)
        or not access.can_read(principal, issuer)
    ):
        raise missing
    return member


def readable_party(
    conn: Connection, principal: Principal, party_id: str, kinds: tuple[str, ...]
) -> PartyRow:
    party = parties.get_party(conn, party_id)
    if (
        party is None
        or party.kind not in kinds
        or principal.role in (Role.WRITER, Role.DEVICE)
        or not access.can_read(principal, party)
    ):
        raise NotFound(f"no {' or '.join(kinds)} {party_id!r}")
    return party


def readable_issuers(conn: Connection, principal: Principal) -> list[str] | None:
    """The issuers (stores, dealers) whose outstanding balances the principal may see;
    None means all of them."""
    if principal.sees_everything:
        return None
    if principal.role in (Role.WRITER, Role.DEVICE):
        return []
    out: list[str] = []
    for kind in ("dealer", "store"):
        scope = access.tenancy_filter(principal, kind)
        if scope.nothing:
            continue
        out += [
            p.party_id for p in parties.list_parties(conn, kind, limit=100_000, **scope.as_kwargs())
        ]
    return out


def member_from_token(conn: Connection, keys: MemberKeys, token: str) -> MemberRow:
    """The member whose token this is, if it is still valid."""
    claims = read_member_token(keys, token)
    member = members.get_member(conn, claims.member_id)
    if member is None or member.erased:
        raise MemberErased("this member was erased; the token no longer works")
    if member.token_generation != claims.generation:
        raise Unauthorized(
            "this member token was replaced by a newer one; use the latest",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    return member
