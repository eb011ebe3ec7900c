"""Tests of ledger.checkpoint: the C2SP example, Go's sumdb tree note, and strict parsing."""

from __future__ import annotations

import base64
from hashlib import sha256

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.checkpoint import MAX_TREE_SIZE, Checkpoint, sign_checkpoint, verify_checkpoint
from ledger.errors import VerificationError
from ledger.note import NoteSigner, open_note

ORIGIN = "jiuyuan.example/log"
ROOT = sha256(b"root").digest()

# c2sp.org/tlog-checkpoint's example (its public key is not published, so only the text is used).
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_NOTE = (
    SPEC_BODY + "\n— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)

# golang.org/x/mod/sumdb/tlog/note_test.go (TestFormatTree): RecordHash("hello world") is the
# RFC 6962 leaf hash SHA-256(0x00 || "hello world").
GO_TREE = "go.sum database tree\n123456789012\nTszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=\n"


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return NoteSigner.generate(ORIGIN)


def test_spec_example_parses() -> None:
    checkpoint = Checkpoint.parse(SPEC_BODY)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert checkpoint.extensions == ()
    assert checkpoint.body() == SPEC_BODY


def test_spec_example_signature_is_not_ours(signer: NoteSigner) -> None:
    # Same key name, different key: the spec's signature is ignored, leaving none trusted.
    impostor = NoteSigner.generate("example.com/behind-the-sofa").verifier()
    with pytest.raises(VerificationError, match="no signature by a trusted key"):
        verify_checkpoint(SPEC_NOTE, impostor)


def test_go_tree_note_known_answer() -> None:
    leaf = sha256(b"\x00hello world").digest()
    checkpoint = Checkpoint("go.sum database tree", 123456789012, leaf)
    assert checkpoint.body() == GO_TREE
    assert Checkpoint.parse(GO_TREE) == checkpoint


def test_sign_and_verify(signer: NoteSigner) -> None:
    checkpoint = Checkpoint(ORIGIN, 42, ROOT)
    note = sign_checkpoint(checkpoint, signer)
    assert note.startswith(checkpoint.body() + "\n— " + ORIGIN + " ")
    assert verify_checkpoint(note, signer.verifier()) == checkpoint
    assert verify_checkpoint(note, signer.verifier(), origin=ORIGIN) == checkpoint


def test_extension_lines_round_trip(signer: NoteSigner) -> None:
    checkpoint = Checkpoint(ORIGIN, 0, bytes(32), ("Timestamp: 1700000000", "时间 2026"))
    assert checkpoint.body().endswith("\nTimestamp: 1700000000\n时间 2026\n")
    note = sign_checkpoint(checkpoint, signer)
    assert verify_checkpoint(note, signer.verifier()) == checkpoint


@given(
    size=st.integers(0, MAX_TREE_SIZE),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(
        st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1), max_size=3
    ).map(tuple),
)
def test_body_parse_round_trip(size: int, root: bytes, extensions: tuple[str, ...]) -> None:
    checkpoint = Checkpoint(ORIGIN, size, root, extensions)
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_origin_must_match_when_given(signer: NoteSigner) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), signer)
    with pytest.raises(VerificationError, match=r"expected 'other\.example/log'"):
        verify_checkpoint(note, signer.verifier(), origin="other.example/log")


def test_key_name_need_not_equal_origin() -> None:
    # As in Go's checksum database: key sum.golang.org signs "go.sum database tree".
    sumdb = NoteSigner.generate("sum.golang.org")
    note = sumdb.sign(GO_TREE)
    checkpoint = verify_checkpoint(note, sumdb.verifier(), origin="go.sum database tree")
    assert checkpoint.size == 123456789012


def test_wrong_key_is_rejected(signer: NoteSigner) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 1, ROOT), signer)
    other = NoteSigner.generate(ORIGIN)
    with pytest.raises(VerificationError):
        verify_checkpoint(note, other.verifier())


def test_witness_cosignatures_are_ignored(signer: NoteSigner) -> None:
    checkpoint = Checkpoint(ORIGIN, 7, ROOT)
    witness = NoteSigner.generate("witness.example/w1")
    note = sign_checkpoint(checkpoint, signer)
    cosigned = note + sign_checkpoint(checkpoint, witness).split("\n\n", 1)[1]
    assert verify_checkpoint(cosigned, signer.verifier()) == checkpoint
    assert open_note(cosigned, [signer.verifier(), witness.verifier()]) == checkpoint.body()


def test_tampering_is_rejected(signer: NoteSigner) -> None:
    note = sign_checkpoint(Checkpoint(ORIGIN, 42, ROOT), signer)
    for index in range(len(note)):
        changed = note[:index] + ("7" if note[index] != "7" else "8") + note[index + 1 :]
        with pytest.raises(VerificationError):
            verify_checkpoint(changed, signer.verifier())


