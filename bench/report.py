"""What a benchmark hands back, and the one table that shows it."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table
from rich.text import Text


@dataclass(frozen=True, slots=True)
class Options:
    """How big and how often; ``python -m bench --help`` says what each is."""

    entries: int = 1_000_000
    appends: int = 50_000
    reps: int = 5
    verify_reps: int = 3
    clients: int = 16
    per_request: int = 100
    proof_calls: int = 200
    scans: int = 1_000_000
    """Consumer scans the compliance benchmark generates (its batch detection input)."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """A figure measured in the same run, and the ratio ``figure / baseline``."""

    name: str
    figure: str
    ratio: float


@dataclass(frozen=True, slots=True)
class Target:
    text: str
    met: bool


@dataclass(frozen=True, slots=True)
class Row:
    section: str
    measure: str
    figure: str
    runs: str
    baselines: Sequence[Baseline] = ()
    targets: Sequence[Target] = field(default_factory=tuple)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p99(values: Sequence[float]) -> float:
    """The 99th percentile, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-99 * len(ordered) // 100) - 1))]


def rate(value: float) -> str:
    return f"{value:,.0f}/s"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.3f} ms"


_progress = Console(stderr=True)


def note(message: str) -> None:
    """Say on stderr what the benchmark is doing, so a long run does not look stuck."""
    _progress.log(message)


def render(title: str, notes: Sequence[str], rows: Sequence[Row]) -> None:
    """Print every row in one table, a section per benchmark part, ``notes`` below it."""
    table = Table(
        title=title, caption="\n".join(notes), title_justify="left", caption_justify="left"
    )
    table.add_column("measure", no_wrap=True)
    table.add_column("figure", justify="right", no_wrap=True)
    table.add_column("runs", justify="right", no_wrap=True)
    table.add_column("baseline, same run", no_wrap=True)
    table.add_column("baseline figure", justify="right", no_wrap=True)
    table.add_column("ratio", justify="right", no_wrap=True)
    table.add_column("target", no_wrap=True)
    table.add_column("", no_wrap=True)
    section = None
    for row in rows:
        if row.section != section:
            if section is not None:
                table.add_section()
            table.add_row(Text(row.section, style="bold"))
            section = row.section
        marks = [Text("✓ pass", "green") if t.met else Text("✗ short", "red") for t in row.targets]
        table.add_row(
            Text(f"  {row.measure}"),
            Text(row.figure),
            Text(row.runs),
            Text("\n".join(b.name for b in row.baselines)),
            Text("\n".join(b.figure for b in row.baselines)),
            Text("\n".join(f"{b.ratio:.2f}×" for b in row.baselines)),
            Text("\n".join(t.text for t in row.targets)),
            Text("\n").join(marks),
        )
    console = Console()
    if not console.is_terminal:
        # Piped into a file or a CI log: as wide as the table needs (it does not expand),
        # one line per figure and nothing cut short.
        console = Console(width=1000)
    console.print(table)
