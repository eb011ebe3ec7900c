"""``jiuyuan append``: entries from a JSON-lines file, and a line it cannot take."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli import invoke


def _append(env: dict[str, str], path: Path) -> tuple[int, str]:
    result = invoke(env, "append", str(path))
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


def test_a_file_with_a_bad_line_appends_nothing_however_late_the_line(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    source = tmp_path / "entries.jsonl"
    good = '{"kind": "note.test", "payload": {"n": 1}}\n'
    max_per_batch = int(cli_env.get("JIUYUAN_MAX_ENTRIES_PER_REQUEST", "1000"))
    source.write_text(good * (2 * max_per_batch + 1) + "not json\n")
    code, output = _append(cli_env, source)
    assert code == 2, output
    assert f"line {2 * max_per_batch + 2}:" in output and "nothing was appended" in output
    assert '"seq"' not in output
    source.write_bytes(good.encode() + b'{"kind": "note.test", "payload": {"s": "\xff"}}\n')
    code, output = _append(cli_env, source)
    assert code == 2 and "line 2 is not UTF-8 text" in output, output
    source.write_text("\n  \n")
    code, output = _append(cli_env, source)
    assert code == 2 and "no entries in" in output, output
    source.write_text(good)
    code, output = _append(cli_env, source)
    appended = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert code == 0 and [a["seq"] for a in appended] == [0], output