def test_a_signed_text_that_is_not_a_checkpoint_is_rejected(signer: NoteSigner) -> None:
    note = signer.sign(f"{ORIGIN}\n042\n{base64.b64encode(ROOT).decode()}\n")
    with pytest.raises(VerificationError, match="bad tree size"):
        verify_checkpoint(note, signer.verifier())


ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_B64 = base64.urlsafe_b64encode(bytes([0xFF]) * 32).decode()
# The same 32 bytes as ROOT_B64 with a padding bit set: the last digit before "=" ends in 2 padding
# bits (ROOT_B64 ends "7I=", and I is digit 8, so J, digit 9, encodes the same bytes).
NONZERO_PADDING_B64 = ROOT_B64[:-2] + "J="


def test_nonzero_padding_is_another_spelling_of_the_root() -> None:
    assert ROOT_B64.endswith("I=")
    assert base64.b64decode(NONZERO_PADDING_B64) == ROOT
    with pytest.raises(VerificationError, match="not canonical base64"):
        Checkpoint.parse(f"{ORIGIN}\n1\n{NONZERO_PADDING_B64}\n")


@pytest.mark.parametrize(
    "text",
    [
        f"{ORIGIN}\n1\n{ROOT_B64}",  # no final newline
        f"{ORIGIN}\n1\n",  # no root hash
        f"{ORIGIN}\n",
        "",
        f"\n1\n{ROOT_B64}\n",  # empty origin
        f"{ORIGIN}\n01\n{ROOT_B64}\n",  # leading zero
        f"{ORIGIN}\n00\n{ROOT_B64}\n",
        f"{ORIGIN}\n-1\n{ROOT_B64}\n",
        f"{ORIGIN}\n+1\n{ROOT_B64}\n",
        f"{ORIGIN}\n 1\n{ROOT_B64}\n",
        f"{ORIGIN}\n1_000\n{ROOT_B64}\n",
        f"{ORIGIN}\n\u0661\n{ROOT_B64}\n",  # ARABIC-INDIC DIGIT ONE
        f"{ORIGIN}\n0x10\n{ROOT_B64}\n",
        f"{ORIGIN}\n{MAX_TREE_SIZE + 1}\n{ROOT_B64}\n",
        f"{ORIGIN}\n{'9' * 5000}\n{ROOT_B64}\n",
        f"{ORIGIN}\n\n{ROOT_B64}\n",
        f"{ORIGIN}\n1\n{ROOT_B64.rstrip('=')}\n",  # unpadded
        f"{ORIGIN}\n1\n{URLSAFE_B64}\n",  # URL alphabet
        f"{ORIGIN}\n1\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31 bytes
        f"{ORIGIN}\n1\n{base64.b64encode(ROOT + b'x').decode()}\n",  # 33 bytes
        f"{ORIGIN}\n1\n{NONZERO_PADDING_B64}\n",
        f"{ORIGIN}\n1\n{ROOT_B64}\n\n",  # empty extension line
        f"{ORIGIN}\n1\n{ROOT_B64}\next\n\n",
        f"{ORIGIN}\r\n1\n{ROOT_B64}\n",
        f"{ORIGIN}\n1\n{ROOT_B64}\next\tension\n",
    ],
)
def test_malformed_bodies_are_rejected(text: str) -> None:
    with pytest.raises(VerificationError):
        Checkpoint.parse(text)


@pytest.mark.parametrize(
    ("origin", "size", "root", "extensions"),
    [
        ("", 1, ROOT, ()),
        ("a\nb", 1, ROOT, ()),
        (ORIGIN, -1, ROOT, ()),
        (ORIGIN, MAX_TREE_SIZE + 1, ROOT, ()),
        (ORIGIN, True, ROOT, ()),
        (ORIGIN, 1, ROOT[:31], ()),
        (ORIGIN, 1, ROOT.hex(), ()),
        (ORIGIN, 1, ROOT, ("",)),
        (ORIGIN, 1, ROOT, ("a\nb",)),
        (ORIGIN, 1, ROOT, ["list"]),
    ],
)
def test_invalid_checkpoints_cannot_be_built(
    origin: object, size: object, root: object, extensions: object
) -> None:
    with pytest.raises(VerificationError):
        Checkpoint(origin, size, root, extensions)  # type: ignore[arg-type]


def test_checkpoints_are_frozen_values() -> None:
    checkpoint = Checkpoint(ORIGIN, 1, ROOT)
    assert checkpoint == Checkpoint(ORIGIN, 1, ROOT)
    assert hash(checkpoint) == hash(Checkpoint(ORIGIN, 1, ROOT))
    with pytest.raises(AttributeError):
        checkpoint.size = 2  # type: ignore[misc]
