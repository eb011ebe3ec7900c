"""All SQL of stored-value accounts, the journal, idempotency keys and promotions.

Functions take a Connection; the caller owns the transaction (or, on PostgreSQL, runs each
statement as its own). Lock order of the clerk's operations: the member's account row, then
the journal row an operation refers to (a refund's spend, a void's top-up), then the request's
idempotency key, which the booking inserts. One order means no deadlocks between operations.

Every write to an account row bumps its ``version``; :func:`book` moves the balance only if
the version is still the one the operation decided on, and writes the journal entry, its
postings, the staged ledger entry and the request's key with its answer along with it — on
PostgreSQL in one statement, so a hot member's row is locked only while that statement and its
commit run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import (
    BigInteger,
    Connection,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal_column,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from api.db import is_sqlite
from api.log.repository import as_utc
from api.models import OutboxEntry
from api.stored_value import member_repository
from api.stored_value.journal import Line
from api.stored_value.member_repository import MemberRow
from api.stored_value.models import (
    JournalRecord,
    Posting,
    Promotion,
    RequestRecord,
    StoredValueAccount,
)

accounts = cast(Table, StoredValueAccount.__table__)
journal = cast(Table, JournalRecord.__table__)
postings = cast(Table, Posting.__table__)
requests = cast(Table, RequestRecord.__table__)
promotions = cast(Table, Promotion.__table__)
outbox = cast(Table, OutboxEntry.__table__)
members = member_repository.members


@dataclass(frozen=True, slots=True)
class AccountRow:
    member_id: str
    issuer_id: str
    principal_fen: int
    bonus_fen: int
    debit_count: int
    version: int

    @property
    def total_fen(self) -> int:
        return self.principal_fen + self.bonus_fen


@dataclass(frozen=True, slots=True)
class JournalRow:
    journal_id: str
    operation: str
    store_id: str
    issuer_id: str
    member_id: str
    pos_txn: str
    business_day: date
    created_at: datetime
    principal_fen: int
    bonus_fen: int
    principal_after_fen: int
    bonus_after_fen: int
    payment_method: str | None
    promotion_id: str | None
    gift_sku: str | None
    gift_name: str | None
    gift_qty: int | None
    gift_cost_fen: int | None
    ref_journal_id: str | None
    refunded_principal_fen: int
    refunded_bonus_fen: int
    voided_by: str | None
    debit_count_at: int


@dataclass(frozen=True, slots=True)
class RequestRow:
    idempotency_key: str
    operation: str
    request_digest: bytes
    member_id: str | None
    status_code: int
    response: str


@dataclass(frozen=True, slots=True)
class PromotionRow:
    promotion_id: str
    owner_id: str
    name: str
    min_paid_fen: int
    bonus_fen: int
    gift_sku: str | None
    gift_name: str | None
    gift_qty: int | None
    gift_cost_fen: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    created_at: datetime
    retired_at: datetime | None


# --- accounts --------------------------------------------------------------------------------


def insert_account(conn: Connection, member_id: str, issuer_id: str, now: datetime) -> None:
    conn.execute(
        accounts.insert().values(
            member_id=member_id,
            issuer_id=issuer_id,
            principal_fen=0,
            bonus_fen=0,
            debit_count=0,
            updated_at=now,
        )
    )


# AccountRow's fields, in order.
_ACCOUNT_COLUMNS = (
    accounts.c.member_id,
    accounts.c.issuer_id,
    accounts.c.principal_fen,
    accounts.c.bonus_fen,
    accounts.c.debit_count,
    accounts.c.version,
)


def get_account(conn: Connection, member_id: str) -> AccountRow | None:
    query = select(*_ACCOUNT_COLUMNS).where(accounts.c.member_id == member_id)
    row = conn.execute(query).first()
    return None if row is None else AccountRow(*row)


def touch_account(conn: Connection, member_id: str) -> AccountRow | None:
    """Lock the account row until the transaction ends and bump its version, so an operation
    that read the card before this transaction changed the member (real name, erasure) books
    nothing and decides again; the row as it is now."""
    row = conn.execute(
        update(accounts)
        .where(accounts.c.member_id == member_id)
        .values(version=accounts.c.version + 1)
        .returning(*_ACCOUNT_COLUMNS)
    ).first()
    return None if row is None else AccountRow(*row)


# The hot path's statements are built once, with bind parameters: building them per call
# costs more Python time than the database spends running them.
_READ_CARD = (
    select(
        member_repository.members,
        accounts.c.principal_fen,
        accounts.c.bonus_fen,
        accounts.c.debit_count,
        accounts.c.version,
    )
    .join(accounts, accounts.c.member_id == member_repository.members.c.member_id)
    .where(member_repository.members.c.member_id == bindparam("member_id"))
)
_LOCK_CARD = _READ_CARD.with_for_update(of=accounts)


CardRow = tuple[MemberRow, AccountRow]


def read_card(conn: Connection, member_id: str, *, lock: bool) -> CardRow | None:
    """The member and their account row (one statement for both); ``lock`` locks the account
    row until the transaction ends."""
    params = {"member_id": member_id}
    row: Sequence[Any] | None
    if lock and not is_sqlite(conn):  # where an operation whose card kept moving ends up
        row = _on_driver(conn, _LOCK_CARD_SQL, {**_LOCK_CARD_CONSTANTS, **params})
    else:
        row = conn.execute(_LOCK_CARD if lock else _READ_CARD, params).first()
    return None if row is None else _card_row(row)


_MEMBER_NAMES = tuple(c.name for c in members.c)


def _card_row(values: Sequence[Any]) -> CardRow:
    """A card from the members columns followed by the account's balances, debit count and
    version, by position (the order of ``_READ_CARD``)."""
    member = member_repository.member_row_of(dict(zip(_MEMBER_NAMES, values, strict=False)))
    principal, bonus, debits, version = values[len(_MEMBER_NAMES) :]
    return member, AccountRow(member.member_id, member.issuer_id, principal, bonus, debits, version)


def all_member_balances(conn: Connection) -> list[tuple[str, int, int]]:
    rows = conn.execute(
        select(accounts.c.member_id, accounts.c.principal_fen, accounts.c.bonus_fen).order_by(
            accounts.c.member_id
        )
    )
    return [(m, int(p), int(b)) for m, p, b in rows]


def outstanding(conn: Connection, issuer_ids: Sequence[str] | None) -> list[tuple[Any, ...]]:
    """Per issuer: members with a balance, principal and bonus owed."""
    query = select(
        accounts.c.issuer_id,
        func.count().filter(accounts.c.principal_fen + accounts.c.bonus_fen > 0),
        func.coalesce(func.sum(accounts.c.principal_fen), 0),
        func.coalesce(func.sum(accounts.c.bonus_fen), 0),
    ).group_by(accounts.c.issuer_id)
    if issuer_ids is not None:
        query = query.where(accounts.c.issuer_id.in_(list(issuer_ids)))
    return [tuple(r) for r in conn.execute(query.order_by(accounts.c.issuer_id))]


# --- journal ---------------------------------------------------------------------------------


_INSERT_JOURNAL = journal.insert()
_INSERT_POSTINGS = postings.insert()


@dataclass(frozen=True, slots=True)
class Booking:
    """Everything one operation writes, decided on the member's account at ``version``."""

    member_id: str
    version: int
    principal_delta: int
    bonus_delta: int
    debit: bool
    now: datetime
    journal: dict[str, Any]  # a value for each column of stored_value_journal
    lines: Sequence[Line]
    ledger_kind: str
    ledger_payload: str  # canonical JSON, as the outbox holds it
    request_key: str
    operation: str
    request_digest: bytes
    status_code: int
    response: str


