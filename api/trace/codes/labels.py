"""A printable HTML label sheet of sample codes: QR (SVG), serial and product, A4 grid."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from api.trace.codes import qr

_STYLE = """
@page{size:A4;margin:10mm}body{font-family:system-ui,"PingFang SC",sans-serif;margin:0}
.sheet{display:grid;grid-template-columns:repeat(4,45mm);gap:4mm}
.label{border:0.2mm dashed #999;padding:2mm;text-align:center;break-inside:avoid}
.label svg{width:32mm;height:32mm}.s{font:7pt ui-monospace,monospace;word-break:break-all}
.p{font-size:7pt}
"""


def sheet(title: str, product: str, uris: Sequence[tuple[str, str]]) -> str:
    """``uris``: (URI, serial) pairs, one label each."""
    labels = "".join(
        f"<div class='label'>{qr.svg_inline(uri)}<div class='p'>{escape(product)}</div>"
        f"<div class='s'>{escape(serial)}</div></div>"
        for uri, serial in uris
    )
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<div class='sheet'>{labels}</div></body></html>"
    )
