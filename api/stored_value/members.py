"""Members: registration at a store, real-name details, lookup at the counter, erasure (PIPL).

The ledger learns that a member exists, of which issuer, and salted commitments to their phone,
name and ID number: never the values. Erasure deletes the values and the salt; what remains
(the pseudonymous member id, amounts, dates) is the issuer's accounting record.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

from sqlalchemy import Connection

from api.errors import Conflict, NotFound
from api.log.outbox import stage_entry
from api.stored_value import identity, privacy
from api.stored_value import member_repository as repo
from api.stored_value import repository as books
from api.stored_value.counter import Counter
from api.stored_value.idempotency import Replayable, RequestKey, once
from api.stored_value.member_repository import MemberRow
from api.stored_value.member_tokens import member_token, qr_code, read_qr_code
from api.stored_value.operations import MemberErased, member_here
from api.stored_value.privacy import MemberKeys, commitment
from api.stored_value.rules import Rules, yuan
from api.stored_value.schemas import (
    CommitmentOpening,
    ErasedOut,
    IdentityProof,
    LookupIn,
    MemberCreated,
    MemberIn,
    MemberOut,
    MemberTokenOut,
    QrOut,
    RealNameIn,
)
from api.stored_value.views import balance
from api.trace.common import SHANGHAI

# Requests whose stored answers describe the person; erasure blanks them.
PERSONAL_OPERATIONS = ("register", "real_name")


class AlreadyMember(Conflict):
    code = "already_member"


class BalanceNotZero(Conflict):
    code = "balance_not_zero"


def _view(conn: Connection, keys: MemberKeys, rules: Rules, member: MemberRow) -> MemberOut:
    if member.erased:
        raise MemberErased(f"member {member.member_id} was erased at their request")
    data = repo.get_personal(conn, member.member_id)
    account = books.get_account(conn, member.member_id)
    if data is None or account is None:
        raise NotFound(f"member {member.member_id} has no personal data or account")
    phone = keys.open(data.phone_ct, member.member_id, "phone")
    name = None if data.name_ct is None else keys.open(data.name_ct, member.member_id, "name")
    return MemberOut(
        member_id=member.member_id,
        issuer_id=member.issuer_id,
        programme="store" if member.issuer_id == member.home_store_id else "dealer",
        home_store_id=member.home_store_id,
        real_name=member.real_name,
        phone=identity.mask_phone(phone),
        name=None if name is None else identity.mask_name(name),
        token_generation=member.token_generation,
        created_at=member.created_at.astimezone(SHANGHAI),
        balance=balance(rules, member.real_name, account.principal_fen, account.bonus_fen),
    )


def view(conn: Connection, keys: MemberKeys, rules: Rules, member_id: str) -> MemberOut:
    member = repo.get_member(conn, member_id)
    if member is None:
        raise NotFound(f"no member {member_id}")
    return _view(conn, keys, rules, member)


def member_here_or_erased(conn: Connection, counter: Counter, member_id: str) -> MemberRow:
    """Like ``member_here`` but an erased member is still found (erasure is idempotent)."""
    member = repo.get_member(conn, member_id)
    if member is None or member.issuer_id not in counter.programmes:
        raise NotFound(f"no member {member_id} in the programmes store {counter.store_id} accepts")
    return member


def register(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    body: MemberIn,
) -> Replayable[MemberCreated]:
    def run() -> MemberCreated:
        phone = identity.normalise_phone(body.phone)
        if body.programme == "dealer":
            if counter.dealer_id is None:
                raise Conflict(f"store {counter.store_id} has no dealer to run a chain programme")
            issuer = counter.dealer_id
        else:
            issuer = counter.store_id
        lookup = keys.phone_lookup(issuer, phone)
        existing = repo.find_by_phone(conn, [(issuer, lookup)])
        if existing:
            raise AlreadyMember(
                f"this phone number already has a card in this programme: member {existing[0]}"
            )
        real = None
        if body.name is not None and body.id_number is not None:
            real = (
                identity.normalise_name(body.name),
                identity.normalise_id_number(body.id_number),
            )
        member_id = f"mb_{secrets.token_hex(16)}"
        entry_id = str(uuid.uuid4())
        salt = privacy.new_salt()
        now = counter.now
        repo.insert_member(
            conn,
            member_id=member_id,
            issuer_id=issuer,
            home_store_id=counter.store_id,
            real_name=real is not None,
            token_generation=1,
            created_at=now,
            erased_at=None,
            registered_entry_id=entry_id,
            real_name_entry_id=None,
        )
        repo.insert_personal(
            conn,
            member_id=member_id,
            issuer_id=issuer,
            phone_hmac=lookup,
            phone_ct=keys.seal(phone, member_id, "phone"),
            name_ct=None if real is None else keys.seal(real[0], member_id, "name"),
            id_number_ct=None if real is None else keys.seal(real[1], member_id, "id_number"),
            salt=salt,
            updated_at=now,
        )
        books.insert_account(conn, member_id, issuer, now)
        commitments = {"phone": commitment(salt, "phone", phone)}
        if real is not None:
            commitments["name"] = commitment(salt, "name", real[0])
            commitments["id_number"] = commitment(salt, "id_number", real[1])
        stage_entry(
            conn,
            "member.registered",
            {
                "member": member_id,
                "issuer": issuer,
                "store": counter.store_id,
                "real_name": real is not None,
                "commitments": commitments,
            },
            entry_id=entry_id,
        )
        created = _view(conn, keys, rules, _member(conn, member_id))
        return MemberCreated(**created.model_dump())

    outcome = once(
        conn,
        keys,
        key,
        "register",
        body.model_dump(mode="json"),
        MemberCreated,
        run,
        now=counter.now,
        member_of=lambda created: created.member_id,
    )
    return _with_token(keys, outcome)


def _with_token(keys: MemberKeys, outcome: Replayable[MemberCreated]) -> Replayable[MemberCreated]:
    """The member token is not stored with the answer (it is a credential); it is derived again,
    so a replay carries the token the first answer carried."""
    result = outcome.result.model_copy(
        update={
            "member_token": member_token(
                keys, outcome.result.member_id, outcome.result.token_generation
            )
        }
    )
    return Replayable(result, outcome.status_code, outcome.replayed)


def _member(conn: Connection, member_id: str) -> MemberRow:
    member = repo.get_member(conn, member_id)
    if member is None:
        raise NotFound(f"no member {member_id}")
    return member


def set_real_name(
    conn: Connection,
    keys: MemberKeys,
    rules: Rules,
    counter: Counter,
    key: RequestKey,
    member_id: str,
    body: RealNameIn,
) -> Replayable[MemberOut]:
    def run() -> MemberOut:
        member = member_here(conn, counter, member_id)
        books.touch_account(conn, member_id)  # a top-up that read the old cap decides again
        name = identity.normalise_name(body.name)
        id_number = identity.normalise_id_number(body.id_number)
        data = repo.get_personal(conn, member_id)
        assert data is not None
        entry_id = str(uuid.uuid4())
        repo.set_real_name(
            conn,
            member_id,
            keys.seal(name, member_id, "name"),
            keys.seal(id_number, member_id, "id_number"),
            entry_id,
            counter.now,
        )
        stage_entry(
            conn,
            "member.real_name",
            {
                "member": member_id,
                "issuer": member.issuer_id,
                "store": counter.store_id,
                "commitments": {
                    "name": commitment(data.salt, "name", name),
                    "id_number": commitment(data.salt, "id_number", id_number),
                },
            },
            entry_id=entry_id,
        )
        return _view(conn, keys, rules, _member(conn, member_id))

    request = {"member_id": member_id, **body.model_dump(mode="json")}
    return once(
        conn, keys, key, "real_name", request, MemberOut, run, now=counter.now, member_id=member_id
    )


def reissue_token(
    conn: Connection, keys: MemberKeys, counter: Counter, key: RequestKey, member_id: str
) -> Replayable[MemberTokenOut]:
    """A new member token; every earlier one stops working (a lost or shared phone)."""

    def run() -> MemberTokenOut:
        member_here(conn, counter, member_id)
        generation = repo.bump_token_generation(conn, member_id)
        return MemberTokenOut(member_id=member_id, token_generation=generation)

    outcome = once(
        conn,
        keys,
        key,
        "member_token",
        {"member_id": member_id},
        MemberTokenOut,
        run,
        now=counter.now,
    )
    token = member_token(keys, member_id, outcome.result.token_generation)
    result = outcome.result.model_copy(update={"member_token": token})
    return Replayable(result, outcome.status_code, outcome.replayed)


def lookup(
    conn: Connection, keys: MemberKeys, rules: Rules, counter: Counter, body: LookupIn
) -> MemberOut:
    if body.qr is not None:
        member_id = read_qr_code(keys, body.qr, counter.now)
        return _view(conn, keys, rules, member_here(conn, counter, member_id))
    assert body.phone is not None
    phone = identity.normalise_phone(body.phone)
    found = repo.find_by_phone(conn, [(i, keys.phone_lookup(i, phone)) for i in counter.programmes])
    if not found:
        raise NotFound(f"no member with this phone number in the programmes of {counter.store_id}")
    # A phone may hold both the store's card and the dealer's: the store's own comes first.
    members = [_member(conn, m) for m in found]
    members.sort(key=lambda m: m.issuer_id != counter.store_id)
    return _view(conn, keys, rules, members[0])


def qr(keys: MemberKeys, member_id: str, lifetime_s: int) -> QrOut:
    token, expires = qr_code(keys, member_id, datetime.now(UTC), lifetime_s)
    return QrOut(qr=token, expires_at=expires.astimezone(SHANGHAI))


def identity_proof(conn: Connection, keys: MemberKeys, member_id: str) -> IdentityProof:
    """The member's own data and salt, to open the commitments in their ledger entries."""
    member = _member(conn, member_id)
    data = repo.get_personal(conn, member_id)
    if member.erased or data is None:
        raise MemberErased(f"member {member_id} was erased")
    values = {"phone": keys.open(data.phone_ct, member_id, "phone")}
    if data.name_ct is not None and data.id_number_ct is not None:
        values["name"] = keys.open(data.name_ct, member_id, "name")
        values["id_number"] = keys.open(data.id_number_ct, member_id, "id_number")
    openings = [
        CommitmentOpening(field=f, value=v, commitment=commitment(data.salt, f, v))  # type: ignore[arg-type]
        for f, v in values.items()
    ]
    return IdentityProof(
        member_id=member_id,
        salt=data.salt.hex(),
        openings=openings,
        ledger_entry_ids=[
            e for e in (member.registered_entry_id, member.real_name_entry_id) if e is not None
        ],
    )