def book(conn: Connection, booking: Booking) -> tuple[bool, CardRow | None]:
    """Move the balance if the account is still at ``booking.version`` (and neither balance
    would go below zero), and with it write the journal entry, its postings, the staged
    ledger entry and the request's key with its answer; whether it was booked. Nothing is
    written if not. A key stored meanwhile by another transaction raises (unique violation):
    the caller runs the request again, and then finds the key's answer.

    If not booked, on PostgreSQL also the card as the statement found it (as of its start:
    if it had to wait for another booking, it does not show that one), to decide on again
    without another round trip.
    """
    params = {
        "b_member": booking.member_id,
        "b_version": booking.version,
        "dp": booking.principal_delta,
        "db": booking.bonus_delta,
        "debits": 1 if booking.debit else 0,
        "b_now": booking.now,
    }
    if is_sqlite(conn):  # no data-modifying CTEs: the same writes, one statement each
        if conn.execute(_MOVE_BALANCE, params).rowcount != 1:
            return False, None
        insert_journal(conn, booking.lines, **booking.journal)
        conn.execute(_STAGE, _staged(booking))
        conn.execute(_ANSWER, _answered(booking))
        return True, None
    params.update(
        journal=_journal_document(booking.journal, booking.lines),
        kind=booking.ledger_kind,
        payload=booking.ledger_payload,
        key=booking.request_key,
        operation=booking.operation,
        digest=booking.request_digest,
        status=booking.status_code,
        response=booking.response,
    )
    if conn.connection.info.pop(_LOCKED, False):
        booked, *card = _book_and_commit(conn, params)
    else:
        booked, *card = _one_on_driver(conn, _BOOK_SQL, params)
    if booked:
        return True, None
    return False, None if card[0] is None else _card_row(card)


