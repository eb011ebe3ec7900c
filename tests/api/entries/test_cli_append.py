"""``jiuyuan append``: entries from a JSON-lines file, and a line it cannot take."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from api.config import get_settings


def _append(env: dict[str, str], path: Path) -> tuple[int, str]:
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["append", str(path)], env=env)
    finally:
        get_settings.cache_clear()
    return result.exit_code, result.output


def test_a_line_nested_too_deep_is_refused_by_its_number(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "entries.jsonl"
    nested = "[" * 100_000 + "]" * 100_000
    source.write_text(
        '{"kind": "note.test", "payload": {"n": 1}}\n'
        f'{{"kind": "note.test", "payload": {nested}}}\n'
    )
    code, output = _append(cli_env, source)
    assert code == 2, output
    assert "line 2" in output and "nested too deeply" in output
    source.write_text('{"kind": "note.test", "payload": {"n": 1}}\n')
    code, output = _append(cli_env, source)
    assert code == 0, output
    appended = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert len(appended) == 1 and appended[0]["seq"] == 0  # nothing of the refused file stayed
