"""``trace_case_moves`` is kept as transfers and openings are written, and says what the
record (the code events and the code index) says."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from api.db import Database
from api.trace.codes import custody
from api.trace.codes.service import get_code, get_codes
from tests.api.trace.conftest import make_history, ok

MOVES = "SELECT case_id, entry_id, event, gtin, at, party, sender FROM trace_case_moves"
RECORD = (
    "SELECT i.code_id, e.entry_id, e.event, c.gtin, e.at, e.party, e.sender "
    "FROM trace_code_events e JOIN trace_code_index i ON i.entry_id = e.entry_id "
    "JOIN trace_codes c ON c.id = i.code_id AND c.kind = 'case' "
    "WHERE e.kind IN ('transfer.shipped', 'transfer.received') "
    "UNION ALL SELECT e.parent_id, e.entry_id, e.event, c.gtin, e.at, e.location, NULL "
    "FROM trace_code_events e JOIN trace_codes c ON c.id = e.parent_id "
    "WHERE e.event = 'unpacked'"
)


def test_transfers_and_openings_keep_their_cases_moves(admin: TestClient, db: Database) -> None:
    h = make_history(admin, bottles=18)
    with db.writer.begin() as conn:
        # A case and a loose bottle shipped to a dealer and received there.
        bottle = get_code(conn, h.bottles[0])
        custody.unpack(conn, get_code(conn, h.cases[0]), [bottle], location="GY-WH-A")
        moving = get_codes(conn, [h.cases[1], h.bottles[0]])
        for event in ("shipped", "received"):
            custody.record_custody(
                conn,
                event,
                moving,
                kind=f"transfer.{event}",
                party="dealer-a",
                sender="hq",
            )
            moving = get_codes(conn, [h.cases[1], h.bottles[0]])
    # Opened at a store; a custody event of traceability's own moves no case between parties.
    ok(admin.post("/v1/codes/unpack", json={"case": h.cases[1], "location": "store-b"}))
    ok(
        admin.post(
            "/v1/codes/custody",
            json={"event": "shipped", "codes": [h.cases[2]], "location": "CD-WH-1"},
        )
    )
    with db.engine.connect() as conn:
        moves = sorted(tuple(r) for r in conn.execute(text(MOVES)))
        record = sorted(tuple(r) for r in conn.execute(text(RECORD)))
        case_ids = dict(conn.execute(text("SELECT serial, id FROM trace_codes")).all())
    assert moves == record
    case_no = {case_ids[uri.rsplit("/", 1)[1]]: n for n, uri in enumerate(h.cases)}
    events = sorted((case_no[m[0]], m[2], m[5], m[6]) for m in moves)
    assert events == [
        (0, "unpacked", "GY-WH-A", None),
        (1, "received", "dealer-a", "hq"),
        (1, "shipped", "dealer-a", "hq"),
        (1, "unpacked", "store-b", None),
    ]