def _journal_document(values: Mapping[str, Any], lines: Sequence[Line]) -> str:
    """A journal row as the JSON object ``json_populate_record`` reads, its postings under
    ``lines`` (a key no column has) for ``json_populate_recordset``: one parameter for the
    row's two dozen columns and the postings, each converted by the server to its column's
    type."""
    return json.dumps(
        {
            **values,
            "business_day": values["business_day"].isoformat(),
            "created_at": values["created_at"].isoformat(),
            "lines": [
                {"line": n, "account": x.account, "amount_fen": x.amount_fen}
                for n, x in enumerate(lines)
            ],
        }
    )


def _staged(booking: Booking) -> dict[str, Any]:
    return {
        "entry_id": booking.journal["journal_id"],
        "kind": booking.ledger_kind,
        "payload": booking.ledger_payload,
        "created_at": booking.now,
    }


def _answered(booking: Booking) -> dict[str, Any]:
    """The request's row: its key and, at once, its answer (no personal data in it)."""
    return {
        "idempotency_key": booking.request_key,
        "operation": booking.operation,
        "request_digest": booking.request_digest,
        "member_id": None,
        "status_code": booking.status_code,
        "response": booking.response,
        "created_at": booking.now,
    }


_MOVE_BALANCE = (
    update(accounts)
    .where(
        accounts.c.member_id == bindparam("b_member"),
        accounts.c.version == bindparam("b_version", type_=BigInteger),
        accounts.c.principal_fen + bindparam("dp", type_=BigInteger) >= 0,
        accounts.c.bonus_fen + bindparam("db", type_=BigInteger) >= 0,
    )
    .values(
        principal_fen=accounts.c.principal_fen + bindparam("dp", type_=BigInteger),
        bonus_fen=accounts.c.bonus_fen + bindparam("db", type_=BigInteger),
        debit_count=accounts.c.debit_count + bindparam("debits", type_=Integer),
        updated_at=bindparam("b_now"),
        version=accounts.c.version + 1,
    )
)
_STAGE = outbox.insert()
_ANSWER = requests.insert()


def _names(table: Table, prefix: str = "") -> str:
    return ", ".join(f"{prefix}{c.name}" for c in table.c)


# The journal row's columns from its JSON document, but its member from the account row the
# statement moved: the entry names the member whose balance moved, whatever the document says.
_JOURNAL_VALUES = ", ".join(
    "moved.member_id" if c.name == "member_id" else f"j.{c.name}" for c in journal.c
)

