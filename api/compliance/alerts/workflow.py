"""The review workflow: new → investigating → confirmed / dismissed, and dealers' appeals.

Every step is a ledger entry staged in the same transaction as the alert's row, so the
alert's history on the ledger and in the table cannot disagree. Compliance officers and HQ
decide; the dealer an alert is about may appeal it (a confirmed alert appealed goes back to
investigating, and the next decision answers the appeal).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection

from api.auth.service import Principal, Role
from api.compliance.alerts import repository as repo
from api.compliance.alerts.repository import AlertRow
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.log.outbox import stage_entry

STATES = ("new", "investigating", "confirmed", "dismissed")
NEXT: dict[str, tuple[str, ...]] = {
    "new": ("investigating", "confirmed", "dismissed"),
    "investigating": ("confirmed", "dismissed"),
    "confirmed": (),
    "dismissed": (),
}
DECIDERS = (Role.COMPLIANCE_OFFICER, Role.HQ_ADMIN)
MIN_REASON = 5


class AlertNotFound(NotFound):
    code = "alert_not_found"


class AlertStateConflict(Conflict):
    code = "alert_state"


def visible(principal: Principal, alert: AlertRow) -> bool:
    """Compliance and HQ see every alert; a region manager his region's dealers'; a dealer's
    staff their dealer's."""
    if principal.sees_everything:
        return True
    if principal.role is Role.REGION_MANAGER:
        return alert.region_id is not None and alert.region_id == principal.scope
    if principal.role is Role.DEALER_STAFF:
        return alert.dealer_id is not None and alert.dealer_id == principal.scope
    return False


def readable(conn: Connection, principal: Principal, alert_id: str) -> AlertRow:
    alert = repo.get_alert(conn, alert_id)
    # An alert outside the caller's scope is reported as absent: its existence is itself news.
    if alert is None or not visible(principal, alert):
        raise AlertNotFound(f"no alert {alert_id} that you may see")
    return alert


def _reason(text: str | None, needed: bool) -> str | None:
    cleaned = (text or "").strip()
    if needed and len(cleaned) < MIN_REASON:
        raise Unprocessable(
            f"give the reason for this decision (at least {MIN_REASON} characters): it goes on "
            "the ledger and the dealer sees it"
        )
    return cleaned or None


def decide(
    conn: Connection, principal: Principal, alert_id: str, to: str, reason: str | None
) -> AlertRow:
    """Move an alert to ``to`` (investigating, confirmed or dismissed)."""
    principal.require(*DECIDERS)
    if to not in STATES or to == "new":
        raise Unprocessable(
            f"an alert can be moved to investigating, confirmed or dismissed, not {to!r}"
        )
    text = _reason(reason, needed=to in ("confirmed", "dismissed"))
    alert = readable(conn, principal, alert_id)
    alert = repo.get_alert(conn, alert_id, for_update=True) or alert
    if to not in NEXT[alert.state]:
        allowed = ", ".join(NEXT[alert.state]) or "nothing: it is decided"
        raise AlertStateConflict(f"alert {alert_id} is {alert.state}; it can move to {allowed}")
    now = datetime.now(UTC)
    payload = {"alert": alert_id, "from": alert.state, "to": to, "by": principal.key_id}
    if text is not None:
        payload["reason"] = text
    entry_id = stage_entry(conn, "compliance.alert.decided", payload)
    values: dict[str, object] = {
        "state": to,
        "updated_at": now,
        "entry_ids": [*alert.entry_ids, entry_id],
    }
    if to in ("confirmed", "dismissed"):
        values.update(decided_at=now, decided_by=principal.key_id, decision_reason=text)
    if alert.appeal_state == "open":
        values["appeal_state"] = "answered"
    repo.update_alert(conn, alert_id, **values)
    repo.add_event(
        conn,
        alert_id,
        at=now,
        actor=principal.key_id,
        action="decided",
        from_state=alert.state,
        to_state=to,
        reason=text,
        entry_id=entry_id,
    )
    return repo.get_alert(conn, alert_id) or alert


def appeal(conn: Connection, principal: Principal, alert_id: str, reason: str) -> AlertRow:
    """The dealer an alert is about contests it."""
    principal.require(Role.DEALER_STAFF)
    alert = readable(conn, principal, alert_id)
    if principal.role is not Role.DEALER_STAFF or alert.dealer_id != principal.scope:
        raise Forbidden("only the staff of the dealer an alert is about may appeal it")
    text = _reason(reason, needed=True)
    alert = repo.get_alert(conn, alert_id, for_update=True) or alert
    if alert.state == "dismissed":
        raise AlertStateConflict(f"alert {alert_id} was dismissed; there is nothing to appeal")
    if alert.appeal_state == "open":
        raise AlertStateConflict(f"alert {alert_id} already has an appeal waiting for a decision")
    to = "investigating" if alert.state == "confirmed" else alert.state
    now = datetime.now(UTC)
    entry_id = stage_entry(
        conn,
        "compliance.alert.appealed",
        {"alert": alert_id, "from": alert.state, "to": to, "by": principal.key_id, "reason": text},
    )
    repo.update_alert(
        conn,
        alert_id,
        state=to,
        appeal_state="open",
        appeal_reason=text,
        updated_at=now,
        entry_ids=[*alert.entry_ids, entry_id],
    )
    repo.add_event(
        conn,
        alert_id,
        at=now,
        actor=principal.key_id,
        action="appealed",
        from_state=alert.state,
        to_state=to,
        reason=text,
        entry_id=entry_id,
    )
    return repo.get_alert(conn, alert_id) or alert