def erase(
    conn: Connection, keys: MemberKeys, member_id: str, now: datetime, store_id: str | None
) -> ErasedOut:
    """Delete the member's personal data and salt (PIPL art. 47), once the card is empty.

    Idempotent by nature: erasing an erased member answers as the first time did.
    """
    # First, as every operation does; an operation that read the card before books nothing.
    account = books.touch_account(conn, member_id)
    member = _member(conn, member_id)
    if member.erased:
        assert member.erased_at is not None
        return ErasedOut(
            member_id=member_id,
            erased_at=member.erased_at.astimezone(SHANGHAI),
            ledger_entry_id=_erasure_entry_id(member_id),
        )
    if account is not None and account.total_fen > 0:
        raise BalanceNotZero(
            f"the card still holds {yuan(account.total_fen)} CNY; pay it out first "
            "(POST /v1/stored-value/cash-refunds), then erase"
        )
    repo.erase(conn, member_id, now)
    gone = '{"error":{"code":"member_erased","message":"this member was erased at their request"}}'
    books.tombstone_requests(conn, member_id, PERSONAL_OPERATIONS, 410, gone)
    entry_id = _erasure_entry_id(member_id)
    payload = {"member": member_id, "issuer": member.issuer_id, "store": store_id}
    stage_entry(conn, "member.erased", payload, entry_id=entry_id)
    return ErasedOut(
        member_id=member_id, erased_at=now.astimezone(SHANGHAI), ledger_entry_id=entry_id
    )


def _erasure_entry_id(member_id: str) -> str:
    """One erasure entry per member, whatever the retries: its id is derived from the member."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"jiuyuan:member-erased:{member_id}"))
