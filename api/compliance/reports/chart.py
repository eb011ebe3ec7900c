"""A server-rendered SVG bar chart of diversion rates (no plotting library, no script)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape

from api.compliance.reports.rates import RateRow

BAR_HEIGHT = 22
LABEL_WIDTH = 220
PLOT_WIDTH = 480


def rates_svg(
    rows: Sequence[RateRow], title: str, labels: Mapping[str, str] | None = None, top: int = 25
) -> str:
    """Horizontal bars of the suspected rate (light) with the confirmed rate over it (dark),
    in per mille of shipped cases, for the ``top`` rows."""
    shown = list(rows[:top])
    labels = labels or {}
    peak = max([r.suspected_permille for r in shown] + [1])
    height = 60 + BAR_HEIGHT * max(len(shown), 1) + 30
    width = LABEL_WIDTH + PLOT_WIDTH + 120
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="10" y="24" font-size="16" font-weight="bold">{escape(title)}</text>',
        '<text x="10" y="44" fill="#555">‰ of shipped cases: '
        '<tspan fill="#e8a33d">■</tspan> suspected <tspan fill="#b0302a">■</tspan> confirmed'
        "</text>",
    ]
    if not shown:
        parts.append('<text x="10" y="80">No cases shipped yet.</text>')
    for i, r in enumerate(shown):
        y = 60 + i * BAR_HEIGHT
        suspected = round(PLOT_WIDTH * r.suspected_permille / peak)
        confirmed = round(PLOT_WIDTH * r.confirmed_permille / peak)
        label = labels.get(r.key, r.key)
        parts += [
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 15}" text-anchor="end">{escape(label)}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{suspected}" height="{BAR_HEIGHT - 6}" '
            'fill="#e8a33d"/>',
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{confirmed}" height="{BAR_HEIGHT - 6}" '
            'fill="#b0302a"/>',
            f'<text x="{LABEL_WIDTH + suspected + 6}" y="{y + 15}" fill="#333">'
            f"{r.suspected_permille}‰ ({r.suspected}/{r.shipped})</text>",
        ]
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
