"""Running ``jiuyuan`` commands in the test's process (a process per call costs seconds):
``invoke`` the commands, or ``run`` them as the console script does (its error handling)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from typer.testing import CliRunner, Result

from api.cli import app, main
from api.config import get_settings


def invoke(env: Mapping[str, str], *args: str) -> Result:
    """``jiuyuan ARGS`` with the settings read from ``env``; its exit code and output."""
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=dict(env))
    finally:
        get_settings.cache_clear()


def run(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], *args: str) -> int:
    """``jiuyuan ARGS`` in this process (as the console script runs it); its exit code."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.argv", ["jiuyuan", *args])
    get_settings.cache_clear()
    try:
        main()
    except SystemExit as done:
        return int(done.code or 0)
    finally:
        get_settings.cache_clear()
    return 0
