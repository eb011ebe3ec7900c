"""``jiuyuan``: what any command says for an error a person can fix — one line and an exit
code, never a traceback (``api.cli_errors``)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pydantic
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ArgumentError, OperationalError

from api.cli_errors import explain
from api.config import Settings
from api.log.signing import SigningKeyMissing
from tests.cli import run

URI = "https://jiuyuan.local/01/06901234567892/10/L1/21/ABC"


def _operational(message: str) -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception(message))


def _settings_error() -> pydantic.ValidationError:
    try:
        Settings(lookup_rate_per_s=-1)
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError("a negative rate was taken")


@pytest.mark.parametrize(
    ("error", "code", "words"),
    [
        (_operational("no such table: trace_batches"), 1, "run `jiuyuan db upgrade`"),
        (_operational('relation "trace_codes" does not exist'), 1, "`jiuyuan db upgrade`"),
        (_operational("database is locked"), 1, "locked by another writer"),
        (_operational("connection failed: Connection refused"), 1, "cannot reach the database"),
        (ArgumentError("Could not parse SQLAlchemy URL"), 2, "JIUYUAN_DATABASE_URL"),
        (_settings_error(), 2, "JIUYUAN_LOOKUP_RATE_PER_S: Input should be greater than 0"),
        (FileNotFoundError(errno.ENOENT, "No such file", "in.jsonl"), 2, "in.jsonl: no such"),
        (IsADirectoryError(errno.EISDIR, "Is a directory", "out"), 2, "out: is a directory"),
        (PermissionError(errno.EACCES, "Permission denied", "k"), 2, "k: permission denied"),
        (OSError(errno.ENOSPC, "No space left on device", "o.txt"), 1, "o.txt: No space"),
        (OSError(errno.EFBIG, "File too large"), 1, "File too large; nothing was kept"),
        (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "bad"), 2, "not UTF-8"),
        (OverflowError("Python int too large to convert to SQLite INTEGER"), 2, "out of range"),
        (SigningKeyMissing("no checkpoint signing key; create one"), 1, "create one"),
    ],
)
def test_an_error_a_person_can_fix_is_one_line(error: Exception, code: int, words: str) -> None:
    said = explain(error)
    assert said is not None and said[0] == code, said
    assert words in said[1] and "\n" not in said[1]


def test_a_bug_keeps_its_traceback() -> None:
    assert explain(KeyError("x")) is None
    assert explain(OSError(errno.EINVAL, "Invalid argument")) is None


def test_a_database_without_its_schema_says_what_to_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    create_engine(url).connect().execute(text("SELECT 1")).close()
    env = {"JIUYUAN_DATA_DIR": str(tmp_path), "JIUYUAN_DATABASE_URL": url}
    assert run(monkeypatch, env, "codes", "list") == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "error: the database has no schema yet, or an older one: run `jiuyuan db upgrade` first"
    ]
    assert run(monkeypatch, {**env, "JIUYUAN_DATABASE_URL": "garbage"}, "codes", "list") == 2
    assert "JIUYUAN_DATABASE_URL" in capsys.readouterr().err


def test_an_image_is_written_whole_or_not_at_all(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    env = {"JIUYUAN_DATA_DIR": str(tmp_path)}
    missing = tmp_path / "no" / "qr.png"
    assert run(monkeypatch, env, "codes", "qr", URI, "--out", str(missing)) == 2
    assert f"{missing.parent}: no such file or directory" in capsys.readouterr().err
    (tmp_path / "dir.png").mkdir()
    assert run(monkeypatch, env, "codes", "qr", URI, "--out", str(tmp_path / "dir.png")) == 2
    assert "dir.png: is a directory" in capsys.readouterr().err
    # An existing file is replaced by a new one, never written over in place.
    out = tmp_path / "qr.svg"
    out.write_text("old")
    out.chmod(0o600)
    before = out.stat().st_ino
    assert run(monkeypatch, env, "codes", "qr", URI, "--out", str(out)) == 0
    assert out.read_text().startswith("<?xml") and out.stat().st_ino != before
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == []
