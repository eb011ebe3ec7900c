"""Tests of ledger.note against golang.org/x/mod/sumdb/note's vectors and the C2SP example."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import LedgerError, VerificationError
from ledger.note import (
    MAX_SIGNATURES,
    NoteSigner,
    NoteVerifier,
    is_valid_key_name,
    key_hash,
    open_note,
)

# golang.org/x/mod/sumdb/note/note_test.go (TestSign, TestOpen): keys, text and signatures.
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot "
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
)

# c2sp.org/signed-note's example verifier key and note.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


@pytest.fixture(scope="module")
def peter() -> NoteVerifier:
    return NoteVerifier.from_verifier_key(PETER_VKEY)


@pytest.fixture(scope="module")
def enoch() -> NoteVerifier:
    return NoteVerifier.from_verifier_key(ENOCH_VKEY)


# --- known answers -----------------------------------------------------------------------------


def test_signing_reproduces_the_go_note_byte_for_byte() -> None:
    signer = NoteSigner.from_private_key(PETER_SKEY)
    assert signer.name == "PeterNeumann"
    assert signer.key_hash == 0xC74F20A3
    assert signer.verifier_key() == PETER_VKEY
    assert signer.private_key_text() == PETER_SKEY
    assert signer.sign(GO_TEXT) == GO_TEXT + "\n" + PETER_SIG


def test_go_note_opens(peter: NoteVerifier) -> None:
    assert peter.name == "PeterNeumann"
    assert peter.key_hash == 0xC74F20A3
    assert peter.verifier_key() == PETER_VKEY
    assert open_note(GO_TEXT + "\n" + PETER_SIG, [peter]) == GO_TEXT


def test_spec_example_opens() -> None:
    verifier = NoteVerifier.from_verifier_key(SPEC_VKEY)
    assert verifier.key_hash == 0x530D903A
    assert verifier.verifier_key() == SPEC_VKEY
    assert open_note(SPEC_NOTE, [verifier]) == "This is an example message.\n"


def test_key_hash_is_truncated_sha256_of_name_alg_and_key(peter: NoteVerifier) -> None:
    assert key_hash("PeterNeumann", peter.public_key_bytes) == 0xC74F20A3
    assert key_hash("PeterNeumann2", peter.public_key_bytes) != 0xC74F20A3


# --- signatures by several keys ----------------------------------------------------------------


def test_unknown_signatures_are_ignored(peter: NoteVerifier, enoch: NoteVerifier) -> None:
    note = GO_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, [peter]) == GO_TEXT
    assert open_note(note, [enoch]) == GO_TEXT
    assert open_note(note, [peter, enoch]) == GO_TEXT
    # A signature with a known name but another key hash is another key: ignored too.
    impostor = NoteSigner.generate("PeterNeumann")
    assert open_note(impostor.sign(GO_TEXT) + PETER_SIG, [peter]) == GO_TEXT


def test_a_note_without_a_known_signature_is_rejected(peter: NoteVerifier) -> None:
    with pytest.raises(VerificationError, match="no signature by a trusted key"):
        open_note(GO_TEXT + "\n" + ENOCH_SIG, [peter])
    with pytest.raises(VerificationError, match="no signature by a trusted key"):
        open_note(GO_TEXT + "\n" + PETER_SIG, [])


def test_a_bad_signature_by_a_known_key_fails_even_beside_a_good_one(
    peter: NoteVerifier, enoch: NoteVerifier
) -> None:
    # Go's TestOpen: four characters inserted into a signature.
    bad_enoch = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = GO_TEXT + "\n" + PETER_SIG + bad_enoch
    assert open_note(note, [peter]) == GO_TEXT
    with pytest.raises(VerificationError, match="invalid signature for key EnochRoot"):
        open_note(note, [peter, enoch])


def test_cosigning_keys_each_verify() -> None:
    log, witness = NoteSigner.generate("example.com/log"), NoteSigner.generate("witness.example")
    note = log.sign("hello\n")
    cosigned = note + witness.sign("hello\n").split("\n\n", 1)[1]
    assert open_note(cosigned, [log.verifier(), witness.verifier()]) == "hello\n"


def test_colliding_trusted_keys_are_ambiguous(peter: NoteVerifier) -> None:
    other = NoteSigner.generate("x").public_key_bytes
    # Force a (name, key hash) collision: only possible by bypassing the hash check.
    twin = object.__new__(NoteVerifier)
    for attr, value in [("name", peter.name), ("key_hash", peter.key_hash)]:
        object.__setattr__(twin, attr, value)
    object.__setattr__(twin, "public_key_bytes", other)
    with pytest.raises(VerificationError, match="ambiguous key"):
        open_note(GO_TEXT + "\n" + PETER_SIG, [peter, twin])
    # The same key listed twice is not ambiguous.
    assert open_note(GO_TEXT + "\n" + PETER_SIG, [peter, peter]) == GO_TEXT


def test_at_most_max_signatures(peter: NoteVerifier) -> None:
    assert open_note(GO_TEXT + "\n" + PETER_SIG * MAX_SIGNATURES, [peter]) == GO_TEXT
    with pytest.raises(VerificationError, match="more than 100 signatures"):
        open_note(GO_TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1), [peter])


# --- tampering ---------------------------------------------------------------------------------


def _changed(text: str, index: int) -> str:
    replacement = "B" if text[index] != "B" else "C"
    return text[:index] + replacement + text[index + 1 :]


def test_every_changed_character_is_rejected(peter: NoteVerifier) -> None:
    note = GO_TEXT + "\n" + PETER_SIG
    for index in range(len(note)):
        with pytest.raises(VerificationError):
            open_note(_changed(note, index), [peter])


def test_dropped_or_added_characters_are_rejected(peter: NoteVerifier) -> None:
    note = GO_TEXT + "\n" + PETER_SIG
    for index in range(len(note)):
        with pytest.raises(VerificationError):
            open_note(note[:index] + note[index + 1 :], [peter])
    with pytest.raises(VerificationError):
        open_note(" " + note, [peter])


def test_non_canonical_base64_is_rejected(peter: NoteVerifier) -> None:
    # The last base64 digit before "=" carries two padding bits; Go would ignore them.
    blob = PETER_SIG.split(" ")[2].rstrip("\n")
    assert blob[-2:] == "M="
    malleated = PETER_SIG.replace(blob, blob[:-2] + "N=")
    assert base64.b64decode(blob[:-2] + "N=") == base64.b64decode(blob)
    with pytest.raises(VerificationError, match="bad signature line"):
        open_note(GO_TEXT + "\n" + malleated, [peter])


def test_wrong_key_does_not_open(peter: NoteVerifier) -> None:
    signer = NoteSigner.generate("PeterNeumann")
    with pytest.raises(VerificationError):
        open_note(signer.sign(GO_TEXT), [peter])


def test_signature_over_other_text_is_invalid(peter: NoteVerifier) -> None:
    forged = GO_TEXT.replace("answer", "answers") + "\n" + PETER_SIG
    with pytest.raises(VerificationError, match="invalid signature for key PeterNeumann"):
        open_note(forged, [peter])


# --- malformed notes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "note",
    [
        # Go's TestOpen "invalid encoded message syntax" cases.
        GO_TEXT,
        GO_TEXT + "\n",
        GO_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter Neumann"),
        GO_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        # And more.
        "\ud800" + GO_TEXT + "\n" + PETER_SIG,
        GO_TEXT.replace("\n", "\r\n") + "\n" + PETER_SIG,
        GO_TEXT + "\n" + PETER_SIG + "\n",
        GO_TEXT + "\n" + PETER_SIG.replace("— ", "-- "),
        GO_TEXT + "\n" + PETER_SIG.replace("— ", "—"),
        GO_TEXT + "\n" + PETER_SIG.replace("— PeterNeumann ", "— Peter+Neumann "),
        GO_TEXT + "\n" + PETER_SIG.replace("— PeterNeumann ", "—  "),
        GO_TEXT + "\n" + "— PeterNeumann\n",
        GO_TEXT + "\n" + "— PeterNeumann \n",
        GO_TEXT + "\n" + "— PeterNeumann x08go/Y=\n",
        GO_TEXT + "\n" + "— PeterNeumann x08go/ZJ\n",
        GO_TEXT + "\n" + "— PeterNeumann x08go/ZJ!!\n",
    ],
)
def test_malformed_notes_are_rejected(note: str, peter: NoteVerifier) -> None:
    with pytest.raises(VerificationError):
        open_note(note, [peter])


def test_text_may_contain_blank_lines() -> None:
    signer = NoteSigner.generate("quasimodo.example/salvatore")
    text = (
        "Ognuno sta solo sul cuor della terra\n"
        "trafitto da un raggio di sole:\n"
        "\n"
        "ed è subito sera.\n"
    )
    assert open_note(signer.sign(text), [signer.verifier()]) == text
    assert open_note(signer.sign("\n"), [signer.verifier()]) == "\n"


@settings(max_examples=50)
@given(st.text(st.characters(exclude_categories=["Cs", "Cc"]) | st.just("\n")))
def test_sign_then_open_round_trips(body: str) -> None:
    signer = NoteSigner.from_private_key(PETER_SKEY)
    text = body + "\n"
    assert open_note(signer.sign(text), [signer.verifier()]) == text


# --- keys --------------------------------------------------------------------------------------


def test_generated_keys_round_trip() -> None:
    signer = NoteSigner.generate("jiuyuan.example/log")
    again = NoteSigner.from_private_key(signer.private_key_text())
    assert again == signer
    assert again.sign("x\n") == signer.sign("x\n")
    assert NoteVerifier.from_verifier_key(signer.verifier_key()) == signer.verifier()
    assert signer.verifier() == NoteVerifier.from_public_key(signer.name, signer.public_key_bytes)
    assert "PRIVATE" not in repr(signer)


@pytest.mark.parametrize(
    "name", ["", "a b", "a+b", "a\tb", "a\nb", "a\u00a0b", "a\u3000b", "a\u2028b", "\ud800"]
)
def test_invalid_key_names(name: str) -> None:
    assert not is_valid_key_name(name)
    with pytest.raises(LedgerError):
        NoteSigner.generate(name)


def test_valid_key_names() -> None:
    for name in ["PeterNeumann", "example.com/log", "久远.example/日志", "a—b"]:
        assert is_valid_key_name(name)
        assert NoteSigner.generate(name).name == name


def _vkey_manglings() -> list[str]:
    # Go's TestNewVerifier: every proper substring and every single-byte increment must fail.
    out = [
        PETER_VKEY[i:j]
        for i in range(len(PETER_VKEY) + 1)
        for j in range(i + 1, len(PETER_VKEY) + 1)
        if (i, j) != (0, len(PETER_VKEY))
    ]
    for i, char in enumerate(PETER_VKEY):
        out.append(PETER_VKEY[:i] + chr(ord(char) + 1) + PETER_VKEY[i + 1 :])
    return out


def test_mangled_verifier_keys_are_rejected() -> None:
    for vkey in _vkey_manglings():
        with pytest.raises(VerificationError):
            NoteVerifier.from_verifier_key(vkey)


@pytest.mark.parametrize(
    "vkey",
    [
        # From Go's TestNewVerifier: wrong key length and unknown algorithm, hashes adjusted.
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+0xc74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f_20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",
        "PeterNeumann+c74f20a3+",
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ],
)
def test_malformed_verifier_keys(vkey: str) -> None:
    with pytest.raises(VerificationError):
        NoteVerifier.from_verifier_key(vkey)


def test_verifier_key_hash_accepts_upper_case_hex_like_go() -> None:
    upper = PETER_VKEY.replace("c74f20a3", "C74F20A3")
    assert NoteVerifier.from_verifier_key(upper).verifier_key() == PETER_VKEY


def test_verifier_construction_checks_the_hash(peter: NoteVerifier) -> None:
    with pytest.raises(VerificationError, match="key hash does not match"):
        NoteVerifier(peter.name, peter.key_hash ^ 1, peter.public_key_bytes)
    with pytest.raises(VerificationError, match="32 bytes"):
        NoteVerifier.from_public_key("x", b"\x00" * 31)


def test_mangled_private_keys_are_rejected() -> None:
    # Go's TestNewSigner, on a sample of substrings (all of them would be ~3,000 cases).
    cases = [PETER_SKEY[:j] for j in range(1, len(PETER_SKEY))]
    cases += [PETER_SKEY[i:] for i in range(1, len(PETER_SKEY))]
    cases += [
        PETER_SKEY[:i] + chr(ord(c) + 1) + PETER_SKEY[i + 1 :] for i, c in enumerate(PETER_SKEY)
    ]
    cases += [PETER_SKEY.replace("c74f20a3", "c74f20a4"), "PRIVATE+KEY+" + PETER_VKEY]
    for skey in cases:
        with pytest.raises(LedgerError):
            NoteSigner.from_private_key(skey)


@pytest.mark.parametrize(
    "text", ["", "no newline", "tab\tin text\n", "cr\r\n", "\x00\n", "\ud800\n", b"bytes\n"]
)
def test_sign_rejects_text_that_cannot_be_a_note(text: str) -> None:
    signer = NoteSigner.generate("example.com/log")
    with pytest.raises(LedgerError):
        signer.sign(text)
