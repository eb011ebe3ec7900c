"""A code's history: the list entries that name it, the codes it replaced, and the custody
of every case it sat in while it was inside."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from api.trace import common
from api.trace.codes import repository as repo

_EVENT_RANK = {"commissioned": 0, "packed": 1, "unpacked": 2}
# A case's own aggregation events are not the bottle's custody.
_CASE_ONLY = ("packed", "unpacked", "commissioned", "replaced")


def order(ev: Any) -> tuple[datetime, int, str]:
    """Time, then life-cycle order for events recorded at the same instant."""
    return (common.utc(ev["at"]), _EVENT_RANK.get(ev["event"], 3), ev["entry_id"])


def code_history(
    conn: Connection, code_id: int, fetched: list[Mapping[str, Any]] | None = None
) -> list[Mapping[str, Any]]:
    """Every event row behind the code's history, oldest first. Each row has the event's
    columns plus ``code_id`` and ``position`` (which listed code, where in the list).
    ``fetched``: the rows of ``repo.events_with_cases`` for the code, if the caller read them
    with its own."""
    # One round trip for the usual case: the code's events and those of every case it was
    # packed into; a replaced label needs the old code's events as well.
    if fetched is None:
        fetched = repo.events_with_cases(conn, code_id)
    own = [e for e in fetched if e["code_id"] == code_id]
    # The cases whose events that query brought (all of them, even when a case has none).
    prefetched = {e["parent_id"] for e in own if e["event"] == "packed" and e["parent_id"]}
    history: list[Mapping[str, Any]] = list(own)
    for ev in own:
        if ev["event"] == "replaced" and ev["position"] == 1:
            old_ids = [i for i in repo.event_code_ids(conn, ev["entry_id"]) if i != code_id]
            history += [
                e
                for e in repo.events_of(conn, old_ids)
                if e["at"] <= ev["at"] and e["entry_id"] != ev["entry_id"]
            ]
    history.sort(key=order)
    spans = case_spans(history)
    if spans:
        cases = {case for case, _, _ in spans}
        rows: list[Mapping[str, Any]] = (
            [e for e in fetched if e["code_id"] in cases]
            if cases <= prefetched
            else repo.events_of(conn, list(cases))
        )
        for ev in rows:
            if ev["event"] in _CASE_ONLY:
                continue
            at = common.utc(ev["at"])
            if any(c == ev["code_id"] and start <= at < end for c, start, end in spans):
                history.append(ev)
        history.sort(key=order)
    return history


def case_spans(history: list[Any]) -> list[tuple[int, datetime, datetime]]:
    """(case id, from, until) for each time the bottle sat in a case."""
    spans: list[tuple[int, datetime, datetime]] = []
    open_case: tuple[int, datetime] | None = None
    for ev in history:
        if ev["event"] == "packed" and ev["parent_id"] is not None:
            open_case = (ev["parent_id"], common.utc(ev["at"]))
        elif ev["event"] == "unpacked" and open_case is not None:
            spans.append((open_case[0], open_case[1], common.utc(ev["at"])))
            open_case = None
    if open_case is not None:
        spans.append((open_case[0], open_case[1], datetime.max.replace(tzinfo=open_case[1].tzinfo)))
    return spans