# PostgreSQL: the same writes as one statement. Every insert reads from ``moved`` (or from
# ``entry``, which does), so nothing is written unless the balance moved; the postings and the
# staged entry take the journal id from ``entry``. The journal row and its postings come as one
# JSON document, read into the tables' own row types by the server: a parameter per
# column cost more client CPU (psycopg adapts each one) than the server spends on the whole
# statement. The key goes in last (the lock order): a key another transaction holds or stored
# makes this statement wait for it, then fail whole with a unique violation. The card is read
# back only if the balance did not move (an uncorrelated condition: a one-time filter, skipped
# when it moved).
_BOOK_SQL = f"""
WITH moved AS (
    UPDATE {accounts.name}
    SET principal_fen = principal_fen + %(dp)s::bigint,
        bonus_fen = bonus_fen + %(db)s::bigint,
        debit_count = debit_count + %(debits)s::integer,
        updated_at = %(b_now)s,
        version = version + 1
    WHERE member_id = %(b_member)s AND version = %(b_version)s::bigint
      AND principal_fen + %(dp)s::bigint >= 0 AND bonus_fen + %(db)s::bigint >= 0
    RETURNING member_id
), entry AS (
    INSERT INTO {journal.name} ({_names(journal)})
    SELECT {_JOURNAL_VALUES}
    FROM moved, json_populate_record(NULL::{journal.name}, %(journal)s::json) AS j
    RETURNING journal_id
), lines AS (
    INSERT INTO {postings.name} (journal_id, line, account, amount_fen)
    SELECT entry.journal_id, line.line, line.account, line.amount_fen
    FROM entry,
        json_populate_recordset(NULL::{postings.name}, %(journal)s::json -> 'lines') AS line
), staged AS (
    INSERT INTO {outbox.name} (entry_id, kind, payload, created_at)
    SELECT entry.journal_id, %(kind)s, %(payload)s, %(b_now)s FROM entry
), answered AS (
    INSERT INTO {requests.name}
        (idempotency_key, operation, request_digest, member_id, status_code, response, created_at)
    SELECT %(key)s, %(operation)s, %(digest)s::bytea, NULL, %(status)s::smallint, %(response)s,
        %(b_now)s
    FROM moved
)
SELECT EXISTS (SELECT FROM moved) AS booked, card.*
FROM (SELECT 1) AS one
LEFT JOIN (
    SELECT {_names(members, "m.")}, a.principal_fen, a.bonus_fen, a.debit_count, a.version
    FROM {members.name} AS m JOIN {accounts.name} AS a ON a.member_id = m.member_id
    WHERE m.member_id = %(b_member)s AND NOT EXISTS (SELECT FROM moved)
) AS card ON true
"""


def insert_journal(conn: Connection, lines: Sequence[Line], **values: Any) -> None:
    conn.execute(_INSERT_JOURNAL, values)
    conn.execute(
        _INSERT_POSTINGS,
        [
            {
                "journal_id": values["journal_id"],
                "line": n,
                "account": x.account,
                "amount_fen": x.amount_fen,
            }
            for n, x in enumerate(lines)
        ],
    )


def _journal_row(row: Any) -> JournalRow:
    values = dict(row._mapping)
    values["created_at"] = as_utc(values["created_at"])
    return JournalRow(**values)


def get_journal(
    conn: Connection, journal_id: str, *, for_update: bool = False
) -> JournalRow | None:
    query = select(journal).where(journal.c.journal_id == journal_id)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return None if row is None else _journal_row(row)


def add_refunded(conn: Connection, spend_id: str, principal_fen: int, bonus_fen: int) -> None:
    conn.execute(
        update(journal)
        .where(journal.c.journal_id == spend_id)
        .values(
            refunded_principal_fen=journal.c.refunded_principal_fen + principal_fen,
            refunded_bonus_fen=journal.c.refunded_bonus_fen + bonus_fen,
        )
    )


def mark_voided(conn: Connection, top_up_id: str, void_id: str) -> None:
    conn.execute(update(journal).where(journal.c.journal_id == top_up_id).values(voided_by=void_id))


def lines_of(conn: Connection, journal_ids: Iterable[str]) -> dict[str, list[Line]]:
    wanted = sorted(set(journal_ids))
    out: dict[str, list[Line]] = {j: [] for j in wanted}
    for start in range(0, len(wanted), 500):
        rows = conn.execute(
            select(postings.c.journal_id, postings.c.account, postings.c.amount_fen)
            .where(postings.c.journal_id.in_(wanted[start : start + 500]))
            .order_by(postings.c.journal_id, postings.c.line)
        )
        for journal_id, account, amount in rows:
            out[journal_id].append(Line(account, amount))
    return out


