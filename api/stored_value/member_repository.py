"""All SQL of members and their personal data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, select, tuple_, update

from api.log.repository import as_utc
from api.stored_value.models import Member, MemberPersonalData

members = cast(Table, Member.__table__)
personal = cast(Table, MemberPersonalData.__table__)


@dataclass(frozen=True, slots=True)
class MemberRow:
    member_id: str
    issuer_id: str
    home_store_id: str
    real_name: bool
    token_generation: int
    created_at: datetime
    erased_at: datetime | None
    registered_entry_id: str
    real_name_entry_id: str | None

    @property
    def erased(self) -> bool:
        return self.erased_at is not None


@dataclass(frozen=True, slots=True)
class PersonalRow:
    member_id: str
    issuer_id: str
    phone_hmac: bytes
    phone_ct: bytes
    name_ct: bytes | None
    id_number_ct: bytes | None
    salt: bytes


def insert_member(conn: Connection, **values: Any) -> None:
    conn.execute(members.insert().values(**values))


def insert_personal(conn: Connection, **values: Any) -> None:
    conn.execute(personal.insert().values(**values))


def get_member(conn: Connection, member_id: str) -> MemberRow | None:
    row = conn.execute(select(members).where(members.c.member_id == member_id)).first()
    return None if row is None else member_row(row)


def member_row(row: Any) -> MemberRow:
    """A MemberRow from a result row holding (at least) the members columns."""
    return member_row_of({c.name: row._mapping[c] for c in members.c})


def member_row_of(values: dict[str, Any]) -> MemberRow:
    """A MemberRow from the members columns by name."""
    values["created_at"] = as_utc(values["created_at"])
    if values["erased_at"] is not None:
        values["erased_at"] = as_utc(values["erased_at"])
    return MemberRow(**values)


def get_personal(conn: Connection, member_id: str) -> PersonalRow | None:
    row = conn.execute(
        select(
            personal.c.member_id,
            personal.c.issuer_id,
            personal.c.phone_hmac,
            personal.c.phone_ct,
            personal.c.name_ct,
            personal.c.id_number_ct,
            personal.c.salt,
        ).where(personal.c.member_id == member_id)
    ).first()
    if row is None:
        return None
    member_id, issuer_id, phone_hmac, phone_ct, name_ct, id_ct, salt = row
    return PersonalRow(
        member_id,
        issuer_id,
        bytes(phone_hmac),
        bytes(phone_ct),
        None if name_ct is None else bytes(name_ct),
        None if id_ct is None else bytes(id_ct),
        bytes(salt),
    )


def find_by_phone(conn: Connection, candidates: Sequence[tuple[str, bytes]]) -> list[str]:
    """Members whose (issuer, phone lookup hash) is one of ``candidates``."""
    if not candidates:
        return []
    rows = conn.execute(
        select(personal.c.member_id)
        .where(tuple_(personal.c.issuer_id, personal.c.phone_hmac).in_(list(candidates)))
        .order_by(personal.c.member_id)
    )
    return [r[0] for r in rows]


def set_real_name(
    conn: Connection,
    member_id: str,
    name_ct: bytes,
    id_number_ct: bytes,
    entry_id: str,
    now: datetime,
) -> None:
    conn.execute(
        update(personal)
        .where(personal.c.member_id == member_id)
        .values(name_ct=name_ct, id_number_ct=id_number_ct, updated_at=now)
    )
    conn.execute(
        update(members)
        .where(members.c.member_id == member_id)
        .values(real_name=True, real_name_entry_id=entry_id)
    )


def bump_token_generation(conn: Connection, member_id: str) -> int:
    conn.execute(
        update(members)
        .where(members.c.member_id == member_id)
        .values(token_generation=members.c.token_generation + 1)
    )
    generation = conn.execute(
        select(members.c.token_generation).where(members.c.member_id == member_id)
    ).scalar_one()
    return int(generation)


def erase(conn: Connection, member_id: str, now: datetime) -> None:
    """Delete the personal data and its salt; keep the pseudonymous member row for the books."""
    conn.execute(delete(personal).where(personal.c.member_id == member_id))
    conn.execute(
        update(members)
        .where(members.c.member_id == member_id)
        .values(erased_at=now, token_generation=members.c.token_generation + 1)
    )
