"""Tenancy: which parties a principal may read and act for.

Every scoped check reduces to comparing the principal's scope with a party's own id or its two
tenancy keys (``region_id``, ``dealer_id``), so list queries filter in SQL with the same rule
(:func:`tenancy_filter`) that single reads check in Python (:func:`can_read`).
"""

from __future__ import annotations

from dataclasses import dataclass

from api.auth.service import Principal, Role
from api.channel.repository import PartyRow
from api.errors import Forbidden

HQ_WAREHOUSES = ("central", "regional")


@dataclass(frozen=True, slots=True)
class TenancyFilter:
    """Keyword filters for ``repository.list_parties``; ``None`` means unrestricted."""

    region_id: str | None = None
    dealer_id: str | None = None
    party_id: str | None = None
    nothing: bool = False

    def as_kwargs(self) -> dict[str, str | None]:
        return {"region_id": self.region_id, "dealer_id": self.dealer_id, "party_id": self.party_id}


def in_scope(principal: Principal, party: PartyRow) -> bool:
    """Whether ``party`` is the principal's own party or under it."""
    scope = principal.scope
    match principal.role:
        case Role.REGION_MANAGER:
            return party.party_id == scope or party.region_id == scope
        case Role.DEALER_STAFF:
            return party.dealer_id == scope
        case Role.STORE_CLERK | Role.DEVICE:
            return party.party_id == scope
        case _:
            return False


def can_read(principal: Principal, party: PartyRow) -> bool:
    if principal.sees_everything:
        return True
    if party.kind in ("hq", "region"):
        return principal.role is not Role.WRITER  # names of HQ and regions are channel-public
    if party.kind == "warehouse" and party.dealer_id is None:
        return principal.role is not Role.WRITER  # HQ warehouses appear in every allocation
    return in_scope(principal, party)


def can_manage(principal: Principal, party: PartyRow) -> bool:
    """Whether the principal may change ``party`` or act as it (not devices: they only scan)."""
    if principal.runs_channel:
        return True
    if principal.role in (Role.COMPLIANCE_OFFICER, Role.DEVICE, Role.WRITER):
        return False
    return in_scope(principal, party)


def check_read(principal: Principal, party: PartyRow) -> PartyRow:
    if not can_read(principal, party):
        raise Forbidden(f"{party.kind} {party.party_id} is outside your scope")
    return party


def check_manage(principal: Principal, party: PartyRow) -> PartyRow:
    if not can_manage(principal, party):
        if principal.role is Role.COMPLIANCE_OFFICER:
            raise Forbidden("compliance officers read and audit; they do not change the channel")
        raise Forbidden(f"you may not act for {party.kind} {party.party_id}")
    return party


def tenancy_filter(principal: Principal, kind: str) -> TenancyFilter:
    """The SQL filter for listing parties of ``kind`` that :func:`can_read` would allow."""
    if principal.sees_everything or kind in ("hq", "region"):
        return TenancyFilter(nothing=principal.role is Role.WRITER)
    scope = principal.scope
    match principal.role:
        case Role.REGION_MANAGER:
            return TenancyFilter(region_id=scope)
        case Role.DEALER_STAFF:
            return TenancyFilter(dealer_id=scope)
        case Role.STORE_CLERK | Role.DEVICE:
            return TenancyFilter(party_id=scope)
        case _:
            return TenancyFilter(nothing=True)