def member_journal(
    conn: Connection, member_id: str, *, limit: int, before: tuple[datetime, str] | None
) -> list[JournalRow]:
    """A member's operations, newest first."""
    query = select(journal).where(journal.c.member_id == member_id)
    if before is not None:
        at, journal_id = before
        query = query.where(
            (journal.c.created_at < at)
            | and_(journal.c.created_at == at, journal.c.journal_id < journal_id)
        )
    query = query.order_by(journal.c.created_at.desc(), journal.c.journal_id.desc()).limit(limit)
    return [_journal_row(r) for r in conn.execute(query)]


def day_operations(conn: Connection, store_id: str, day: date) -> list[tuple[str, int, int, int]]:
    """(operation, count, principal change, bonus change) of a store's day."""
    rows = conn.execute(
        select(
            journal.c.operation,
            func.count(),
            func.coalesce(func.sum(journal.c.principal_fen), 0),
            func.coalesce(func.sum(journal.c.bonus_fen), 0),
        )
        .where(journal.c.store_id == store_id, journal.c.business_day == day)
        .group_by(journal.c.operation)
        .order_by(journal.c.operation)
    )
    return [(op, int(n), int(p), int(b)) for op, n, p, b in rows]


def day_postings(conn: Connection, store_id: str, day: date) -> list[tuple[str, int, int]]:
    """(account, debits, credits) of the journal entries made at a store on a day."""
    amount = postings.c.amount_fen
    rows = conn.execute(
        select(
            postings.c.account,
            func.coalesce(func.sum(case((amount > 0, amount), else_=0)), 0),
            func.coalesce(func.sum(case((amount < 0, -amount), else_=0)), 0),
        )
        .join(journal, journal.c.journal_id == postings.c.journal_id)
        .where(journal.c.store_id == store_id, journal.c.business_day == day)
        .group_by(postings.c.account)
        .order_by(postings.c.account)
    )
    return [(account, int(dr), int(cr)) for account, dr, cr in rows]


def day_journal_ids(conn: Connection, store_id: str, day: date) -> list[str]:
    rows = conn.execute(
        select(journal.c.journal_id)
        .where(journal.c.store_id == store_id, journal.c.business_day == day)
        .order_by(journal.c.created_at, journal.c.journal_id)
    )
    return [r[0] for r in rows]


def account_balances(conn: Connection, prefix: str | None = None) -> dict[str, int]:
    """Every account's balance summed from the stored postings (optionally one prefix)."""
    query = select(postings.c.account, func.sum(postings.c.amount_fen)).group_by(postings.c.account)
    if prefix is not None:
        query = query.where(postings.c.account.startswith(prefix, autoescape=True))
    return {account: int(total) for account, total in conn.execute(query)}


# --- idempotency keys ------------------------------------------------------------------------


def _claim_statement(sqlite: bool) -> Any:
    insert = sqlite_insert if sqlite else pg_insert
    return (
        insert(requests)
        .values(
            idempotency_key=bindparam("b_key"),
            operation=bindparam("b_operation"),
            request_digest=bindparam("b_digest"),
            member_id=bindparam("b_member"),
            status_code=0,
            response="",
            created_at=bindparam("b_now"),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(requests.c.idempotency_key)
    )


_CLAIM = {True: _claim_statement(True), False: _claim_statement(False)}
_GET_REQUEST = select(
    requests.c.idempotency_key,
    requests.c.operation,
    requests.c.request_digest,
    requests.c.member_id,
    requests.c.status_code,
    requests.c.response,
).where(requests.c.idempotency_key == bindparam("key"))
# The request's row (if its key was used) and the member's card, unlocked, in one statement.
_FOUND = _GET_REQUEST.subquery("found")
_CARD = _READ_CARD.subquery("card")
_LOOK_UP = select(*(c.label(f"r_{c.name}") for c in _FOUND.c), _CARD).select_from(
    select(literal_column("1").label("one"))
    .subquery("one")
    .outerjoin(_FOUND, true())
    .outerjoin(_CARD, true())
)


def _for_driver(statement: Any) -> tuple[str, dict[str, Any]]:
    """A statement compiled once for psycopg (``%(name)s`` parameters), with its own constants,
    which are parameters too, to send with each call's."""
    compiled = statement.compile(dialect=PGDialect_psycopg())  # type: ignore[no-untyped-call]
    return str(compiled), {k: v for k, v in compiled.params.items() if v is not None}


_LOOK_UP_SQL, _LOOK_UP_CONSTANTS = _for_driver(_LOOK_UP)
_LOCK_CARD_SQL, _LOCK_CARD_CONSTANTS = _for_driver(_LOCK_CARD)
_GET_REQUEST_SQL, _GET_REQUEST_CONSTANTS = _for_driver(_GET_REQUEST)


def _on_driver(conn: Connection, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row (if any) of a hot-path statement, run on the psycopg connection
    underneath, in the transaction SQLAlchemy began (or as its own, on a connection without
    one): SQLAlchemy's per-call work (parameters, result metadata) costs more client CPU than
    the server spends on the statement. Errors are raised as SQLAlchemy's, as
    :func:`~api.stored_value.transactions.atomically` expects."""
    try:
        row = _cursor(conn).execute(sql, params).fetchone()
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, dict(params), exc, psycopg.Error) from exc
    return None if row is None else tuple(row)


_CURSOR = "stored_value_cursor"


def _cursor(conn: Connection) -> psycopg.Cursor[Any]:
    """The psycopg cursor kept with the pooled connection for the hot-path statements: a new
    cursor per statement would set up its adapters and result loaders anew each time."""
    pooled = conn.connection
    driver = pooled.driver_connection
    assert isinstance(driver, psycopg.Connection)
    cursor = pooled.info.get(_CURSOR)
    if cursor is None or cursor.connection is not driver or cursor.closed:
        cursor = pooled.info[_CURSOR] = driver.cursor()
    return cast("psycopg.Cursor[Any]", cursor)


def _one_on_driver(conn: Connection, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...]:
    row = _on_driver(conn, sql, params)
    assert row is not None
    return row


# Set on a pooled connection while it holds a transaction that lock_card began.
_LOCKED = "stored_value_locked_card"


def lock_card(conn: Connection, member_id: str) -> CardRow | None:
    """On a connection where each statement commits on its own (PostgreSQL), begin a
    transaction and lock the member's account row in it, ``BEGIN`` and the locked read sent
    together (one round trip); the card as it is now. The next :func:`book` on ``conn``
    commits the transaction in its own round trip; :func:`release_card` rolls it back."""
    params = {**_LOCK_CARD_CONSTANTS, "member_id": member_id}
    with _pipelined_on_card(conn, _LOCK_CARD_SQL, params) as cursor:
        cursor.execute("BEGIN")
        cursor.execute(_LOCK_CARD_SQL, params)
        row = cursor.fetchone()
    conn.connection.info[_LOCKED] = True
    return None if row is None else _card_row(row)


def _book_and_commit(conn: Connection, params: dict[str, Any]) -> tuple[Any, ...]:
    """The booking statement and ``COMMIT``, sent together, in the transaction lock_card
    began; rolled back if the booking fails."""
    with _pipelined_on_card(conn, _BOOK_SQL, params) as cursor:
        cursor.execute(_BOOK_SQL, params)
        cursor.connection.execute("COMMIT")
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


@contextmanager
def _pipelined_on_card(
    conn: Connection, sql: str, params: Mapping[str, Any]
) -> Iterator[psycopg.Cursor[Any]]:
    """The cursor, in a psycopg pipeline, for the statements of a card lock_card holds (or is
    about to): on a server error the transaction is rolled back and the error raised as
    SQLAlchemy's, naming ``sql``, as a statement run through SQLAlchemy would raise it."""
    cursor = _cursor(conn)
    try:
        with cursor.connection.pipeline():
            yield cursor
    except psycopg.Error as exc:
        release_card(conn)
        raise DBAPIError.instance(sql, params, exc, psycopg.Error) from exc


def release_card(conn: Connection) -> None:
    """Roll back the transaction lock_card began, if it is still open."""
    conn.connection.info.pop(_LOCKED, None)
    driver = _cursor(conn).connection
    if driver.info.transaction_status != TransactionStatus.IDLE:
        driver.execute("ROLLBACK")


_COMPLETE_REQUEST = (
    update(requests)
    .where(requests.c.idempotency_key == bindparam("key"))
    .values(
        status_code=bindparam("b_status"),
        response=bindparam("b_response"),
        member_id=bindparam("b_member"),
    )
)


def claim_request(
    conn: Connection,
    key: str,
    operation: str,
    digest: bytes,
    member_id: str | None,
    now: datetime,
) -> bool:
    """Insert the key unless it exists: whether this transaction now owns it.

    On PostgreSQL a concurrent transaction holding the same new key makes this wait until it
    commits (then False) or rolls back (then True): two retries never both run.
    """
    params = {
        "b_key": key,
        "b_operation": operation,
        "b_digest": digest,
        "b_member": member_id,
        "b_now": now,
    }
    return conn.execute(_CLAIM[is_sqlite(conn)], params).first() is not None


def look_up(
    conn: Connection, key: str, member_id: str | None
) -> tuple[RequestRow | None, CardRow | None]:
    """The stored request of ``key`` and the card of ``member_id`` (``None`` where there is
    none), read in one statement without a lock."""
    params = {"key": key, "member_id": member_id}
    row: Sequence[Any]
    if is_sqlite(conn):
        row = conn.execute(_LOOK_UP, params).one()
    else:
        row = _one_on_driver(conn, _LOOK_UP_SQL, {**_LOOK_UP_CONSTANTS, **params})
    key_found, operation, request_digest, about, status_code, response = row[:6]
    request = None
    if key_found is not None:
        request = RequestRow(
            key_found, operation, bytes(request_digest), about, status_code, response
        )
    return request, None if row[6] is None else _card_row(row[6:])


def get_request(conn: Connection, key: str) -> RequestRow | None:
    params = {"key": key}
    row: Sequence[Any] | None
    if is_sqlite(conn):
        row = conn.execute(_GET_REQUEST, params).first()
    else:
        row = _on_driver(conn, _GET_REQUEST_SQL, {**_GET_REQUEST_CONSTANTS, **params})
    if row is None:
        return None
    return RequestRow(row[0], row[1], bytes(row[2]), row[3], row[4], row[5])


def complete_request(
    conn: Connection, key: str, status_code: int, response: str, member_id: str | None
) -> None:
    params = {
        "key": key,
        "b_status": status_code,
        "b_response": response,
        "b_member": member_id,
    }
    conn.execute(_COMPLETE_REQUEST, params)


def tombstone_requests(
    conn: Connection, member_id: str, operations: Sequence[str], status_code: int, response: str
) -> None:
    """Replace the stored answers (and body digests) of a member's member-data requests."""
    conn.execute(
        update(requests)
        .where(requests.c.member_id == member_id, requests.c.operation.in_(list(operations)))
        .values(status_code=status_code, response=response, request_digest=bytes(32))
    )


# --- promotions ------------------------------------------------------------------------------


def insert_promotion(conn: Connection, **values: Any) -> None:
    conn.execute(promotions.insert().values(**values))


def _promotion(row: Any) -> PromotionRow:
    values = dict(row._mapping)
    for name in ("starts_at", "ends_at", "created_at", "retired_at"):
        if values[name] is not None:
            values[name] = as_utc(values[name])
    return PromotionRow(**values)


def get_promotion(conn: Connection, promotion_id: str) -> PromotionRow | None:
    row = conn.execute(select(promotions).where(promotions.c.promotion_id == promotion_id)).first()
    return None if row is None else _promotion(row)


def promotions_of(conn: Connection, owner_ids: Sequence[str]) -> list[PromotionRow]:
    rows = conn.execute(
        select(promotions)
        .where(promotions.c.owner_id.in_(list(owner_ids)))
        .order_by(promotions.c.created_at, promotions.c.promotion_id)
    )
    return [_promotion(r) for r in rows]


def retire_promotion(conn: Connection, promotion_id: str, now: datetime) -> None:
    conn.execute(
        update(promotions)
        .where(promotions.c.promotion_id == promotion_id, promotions.c.retired_at.is_(None))
        .values(retired_at=now)
    )
