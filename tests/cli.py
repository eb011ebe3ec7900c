"""Running ``jiuyuan`` commands in the test's process (a process per call costs seconds)."""

from __future__ import annotations

from collections.abc import Mapping

from typer.testing import CliRunner, Result

from api.cli import app
from api.config import get_settings


def invoke(env: Mapping[str, str], *args: str) -> Result:
    """``jiuyuan ARGS`` with the settings read from ``env``; its exit code and output."""
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args), env=dict(env))
    finally:
        get_settings.cache_clear()
