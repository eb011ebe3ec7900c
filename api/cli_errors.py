"""What the ``jiuyuan`` command says when a run fails for a reason a person can fix.

Each command turns its own domain errors into one line (``error: …``) and an exit code. What
any command can meet besides — a file that is not there, a database without its schema or out
of reach, a setting out of range — is said here, once, for all of
them (:func:`explain`), instead of as a traceback. Exit codes: 2 when the input or the
settings are wrong (fix them and run again), 1 when the run could not be done as things are
(the database is locked or unreachable, the disk is full). Anything else is a bug, and keeps
its traceback.
"""

from __future__ import annotations

import errno
import traceback

import pydantic
from sqlalchemy import exc as sa_exc

from api.log.signing import SigningKeyMissing
from ledger.errors import LedgerError

WRONG_INPUT = 2
CANNOT_RUN = 1

_FILE_PROBLEMS: dict[type[OSError], str] = {
    FileNotFoundError: "no such file or directory",
    IsADirectoryError: "is a directory",
    NotADirectoryError: "a part of the path is not a directory",
    PermissionError: "permission denied",
    FileExistsError: "already exists, and is not a directory",
}
_ENVIRONMENT = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS)
"""File errors of the machine, not of the path given."""


def explain(exc: BaseException) -> tuple[int, str] | None:
    """(exit code, one line) for an error a person can act on; None for a bug."""
    if isinstance(exc, pydantic.ValidationError):
        return WRONG_INPUT, _setting(exc)
    if isinstance(exc, sa_exc.ArgumentError | sa_exc.NoSuchModuleError) or _driver_missing(exc):
        return WRONG_INPUT, (
            f"JIUYUAN_DATABASE_URL is not a database this service can use ({_first_line(exc)}): "
            "give sqlite:///PATH or postgresql+psycopg://USER@HOST/DATABASE"
        )
    if isinstance(exc, sa_exc.OperationalError | sa_exc.ProgrammingError):
        return CANNOT_RUN, _database(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        return _file(exc)
    if isinstance(exc, OSError) and exc.errno in _ENVIRONMENT:
        return CANNOT_RUN, f"cannot write the output: {exc.strerror}; nothing was kept"
    if isinstance(exc, UnicodeDecodeError):
        return WRONG_INPUT, f"the input is not UTF-8 text (byte {exc.start}: {exc.reason})"
    if isinstance(exc, OverflowError):
        return WRONG_INPUT, f"a number is out of range: {exc}"
    if isinstance(exc, SigningKeyMissing | LedgerError):
        return CANNOT_RUN, _first_line(exc)
    return None


def _setting(exc: pydantic.ValidationError) -> str:
    """The settings' errors by their variables' names (``JIUYUAN_…``); another model's by
    its fields'."""
    said = []
    for error in exc.errors():
        name = ".".join(str(p) for p in error.get("loc", ()))
        if exc.title == "Settings":
            name = f"JIUYUAN_{name.upper()}" if name else "a setting"
        said.append(f"{name or exc.title}: {error.get('msg')}")
    return "; ".join(said)


def _database(exc: sa_exc.DBAPIError) -> str:
    told = _first_line(exc.orig) if exc.orig is not None else _first_line(exc)
    lowered = told.lower()
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return "the database has no schema yet, or an older one: run `jiuyuan db upgrade` first"
    if "database is locked" in lowered:
        return "the database is locked by another writer; run this again once that has finished"
    if exc.connection_invalidated or "connect" in lowered or "timeout expired" in lowered:
        return f"cannot reach the database named by JIUYUAN_DATABASE_URL: {told}"
    return f"the database refused the command: {told}"


def _file(exc: OSError) -> tuple[int, str]:
    problem = _FILE_PROBLEMS.get(type(exc))
    if problem is not None:
        return WRONG_INPUT, f"{exc.filename}: {problem}"
    code = CANNOT_RUN if exc.errno in _ENVIRONMENT else WRONG_INPUT
    return code, f"{exc.filename}: {exc.strerror or exc}"


def _driver_missing(exc: BaseException) -> bool:
    """A database driver SQLAlchemy tried to import for the URL given (``mysql://``…)."""
    if not isinstance(exc, ModuleNotFoundError):
        return False
    frames = traceback.extract_tb(exc.__traceback__)
    return any("sqlalchemy/dialects" in f.filename.replace("\\", "/") for f in frames)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
